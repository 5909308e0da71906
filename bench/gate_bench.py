"""Gate benchmark: the trainer's quality gate on constructed cases, each a real trainer run (child
process, tiny random BERT on the synthetic ticket data) against a real champion version.

Cases (the champion is v1, trained on `BENCH_GATE_SMALL` rows per label):
- more data: the same distribution with 6× the rows → must promote (better beyond noise);
- worse: the champion's own rows with the labels of its TRAINING rows shuffled (the validation
  rows, found with the trainer's own hash split, keep their true labels, so both models are
  scored on the same, correctly labelled rows) → must not promote;
- reordered: the champion's file with its rows reordered → must be a tie on
  identical validation rows (same split fingerprint).
Writes bench/results/gate.json with ratio `correct_decisions` (share decided right).
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training-image"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "training-image" / "tests"))

from tiny_model import build_tiny_bert, write_synthetic_csv  # noqa: E402
from train_bench import machine  # noqa: E402

SMALL = int(os.environ.get("BENCH_GATE_SMALL", "60"))
MODEL_NAME = "gate-bench"  # the split's salt
# validationFraction 0.3: enough validation rows (~50 at the default size) for the paired bootstrap.
PARAMS = {"epochs": 8, "batchSize": 16, "learningRate": 2e-3, "maxLength": 32, "earlyStoppingPatience": 0, "validationFraction": 0.3,
          "quantize": False, "logEverySteps": 20, "gate": {"minAccuracy": 0, "minRows": 20}}


def train(run_id: str, data: Path, out: Path, model: Path, seed: int, champion: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROPTUNE_")}
    env.update({"DROPTUNE_RUN_ID": run_id, "DROPTUNE_DATASET_URI": f"file://{data}", "DROPTUNE_OUTPUT_URI": f"file://{out}/",
                "DROPTUNE_PARAMS": json.dumps({**PARAMS, "baseModel": str(model), "seed": seed}), "DROPTUNE_MODEL_NAME": MODEL_NAME,
                "PYTHONPATH": str(ROOT / "training-image")})
    env.setdefault("OMP_NUM_THREADS", "1")  # a shared CPU machine: idle OpenMP threads spin and slow every run
    if champion:
        env["DROPTUNE_CHAMPION_URI"] = f"file://{champion}/"
    print(f"bench:gate: training {run_id}", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, "-m", "droptune_trainer"], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"bench:gate: {run_id} failed (exit {proc.returncode})")
    return json.loads((out / "metrics.json").read_text())


def rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.open(encoding="utf-8")))[1:]


def write(path: Path, body: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["text", "label"], *body])
    return path


def shuffle_training_labels(body: list[list[str]], rng: random.Random) -> list[list[str]]:
    """Permutes the labels among the rows the trainer's hash split puts in training; validation
    rows keep theirs. A model trained on it is worse by construction, yet scored on true labels."""
    from droptune_trainer.params import Params
    from droptune_trainer.split import Row, split_rows
    from droptune_trainer.text_key import text_key

    split = split_rows([Row(text, label, i + 2) for i, (text, label) in enumerate(body)],
                       PARAMS.get("validationFraction", Params().validationFraction), MODEL_NAME)
    train_keys = {e.key for e in split.train}
    train_at = [i for i, (text, _) in enumerate(body) if text_key(text, MODEL_NAME) in train_keys]
    labels = [body[i][1] for i in train_at]
    rng.shuffle(labels)
    out = [row[:] for row in body]
    for i, label in zip(train_at, labels):
        out[i][1] = label
    return out


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="droptune-gate-bench-") as tmp:
        t = Path(tmp)
        model = build_tiny_bert(t / "tiny-bert", seed=0)
        small = write_synthetic_csv(t / "small.csv", rows_per_label=SMALL, seed=1)
        more = rows(write_synthetic_csv(t / "extra.csv", rows_per_label=SMALL * 5, seed=2))
        rng = random.Random(3)
        base = rows(small)
        shuffled = shuffle_training_labels(base, rng)
        reordered = base[:]
        rng.shuffle(reordered)
        champion = t / "v1"
        v1 = train("v1", small, champion, model, seed=11)
        cases = [
            ("more data, same distribution", write(t / "more.csv", base + more), {"promote"}, None),
            ("worse: training labels shuffled", write(t / "worse.csv", shuffled), {"hold"}, None),
            ("same data reordered", write(t / "reordered.csv", reordered), {"promote", "hold"}, "equal within noise"),
        ]
        results = []
        for i, (name, data, allowed, reason) in enumerate(cases):
            m = train(f"c{i}", data, t / f"c{i}", model, seed=11, champion=champion)
            gate = m["gate"]
            right = gate["decision"] in allowed and (reason is None or gate["reason"].startswith(reason))
            if data.name != "more.csv":  # the champion's rows: the validation rows must be the very same
                right = right and m["split"]["fingerprint"] == v1["split"]["fingerprint"]
            results.append({"case": name, "decision": gate["decision"], "correct": right, "challenger": gate["challenger"],
                            "champion": gate["champion"], "rows": gate["rows"], "ci95": gate.get("ci95"), "reason": gate["reason"],
                            "served": m["baseline"]["served"], "sameValidationRows": m["split"]["fingerprint"] == v1["split"]["fingerprint"]})
            print(f"bench:gate: {name}: {gate['decision']} ({'right' if right else 'WRONG'}) — {gate['reason']}", file=sys.stderr, flush=True)
    correct = sum(r["correct"] for r in results) / len(results)
    doc = {"bench": "gate", "machine": machine(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "results": [{"system": "droptune", "metric": "decision", "value": 1.0 if r["correct"] else 0.0, "unit": "correct",
                        "conditions": {"model": "tiny random BERT (2 layers, 32 wide)", "champion_rows": SMALL * 3, **PARAMS}, **r}
                       for r in results],
           "ratios": {"correct_decisions": round(correct, 3)}}
    out = ROOT / "bench" / "results" / "gate.json"
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"correct_decisions {correct:.3f}; wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
