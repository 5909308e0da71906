# Shared settings of scripts/images-base.sh and scripts/images.sh (sourced, not run).
# podman as root without a Docker engine, measured on this machine: runc (crun fails with
# "cgroups in hybrid mode"), cgroupfs, host network, and ulimits no higher than these
# (higher ones fail with "operation not permitted").

# The Debian release every Dockerfile starts from (FROM debian:$DEBIAN_SUITE-slim).
DEBIAN_SUITE=bookworm
BASE_IMAGE="debian:${DEBIAN_SUITE}-slim"

podman_() { podman --runtime runc --cgroup-manager=cgroupfs "$@"; }
CONTAINER_FLAGS=(--network host --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
say() { printf '[images] %s\n' "$*" >&2; }
