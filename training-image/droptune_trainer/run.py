"""One training run, from the DROPTUNE_* environment to `manifest.json`.

Order matters: nothing but checkpoints is written until the model is trained and exported;
then the artifacts, then metrics, then the manifest last.
"""

from __future__ import annotations

import dataclasses
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

import numpy as np
import torch

from .artifacts import ArtifactWriter, model_name_from
from .base_model import load_base_model
from .baseline import Baseline, choose, fit_baseline
from .champion import champion_rows
from .checkpoint import CheckpointStore
from .data import Dataset, load_dataset
from .errors import TrainerError
from .chunking import TRUNCATE, Batch, Chunker, LongText
from .export import ExportSpec, TaskGraph, Target, golden_vectors, model_config, pytorch_outputs, uses_token_types
from .fingerprint import split_json
from .gate import GateSettings, decide, parse_gate_settings
from .params import Params, parse_params, task_metrics
from .served import VARIANTS, ServedModel, export_and_score
from .split import describe
from .task_scores import SINGLE_LABEL, headline_scores, task_gate
from .storage import join, store_for
from .tracking import MetricsReporter
from .device import Device, pick_device
from .train_loop import TrainInputs, TrainResult, train

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
    gate: GateSettings
    # The ONNX file serving loads (its MODEL_VARIANT): the gate scores this one.
    model_variant: str
    # DROPTUNE_REQUIRE_GPU=true on a GPU VM: no CUDA device is an error, never a silent CPU run.
    require_gpu: bool

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
            gate=parse_gate_settings(env.get("DROPTUNE_PARAMS")),
            model_variant=_choice(env, "DROPTUNE_MODEL_VARIANT", VARIANTS, "fp32"),
            require_gpu=_choice(env, "DROPTUNE_REQUIRE_GPU", ("true", "false"), "false") == "true",
        )


def _choice(env: dict[str, str], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = (env.get(key) or default).strip().lower()
    if value not in allowed:
        raise TrainerError("invalid_argument", f"{key} is {env[key]!r}; expected one of {', '.join(allowed)}")
    return value


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Prepared:
    """Everything training needs, read and encoded once: the split data, the base model and the
    windows (chunking.py: window 0 in truncate mode, every window in chunk mode; `truncated`
    counts the texts that needed more windows than they got)."""

    dataset: Dataset
    model: torch.nn.Module
    tokenizer: object
    train: Batch
    val: Batch
    truncated: dict[str, int]
    dev: Device
    token_types: bool  # the model is fed token_type_ids (pair on BERT)
    target: Target | None = None  # regression: the TRAIN targets' mean/std the model is trained on


@dataclass(frozen=True)
class RunContext:
    env: RunEnv
    stop: threading.Event
    params: Params
    gate: GateSettings
    model_name: str
    started: float
    generation: str | None
    work: Path


def run(env: RunEnv, stop: threading.Event) -> dict:
    """Trains and writes the model version; returns the manifest. Raises TrainerError/Preempted."""
    out_store = store_for(env.output_uri)
    if out_store.exists(join(env.output_uri, "manifest.json")):
        log(f"[run] {env.run_id} already has a manifest at {env.output_uri}; nothing to do")
        return json.loads(out_store.read_bytes(join(env.output_uri, "manifest.json")))
    model_name = model_name_from(env.dataset_uri, env.model_name)
    started = time.perf_counter()
    dev = pick_device(env.params.precision, env.require_gpu)  # before any download: a GPU VM without its GPU stops here
    prepared = prepare(env, model_name, dev)
    own_work = not os.environ.get("DROPTUNE_WORK_DIR")
    work = Path(os.environ.get("DROPTUNE_WORK_DIR") or tempfile.mkdtemp(prefix=f"droptune-{env.run_id}-"))
    work.mkdir(parents=True, exist_ok=True)
    # The gate compares the task's metric (params: gate.metric or the task's default).
    ctx = RunContext(env, stop, env.params, dataclasses.replace(env.gate, metric=env.params.gate_metric), model_name, started,
                     env.dataset_generation or _generation(env.dataset_uri), work)
    try:
        return _train_and_write(ctx, prepared)
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)


