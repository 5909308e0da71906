#!/usr/bin/env bash
# npm run bench:gate — the quality gate's decisions on constructed cases (bench/gate_bench.py).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$([ -x "$root/.venv/bin/python" ] && echo "$root/.venv/bin/python" || echo python3)}"
export PYTHONPATH="$root/training-image${PYTHONPATH:+:$PYTHONPATH}"
exec "$PYTHON" "$root/bench/gate_bench.py" "$@"
