// Package deploy has no code: its tests hold the files that build and deploy
// the EBS outside Go — scripts/release (built twice, the same SHA256SUMS),
// the container image (Dockerfile, compose.yaml; built and inspected when a
// container builder is installed) and the systemd unit
// (deploy/mgm-ebs.service; systemd-analyze verify when installed).
package deploy
