#!/usr/bin/env bash
# Installs what the test suites need that npm and pip do not bring, once per machine:
#  - PostgreSQL server binaries (Debian package), for the store's real-server suite;
#  - fake-gcs-server (Go module, pinned), a GCS-compatible server for the gs:// adapter;
#  - Chromium (Debian package), for the web page's browser tests;
#  - podman, runc, mmdebstrap, uidmap (Debian packages), to build and run the trainer and serving
#    images from their Dockerfiles (scripts/images.sh) without a Docker engine or Docker Hub.
# Each step is skipped when the tool is already there. Progress goes to stderr.
set -euo pipefail

FAKE_GCS_VERSION=v1.56.1
say() { printf '[ensure-test-tools] %s\n' "$*" >&2; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    apt_updated=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >&2
}
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt_install postgresql
fi

gobin="${GOBIN:-$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin}"
if [ ! -x "$gobin/fake-gcs-server" ]; then
  if ! command -v go >/dev/null; then apt_install golang-go; fi
  say "building fake-gcs-server $FAKE_GCS_VERSION from the Go module proxy (about 2 minutes, once)"
  GOFLAGS=-mod=mod go install "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION" >&2
fi

if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium fonts-dejavu-core
fi

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v mmdebstrap >/dev/null \
  || ! command -v newuidmap >/dev/null; then
  apt_install podman runc mmdebstrap uidmap
fi
