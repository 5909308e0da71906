"""One training run, from the DROPTUNE_* environment to `manifest.json`.

Order matters: nothing but checkpoints is written until the model is trained and exported;
then the artifacts, then metrics, then the manifest last.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from .artifacts import ArtifactWriter, model_name_from
from .base_model import load_base_model
from .champion import champion_check
from .checkpoint import CheckpointStore
from .data import load_dataset
from .errors import TrainerError
from .export import check_parity, export_onnx, golden_vectors, onnx_scores, quantize_int8, save_tokenizer
from .onnx_eval import OnnxClassifier
from .params import Params, parse_params
from .storage import join, store_for
from .tracking import MetricsReporter
from .train_loop import pick_device, train

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class RunEnv:
    run_id: str
    dataset_uri: str
    output_uri: str
    params: Params
    api_url: str | None
    api_token: str | None
    champion_uri: str | None
    model_name: str | None
    dataset_generation: str | None

    @staticmethod
    def from_environ(env: dict[str, str]) -> RunEnv:
        missing = [k for k in ("DROPTUNE_RUN_ID", "DROPTUNE_DATASET_URI", "DROPTUNE_OUTPUT_URI") if not env.get(k)]
        if missing:
            raise TrainerError("invalid_argument", f"missing environment variable(s): {', '.join(missing)}")
        run_id = env["DROPTUNE_RUN_ID"]
        if not RUN_ID.match(run_id):
            raise TrainerError("invalid_argument", f"DROPTUNE_RUN_ID {run_id!r} must match {RUN_ID.pattern}")
        for key in ("DROPTUNE_DATASET_URI", "DROPTUNE_OUTPUT_URI", "DROPTUNE_CHAMPION_URI"):
            if env.get(key):
                store_for(env[key])  # unknown scheme → clear error now, not after training
        return RunEnv(
            run_id=run_id,
            dataset_uri=env["DROPTUNE_DATASET_URI"],
            output_uri=env["DROPTUNE_OUTPUT_URI"],
            params=parse_params(env.get("DROPTUNE_PARAMS")),
            api_url=env.get("DROPTUNE_API_URL") or None,
            api_token=env.get("DROPTUNE_API_TOKEN") or None,
            champion_uri=env.get("DROPTUNE_CHAMPION_URI") or None,
            model_name=env.get("DROPTUNE_MODEL_NAME") or None,
            dataset_generation=env.get("DROPTUNE_DATASET_GENERATION") or None,
        )


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(env: RunEnv, stop: threading.Event) -> dict:
    """Trains and writes the model version; returns the manifest. Raises TrainerError/Preempted."""
    out_store = store_for(env.output_uri)
    if out_store.exists(join(env.output_uri, "manifest.json")):
        log(f"[run] {env.run_id} already has a manifest at {env.output_uri}; nothing to do")
        return json.loads(out_store.read_bytes(join(env.output_uri, "manifest.json")))
    p = env.params
    model_name = model_name_from(env.dataset_uri, env.model_name)
    started = time.perf_counter()
    dataset = load_dataset(env.dataset_uri, p)
    generation = env.dataset_generation or _generation(env.dataset_uri)
    log(f"[data] {env.dataset_uri}: {len(dataset.train_texts)} train / {len(dataset.val_texts)} validation rows, "
        f"{len(dataset.labels)} labels {dataset.labels}")
    torch.manual_seed(p.seed)
    model, tokenizer, resolved = load_base_model(p.baseModel, dataset.labels)
    log(f"[model] base model {p.baseModel} ({resolved}), {sum(x.numel() for x in model.parameters()) / 1e6:.1f}M parameters")
    encode = lambda texts: tokenizer(texts, truncation=True, max_length=p.maxLength)["input_ids"]  # noqa: E731
    train_ids, val_ids = encode(dataset.train_texts), encode(dataset.val_texts)
    dev = pick_device(p.precision)
    log(f"[train] device {dev.describe}, {p.epochs} epoch(s), batch {p.batchSize}, lr {p.learningRate}")
    own_work = not os.environ.get("DROPTUNE_WORK_DIR")
    work = Path(os.environ.get("DROPTUNE_WORK_DIR") or tempfile.mkdtemp(prefix=f"droptune-{env.run_id}-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return _train_and_write(env, stop, p, model_name, started, dataset, generation, model, tokenizer, train_ids, val_ids, dev, work)
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)


def _train_and_write(env: RunEnv, stop: threading.Event, p: Params, model_name: str, started: float, dataset, generation,
                     model, tokenizer, train_ids, val_ids, dev, work: Path) -> dict:
    """Training, export and the artifact writes, in the run's scratch directory `work`."""
    jsonl = work / "metrics.jsonl"
    jsonl.write_text("")
    reporter = MetricsReporter(env.run_id, jsonl, env.api_url, env.api_token)
    checkpoints = CheckpointStore(env.output_uri, scratch=work)
    try:
        result = train(model, train_ids, dataset.train_labels, val_ids, dataset.val_labels, dataset.labels, p, dev,
                       reporter, checkpoints, stop, checkpoints.latest())
        artifacts = ArtifactWriter(env.output_uri)
        files = work / "model"
        files.mkdir(exist_ok=True)
        log("[export] ONNX export and checks")
        input_names = export_onnx(model, files / "model.onnx")
        save_tokenizer(tokenizer, files / "tokenizer.json", p.maxLength)
        fp32 = OnnxClassifier(files / "model.onnx", files / "tokenizer.json", p.maxLength)
        parity = check_parity(model, fp32, dataset.val_texts, p.evalBatchSize)
        onnx_eval, _ = onnx_scores(fp32, dataset.val_texts, dataset.val_labels, dataset.labels)
        log(f"[export] parity max abs diff {parity['max_abs_diff']:.2e} over {parity['rows']} rows; ONNX accuracy {onnx_eval['accuracy']:.4f}")
        int8 = None
        if p.quantize:
            quantize_int8(files / "model.onnx", files / "model.int8.onnx")
            q = OnnxClassifier(files / "model.int8.onnx", files / "tokenizer.json", p.maxLength)
            int8_eval, _ = onnx_scores(q, dataset.val_texts, dataset.val_labels, dataset.labels)
            int8 = {"accuracy": int8_eval["accuracy"], "macro_f1": int8_eval["macro_f1"], "size": (files / "model.int8.onnx").stat().st_size}
            log(f"[export] int8 accuracy {int8['accuracy']:.4f} (fp32 {onnx_eval['accuracy']:.4f})")
        champion = champion_check(env.champion_uri, dataset.val_texts, dataset.val_labels, dataset.labels, work) if env.champion_uri else None
        (files / "labels.json").write_text(json.dumps(dataset.labels) + "\n")
        config = {"task": "text-classification", "baseModel": p.baseModel, "maxLength": p.maxLength, "inputNames": input_names, "outputName": "logits"}
        (files / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        (files / "golden.json").write_text(json.dumps(golden_vectors(fp32, dataset.labels, p.maxLength), ensure_ascii=False, indent=1) + "\n")
        best = result.best_eval
        metrics = {
            "validation": {"accuracy": best["accuracy"], "macro_f1": best["macro_f1"], "loss": best["loss"],
                           "per_class": best["per_class"], "confusion_matrix": best["confusion_matrix"], "labels": dataset.labels},
            "onnx": {"accuracy": onnx_eval["accuracy"], "macro_f1": onnx_eval["macro_f1"], "parity": parity},
            "int8": int8,
            "champion": champion,
            "best_epoch": result.best_epoch,
            "history": result.history,
            "split": {"train": len(dataset.train_texts), "validation": len(dataset.val_texts), "seed": p.seed,
                      "label_counts": dataset.label_counts},
            "train": {"steps": result.steps, "samples": result.train_samples, "seconds": round(result.train_seconds, 3),
                      "samples_per_second": round(result.samples_per_second, 2), "device": dev.describe},
            "params": p.to_json(),
        }
        (files / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        headline = {"accuracy": best["accuracy"], "macro_f1": best["macro_f1"], "val_loss": best["loss"],
                    "onnx_accuracy": onnx_eval["accuracy"], "onnx_max_abs_diff": parity["max_abs_diff"],
                    "best_epoch": result.best_epoch, "train_samples_per_second": result.samples_per_second}
        if int8:
            headline["int8_accuracy"] = int8["accuracy"]
        if champion and "accuracy" in champion:
            headline["champion_accuracy"] = champion["accuracy"]
            headline["champion_macro_f1"] = champion["macro_f1"]
        for key, value in headline.items():
            reporter.log(key, value, result.steps, result.best_epoch)
    finally:
        reporter.close()
    for name in ("model.onnx", "model.int8.onnx", "tokenizer.json", "labels.json", "config.json", "golden.json", "metrics.json"):
        if (files / name).exists():
            artifacts.put(files / name, name)
    artifacts.put(jsonl, "metrics.jsonl")
    dataset_info = {"datasetUri": env.dataset_uri, "generation": generation, "sha256": dataset.sha256}
    manifest = artifacts.write_manifest(env.run_id, model_name, p.baseModel, dataset_info, headline)
    log(f"[run] {env.run_id} done in {time.perf_counter() - started:.1f}s: accuracy {best['accuracy']:.4f}, "
        f"macro_f1 {best['macro_f1']:.4f}; manifest at {join(env.output_uri, 'manifest.json')}")
    return manifest


def _generation(uri: str) -> str | None:
    try:
        return store_for(uri).generation(uri) if uri.startswith("gs://") else None
    except Exception:  # noqa: BLE001 - generation is informative; the sha256 identifies the bytes
        return None
