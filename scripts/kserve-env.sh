#!/usr/bin/env bash
# Creates or refreshes .venv-kserve: KServe's Python client for the serving protocol test
# (training-image/tests/test_kserve_client.py). A venv of its own because kserve pins
# protobuf<7 and psutil<6, which the trainer's lock cannot hold. Cheap when up to date (a stamp
# holds the lock's sha256). Progress goes to stderr; prints nothing on stdout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-kserve"
lock="$root/serving/kserve-client/requirements.txt"
stamp="$venv/.droptune-requirements.sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"

[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
printf 'kserve-env: installing KServe'"'"'s client into %s\n' "$venv" >&2
PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --progress-bar off -r "$lock" 1>&2
printf '%s\n' "$want" > "$stamp"
