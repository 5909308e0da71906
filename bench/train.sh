#!/usr/bin/env bash
# npm run bench:train — droptune's trainer vs Hugging Face Trainer, same model/data/hyper-
# parameters/machine, one run. Writes bench/results/train.json. Scale with BENCH_* env vars
# (see bench/train_bench.py). Uses the repo .venv when present (made by scripts/py-env.sh),
# else $PYTHON or python3 (e.g. a GPU machine's own PyTorch install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$root/.venv/bin/python" ] || [ "${CI:-}" = "true" ]; then
    bash "$root/scripts/py-env.sh"
    PYTHON="$root/.venv/bin/python"
  else
    PYTHON=python3
  fi
fi
export PYTHONPATH="$root/training-image${PYTHONPATH:+:$PYTHONPATH}"
exec "$PYTHON" "$root/bench/train_bench.py" "$@"
