#!/usr/bin/env bash
# Builds the base image the Dockerfiles start from (debian:bookworm-slim) from Debian's own
# packages with mmdebstrap, and imports it into podman under the same name, so the SAME
# Dockerfiles build here and in Cloud Build without pulling anything from Docker Hub.
#
# Like Docker's official -slim images: --variant=minbase (Essential + apt), no docs, man pages
# or locales. Skipped when the image exists (pass --force to rebuild).
#
# Local-only difference: the machine's extra CA certificates (/usr/local/share/ca-certificates,
# e.g. a TLS-inspecting egress proxy's CA) are copied in, so that the `ca-certificates` package
# the Dockerfiles install trusts them too. In Cloud Build that directory is empty.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/images-lib.sh

if [ "${1:-}" != --force ] && podman_ image exists "$BASE_IMAGE"; then
  say "$BASE_IMAGE present ($(podman_ image inspect --format '{{.Id}}' "$BASE_IMAGE" | cut -c1-12))"
  exit 0
fi

say "building $BASE_IMAGE with mmdebstrap --variant=minbase (Debian $DEBIAN_SUITE)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
extra_ca=()
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  mkdir -p "$tmp/ca"
  cp /usr/local/share/ca-certificates/*.crt "$tmp/ca/"
  extra_ca=(--customize-hook="mkdir -p \"\$1/usr/local/share/ca-certificates\" && cp $tmp/ca/*.crt \"\$1/usr/local/share/ca-certificates/\"")
fi
# merged-usr hook: /usr merged by mmdebstrap itself, so the usrmerge package and the perl it
# pulls in (~50 MB) stay out, as in Docker's debian images.
mmdebstrap --variant=minbase --quiet --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log' \
  "${extra_ca[@]}" \
  "$DEBIAN_SUITE" "$tmp/rootfs.tar" \
  "deb http://deb.debian.org/debian $DEBIAN_SUITE main" \
  "deb http://deb.debian.org/debian $DEBIAN_SUITE-updates main" \
  "deb http://deb.debian.org/debian-security $DEBIAN_SUITE-security main"
podman_ import --change 'CMD ["bash"]' "$tmp/rootfs.tar" "$BASE_IMAGE" >/dev/null
say "$BASE_IMAGE imported: $(podman_ image inspect --format '{{.Id}} {{.Size}}' "$BASE_IMAGE")"