def export_spec(p: Params, target: Target | None = None) -> ExportSpec:
    """The served model's shape; `truncate` records the contract's truncate settings (stride 0,
    one window), not chunk settings it does not use; `target` is regression's standardisation,
    which the exported graph undoes."""
    long_text = LongText(p.longText, p.chunkStride, p.maxChunks) if p.longText == "chunk" else TRUNCATE
    return ExportSpec(p.the_task, p.baseModel, p.maxLength, long_text, target)


def standardisation(uri: str, train_targets: list[float]) -> Target:
    """Regression trains on (y − mean) / std of the TRAIN targets; a constant target has nothing to learn."""
    y = np.asarray(train_targets, dtype=np.float64)
    std = float(y.std())
    if not std > 0:
        raise TrainerError("failed_precondition", f"{uri}: every training row has the target {y[0]:g}; regression needs targets that vary")
    return Target(float(y.mean()), std)


def prepare(env: RunEnv, model_name: str, dev: Device) -> Prepared:
    p = env.params
    if p.gate_metric not in task_metrics(p.the_task) or p.stopping_metric not in ("loss", *task_metrics(p.the_task)):
        raise TrainerError("invalid_argument", f"task {p.the_task!r} reports {', '.join(task_metrics(p.the_task))}; "
                           f"gate.metric {p.gate_metric!r} / earlyStoppingMetric {p.stopping_metric!r} must be one of them")
    dataset = load_dataset(env.dataset_uri, p, salt=model_name)
    log(f"[data] {env.dataset_uri}: {describe(dataset.split)}; {len(dataset.labels)} labels {dataset.labels}")
    torch.manual_seed(p.seed)
    model, tokenizer, resolved = load_base_model(p.baseModel, dataset.labels)
    log(f"[model] base model {p.baseModel} ({resolved}), {sum(x.numel() for x in model.parameters()) / 1e6:.1f}M parameters")
    chunker = Chunker(tokenizer.backend_tokenizer, p.maxLength, export_spec(p).long_text)
    train_windows = chunker.encode_all(dataset.train_texts, dataset.train_pairs)
    val_windows = chunker.encode_all(dataset.val_texts, dataset.val_pairs)
    train_cut, val_cut = sum(train_windows.truncated), sum(val_windows.truncated)
    if train_cut or val_cut:
        log(f"[data] longer than {'maxChunks windows' if p.longText == 'chunk' else 'maxLength'} at maxLength {p.maxLength} tokens: "
            f"{train_cut} training and {val_cut} validation texts were cut")
    target = standardisation(env.dataset_uri, dataset.train_targets) if p.the_task == "regression" else None
    return Prepared(dataset, model, tokenizer, train_windows, val_windows, {"train": train_cut, "validation": val_cut}, dev,
                    uses_token_types(model, p.the_task), target)


