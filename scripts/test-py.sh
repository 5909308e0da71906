#!/usr/bin/env bash
# Runs the trainer's pytest suite in the repo-root .venv (created/refreshed by py-env.sh).
# pytest's closing summary line is the last thing printed; the exit code is pytest's
# (non-zero on any failure). Extra arguments go to pytest (e.g. -k fine_tune).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/py-env.sh"
cd "$root"
exec "$root/.venv/bin/python" -m pytest training-image/tests -q -p no:cacheprovider "$@"
