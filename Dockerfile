# The EBS's container image, built from a release binary rather than from
# source: the image then runs exactly the bytes whose SHA-256 the release
# publishes, and building it needs no registry and no compiler.
#
#   scripts/release 1.2.0                 # dist/1.2.0/ (or download a release)
#   scripts/container-image 1.2.0         # → image mgm-ebs:1.2.0 (podman, buildah or docker)
#
# The build context is the folder scripts/container-image stages, not the
# repository: mgm-ebs-linux-<arch> (the release binary), ca-certificates.crt
# (the build host's CA bundle, for Twitch's HTTPS APIs), passwd and group
# (the non-root user) and an empty data/.
#
# The final image is only that: no shell, no package manager, no curl (the
# health check is the binary's own `mgm-ebs healthcheck`). Configure it with
# environment variables (compose.yaml, .env.example); settings given as
# command-line flags would not reach the health check, which reads the same
# environment to find the listen address.
FROM scratch

ARG TARGETARCH=amd64
ARG VERSION=dev
ARG REVISION=unknown

COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY passwd group /etc/
COPY --chown=65532:65532 data /data
COPY mgm-ebs-linux-${TARGETARCH} /mgm-ebs

# The database and generated files live in the volume; the EBS listens on
# every interface of the container (the host decides what is published).
ENV Mgm__DataDir=/data \
    Mgm__Listen=0.0.0.0:8080 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/mgm-ebs", "healthcheck"]
ENTRYPOINT ["/mgm-ebs"]

LABEL org.opencontainers.image.title="mgm-ebs" \
      org.opencontainers.image.description="Mimiron's Gold-o-Matic EBS (Twitch Extension backend)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