def _train_and_write(ctx: RunContext, prep: Prepared) -> dict:
    """Training, export and the artifact writes, in the run's scratch directory."""
    env, p, ds, task = ctx.env, ctx.params, prep.dataset, ctx.params.the_task
    log(f"[train] device {prep.dev.describe}, {p.epochs} epoch(s), batch {p.batchSize}, lr {p.learningRate}")
    jsonl = ctx.work / "metrics.jsonl"
    jsonl.write_text("")
    reporter = MetricsReporter(env.run_id, jsonl, env.api_url, env.api_token)
    checkpoints = CheckpointStore(env.output_uri, scratch=ctx.work)
    try:
        types = prep.token_types
        mean, std = (prep.target.mean, prep.target.std) if prep.target else (0.0, 1.0)
        train_targets = [(y - mean) / std for y in ds.train_targets] if prep.target else ds.train_targets
        inputs = TrainInputs(prep.model, prep.train.input_ids, [train_targets[i] for i in prep.train.owners],
                             prep.val.input_ids, ds.val_targets, ds.labels,
                             prep.train.token_type_ids if types else None, prep.val.token_type_ids if types else None, prep.val.owners,
                             task, mean, std)
        # Before fine-tuning: the baseline needs the pre-trained encoder weights.
        baseline = _fit_baseline(ctx, prep)
        result = train(inputs, p, prep.dev, reporter, checkpoints, ctx.stop, checkpoints.latest())
        files, served, versus = _export_served(ctx, prep, baseline)
        if task in SINGLE_LABEL:
            champion = (champion_rows(env.champion_uri, ds.val_texts, ds.val_keys, ds.labels, ctx.model_name, env.model_variant, ctx.work,
                                      ds.val_pairs)
                        if env.champion_uri else None)
            gate = decide(ctx.gate, ds.val_labels, served.predictions, len(ds.labels), champion)
        else:
            gate = task_gate(ctx.gate, task, served.scores, p.gate.minR2, env.champion_uri is not None)
        log(f"[gate] {gate['decision']}: {gate['reason']}")
        _write_model_files(ctx, prep, files, result, served, gate, versus)
        headline = _headline(task, result, served, gate, versus)
        for key, value in headline.items():
            reporter.log(key, value, result.steps, result.best_epoch)
    finally:
        reporter.close()
    artifacts = ArtifactWriter(env.output_uri)
    for name in ("model.onnx", "model.int8.onnx", "tokenizer.json", "labels.json", "config.json", "golden.json", "split.json", "metrics.json"):
        if (files / name).exists():
            artifacts.put(files / name, name)
    artifacts.put(jsonl, "metrics.jsonl")
    dataset_info = {"datasetUri": env.dataset_uri, "generation": ctx.generation, "sha256": ds.sha256}
    manifest = artifacts.write_manifest(env.run_id, ctx.model_name, p.baseModel, dataset_info, headline, p.the_task)
    shown = ", ".join(f"{m} {v:.4f}" for m, v in headline_scores(task, served.scores).items())
    log(f"[run] {env.run_id} done in {time.perf_counter() - ctx.started:.1f}s: {served.variant} {shown}; gate {gate['decision']}; "
        f"manifest at {join(env.output_uri, 'manifest.json')}")
    return manifest


def _fit_baseline(ctx: RunContext, prep: Prepared) -> Baseline | None:
    """The frozen-embedding baseline, for single-text classification with one window per text
    (it pools one window; pair, chunked texts and the other tasks train the fine-tune only)."""
    p, ds = ctx.params, prep.dataset
    if p.the_task != "classification" or p.longText != "truncate":
        return None
    baseline = fit_baseline(prep.model, prep.train.input_ids, ds.train_labels, prep.val.input_ids, ds.val_labels, len(ds.labels),
                            p.evalBatchSize, prep.dev.torch_device, p.classWeights == "balanced")
    log(f"[baseline] frozen-embedding baseline: accuracy {baseline.scores['accuracy']:.4f}, macro_f1 {baseline.scores['macro_f1']:.4f} "
        f"({baseline.seconds:.1f} s CPU)")
    return baseline


def _export_served(ctx: RunContext, prep: Prepared, baseline: Baseline | None) -> tuple[Path, ServedModel, dict | None]:
    """Chooses between the fine-tune and the baseline on their fp32 predictions (the same rows),
    then exports and scores only the chosen one as served (ONNX, parity, int8): one export, not
    two. Returns the directory holding the served files, its scores and the `baseline` report
    (None without a baseline)."""
    p, ds = ctx.params, prep.dataset
    versus = None
    chosen = prep.model
    if baseline is not None:
        pad = int(getattr(prep.model.config, "pad_token_id", 0) or 0)
        graph = TaskGraph(prep.model.to("cpu").float().eval(), None).eval()
        fine_tuned = pytorch_outputs(graph, prep.val, p.evalBatchSize, pad, prep.token_types).argmax(axis=1).tolist()
        versus = choose(p.gate_metric, ds.val_labels, fine_tuned, baseline, len(ds.labels))
        log(f"[baseline] {versus['reason']}")
        chosen = baseline.model if versus["served"] == "baseline" else prep.model
    log(f"[export] ONNX export and checks ({versus['served'] if versus else 'fine-tuned'})")
    files = ctx.work / "model"
    files.mkdir(exist_ok=True)
    served = export_and_score(chosen, prep.tokenizer, files, ds.val_texts, ds.val_targets, ds.labels, export_spec(p, prep.target),
                              p.evalBatchSize, p.quantize, ctx.gate, ctx.env.model_variant, val_pairs=ds.val_pairs)
    return files, served, versus


