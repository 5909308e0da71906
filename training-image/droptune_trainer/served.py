"""Export and the served artifact's scores: the fp32 ONNX graph (parity-checked against PyTorch
on a sample), the int8 graph checked against fp32 on the validation rows, and the predictions of
the variant serving will load, computed once and used for every reported score and the gate.

int8 is kept only when it loses at most `gate.maxInt8Loss` of the gate metric against fp32;
otherwise `model.int8.onnx` is not written, serving (which loads int8 only when the manifest
lists it) serves fp32, and metrics.json says why.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .export import ExportSpec, check_parity, export_onnx, quantize_int8, save_tokenizer
from .gate import GateSettings
from .onnx_eval import OnnxClassifier
from .params import higher_is_better
from .task_scores import SINGLE_LABEL, headline_scores, task_scores

PARITY_SAMPLE_ROWS = 256
VARIANTS = ("fp32", "int8")


@dataclass(frozen=True)
class ServedModel:
    variant: str  # the file serving loads: fp32 = model.onnx, int8 = model.int8.onnx
    input_names: list[str]
    fp32: OnnxClassifier
    scores: dict[str, Any]  # task_scores() of the served variant on the validation rows
    predictions: list[int]  # class ids (classification, pair); empty for the other tasks
    parity: dict[str, Any]
    int8: dict[str, Any] | None  # {<task metrics>, size, kept, reason} or None without quantize
    # multilabel: the per-class thresholds tuned on the fp32 validation outputs (config.json).
    thresholds: dict[str, float] | None = None


def export_and_score(model: Any, tokenizer: Any, files: Path, val_texts: list[str], val_labels: list[Any], labels: list[str],
                     spec: ExportSpec, eval_batch: int, quantize: bool, gate: GateSettings, variant: str,
                     quantizer: Callable[[Path, Path], None] = quantize_int8, val_pairs: list[str] | None = None) -> ServedModel:
    """Exports, checks parity and scores the variant serving loads; `val_pairs` for `pair`;
    `val_labels` are the task's targets (task_scores.py)."""
    max_length = spec.max_length
    input_names = export_onnx(model, files / "model.onnx", spec)
    save_tokenizer(tokenizer, files / "tokenizer.json", max_length)
    fp32 = OnnxClassifier(files / "model.onnx", files / "tokenizer.json", max_length, long_text=spec.long_text)
    parity = check_parity(model, fp32, spec, val_texts[:PARITY_SAMPLE_ROWS], eval_batch, val_pairs)
    fp32_raw = fp32.logits(val_texts, pairs=val_pairs)
    fp32_scores, thresholds = task_scores(spec.task, fp32_raw, val_labels, labels)
    _log(f"[export] parity max abs diff {parity['max_abs_diff']:.2e} over {parity['rows']} rows; fp32 ONNX {gate.metric} {fp32_scores[gate.metric]:.4f}")
    int8: dict[str, Any] | None = None
    int8_raw: np.ndarray | None = None
    if quantize:
        int8, int8_raw = check_int8(files, val_texts, val_labels, labels, fp32, fp32_scores, gate, quantizer, val_pairs, spec.task, thresholds)
    served_int8 = variant == "int8" and int8 is not None and int8["kept"]
    raw = int8_raw if served_int8 and int8_raw is not None else fp32_raw
    scores, _ = task_scores(spec.task, raw, val_labels, labels, thresholds)
    pred = [int(p) for p in raw.argmax(axis=1)] if spec.task in SINGLE_LABEL else []
    return ServedModel("int8" if served_int8 else "fp32", input_names, fp32, scores, pred, parity, int8, thresholds)


def check_int8(files: Path, val_texts: list[str], val_labels: list[Any], labels: list[str], fp32: OnnxClassifier,
               fp32_scores: dict[str, Any], gate: GateSettings,
               quantizer: Callable[[Path, Path], None] = quantize_int8,
               val_pairs: list[str] | None = None, task: str = "classification",
               thresholds: dict[str, float] | None = None) -> tuple[dict[str, Any], np.ndarray]:
    """Quantizes, scores int8 on the validation rows (windows as fp32's) and drops it when it loses too much."""
    path = files / "model.int8.onnx"
    quantizer(files / "model.onnx", path)
    int8 = OnnxClassifier(path, files / "tokenizer.json", fp32.chunker.max_length, long_text=fp32.chunker.long_text)
    raw = int8.logits(val_texts, pairs=val_pairs)
    s, _ = task_scores(task, raw, val_labels, labels, thresholds)  # fp32's thresholds: the ones config.json keeps
    # How much int8 gives up, in the metric's own direction (a higher RMSE is a loss too).
    sign = 1.0 if higher_is_better(gate.metric) else -1.0
    loss = sign * (fp32_scores[gate.metric] - s[gate.metric])
    info: dict[str, Any] = {**headline_scores(task, s), "size": path.stat().st_size, "lossVsFp32": loss, "kept": True, "reason": None}
    if loss > gate.maxInt8Loss:
        path.unlink()
        info.update(kept=False, reason=f"int8 {gate.metric} {s[gate.metric]:.4f} is {loss:.4f} worse than fp32 {fp32_scores[gate.metric]:.4f} "
                                        f"(more than gate.maxInt8Loss {gate.maxInt8Loss}); serving fp32")
    _log(f"[export] int8 {gate.metric} {s[gate.metric]:.4f} vs fp32 {fp32_scores[gate.metric]:.4f}: {'kept' if info['kept'] else info['reason']}")
    return info, raw


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
