// Package e2e holds the end-to-end test tiers of ../shared/spec/sim.md that
// span several programs: the EBS and the stand-ins on loopback ports, driven
// only over HTTP as the predecessor's CI scripts drove them.
package e2e