def _write_model_files(ctx: RunContext, prep: Prepared, files: Path, result: TrainResult, served: ServedModel, gate: dict,
                       versus: dict | None) -> None:
    p, ds = ctx.params, prep.dataset
    (files / "labels.json").write_text(json.dumps(ds.labels) + "\n")
    config = model_config(export_spec(p, prep.target), served.input_names, served.thresholds)
    (files / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (files / "golden.json").write_text(json.dumps(golden_vectors(served.fp32, ds.labels, config), ensure_ascii=False, indent=1) + "\n")
    (files / "split.json").write_text(json.dumps(split_json(ds.split, ctx.model_name)) + "\n")
    best, s, task = result.best_eval, served.scores, p.the_task
    metrics = {
        "task": task,
        # The served artifact's scores: what the gate compares and what users get.
        "validation": {**s, "labels": ds.labels if task != "regression" else [], "variant": served.variant},
        "pytorch": {**headline_scores(task, best), "loss": best["loss"], "best_epoch": result.best_epoch},
        "onnx": {"parity": served.parity},
        "int8": served.int8,
        "gate": gate,
        # The frozen-embedding baseline beside the fine-tune, and which of the two this version serves.
        "baseline": versus,
        "split": {"method": ds.split.method, "trainRows": len(ds.split.train), "validationRows": len(ds.split.validation),
                  "duplicates": ds.split.duplicates, "conflicts": len(ds.split.conflicts),
                  "truncated": sum(prep.truncated.values()), "truncatedRows": prep.truncated,
                  "fingerprint": ds.split.fingerprint, "testRows": ds.split.test_rows, "labelCounts": ds.label_counts},
        "best_epoch": result.best_epoch,
        "history": result.history,
        "train": {"steps": result.steps, "samples": result.train_samples, "seconds": round(result.train_seconds, 3),
                  "samples_per_second": round(result.samples_per_second, 2), "device": prep.dev.describe},
        "params": p.to_json(),
    }
    (files / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


def _headline(task: str, result: TrainResult, served: ServedModel, gate: dict, versus: dict | None) -> dict:
    """Manifest metrics (numbers only): the served artifact's task scores and the gate's comparison."""
    headline = {**headline_scores(task, served.scores), "val_loss": result.best_eval["loss"],
                "onnx_max_abs_diff": served.parity["max_abs_diff"], "best_epoch": result.best_epoch,
                "train_samples_per_second": result.samples_per_second,
                "gate_promote": 0.0 if gate["decision"] == "hold" else 1.0, "gate_rows": gate["rows"]}
    if versus is not None:
        headline.update(baseline_accuracy=versus["accuracy"], baseline_macro_f1=versus["macro_f1"],
                        baseline_served=1.0 if versus["served"] == "baseline" else 0.0)
    if served.int8:
        headline.update({f"int8_{m}": served.int8[m] for m in task_metrics(task)})
    if gate["champion"] is not None:
        headline[f"champion_{gate['metric']}"] = gate["champion"]
        headline[f"gate_challenger_{gate['metric']}"] = gate["challenger"]
    return headline


def _generation(uri: str) -> str | None:
    try:
        return store_for(uri).generation(uri) if uri.startswith("gs://") else None
    except Exception:  # noqa: BLE001 - generation is informative; the sha256 identifies the bytes
        return None
