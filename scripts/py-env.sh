#!/usr/bin/env bash
# Creates or refreshes the repo-root Python environment (.venv) from the trainer's lock file
# (training-image/requirements.txt) and the trainer's check tools (requirements-dev.txt).
# Repeated runs are cheap: a stamp in .venv holds the sha256 of both and pip is skipped while it
# matches; pip's own cache (PIP_CACHE_DIR, default
# ~/.cache/pip) keeps wheels so a rebuilt venv does not download torch again.
# The training-image package is put on the venv's path with a .pth file (no build step).
# Progress goes to stderr; prints nothing on stdout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
lock="$root/training-image/requirements.txt"
dev="$root/training-image/requirements-dev.txt"
stamp="$venv/.droptune-requirements.sha256"
python="${PYTHON:-python3}"

log() { printf 'py-env: %s\n' "$*" >&2; }

want="$(cat "$lock" "$dev" | sha256sum | cut -d' ' -f1)"

if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv with $($python --version 2>&1)"
  "$python" -m venv "$venv"
fi

site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
printf '%s\n' "$root/training-image" > "$site/droptune-trainer.pth"

# KServe's client for the serving protocol test lives in a venv of its own (see kserve-env.sh).
bash "$root/scripts/kserve-env.sh" || log "KServe's client could not be installed; test_kserve_client.py will fail"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  log "up to date (lock sha256 ${want:0:12})"
  exit 0
fi

export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
log "installing $(grep -cv '^#' "$lock") pinned packages (cache: $PIP_CACHE_DIR)"
start=$(date +%s)
"$venv/bin/python" -m pip install --progress-bar off -r "$lock" -r "$dev" 1>&2
printf '%s\n' "$want" > "$stamp"
log "done in $(( $(date +%s) - start ))s"
