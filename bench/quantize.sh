#!/usr/bin/env bash
# npm run bench:quantize — int8 per-tensor vs per-channel against fp32 (bench/quantize_bench.py).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$([ -x "$root/.venv/bin/python" ] && echo "$root/.venv/bin/python" || echo python3)}"
export PYTHONPATH="$root/training-image${PYTHONPATH:+:$PYTHONPATH}"
exec "$PYTHON" "$root/bench/quantize_bench.py" "$@"
