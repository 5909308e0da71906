#!/usr/bin/env bash
# The trainer image's wheelhouse: every wheel of training-image/requirements.txt and what they
# need beyond it (setuptools for torch: pip freeze leaves it out of the lock), downloaded once
# per machine (pip skips files already there), printed as a path on stdout. The image build
# installs from it offline, so a rebuild never downloads torch and its CUDA wheels again. (pip's
# own HTTP cache does not help here: this machine's egress proxy makes PyPI's responses
# uncacheable, so ~/.cache/pip stays empty.)
# Prints nothing when this machine's Python cannot pick wheels for the image (then the build
# downloads them from PyPI itself).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/images-lib.sh

wheels="${DROPTUNE_WHEELHOUSE:-$HOME/.cache/droptune/wheels}"
mkdir -p "$wheels"
python=.venv/bin/python
[ -x "$python" ] || python=python3
# Native download: the wheels fit the image only if this Python is CPython 3.11 on x86_64 Linux
# (glibc ≥ bookworm's is not needed: the tags pip picks are the oldest manylinux that works here).
if ! "$python" -c 'import platform, sys; sys.exit(not (sys.version_info[:2] == (3, 11) and platform.machine() == "x86_64" and sys.platform == "linux"))' 2>/dev/null; then
  say "no CPython 3.11 on x86_64 Linux here: the build downloads the wheels itself"
  exit 0
fi
# pip is skipped while the lock's sha256 matches the one it last completed (like scripts/py-env.sh).
lock_sum=$(sha256sum training-image/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$wheels/.lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
  say "wheelhouse $wheels: downloading what is missing of training-image/requirements.txt"
  "$python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
    --dest "$wheels" -r training-image/requirements.txt >&2
  echo "$lock_sum" > "$wheels/.lock.sha256"
fi
echo "$wheels"
