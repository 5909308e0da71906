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

from .export import check_parity, export_onnx, quantize_int8, save_tokenizer
from .gate import GateSettings
from .onnx_eval import OnnxClassifier
from .scoring import score

PARITY_SAMPLE_ROWS = 256
VARIANTS = ("fp32", "int8")


@dataclass(frozen=True)
class ServedModel:
    variant: str  # the file serving loads: fp32 = model.onnx, int8 = model.int8.onnx
    input_names: list[str]
    fp32: OnnxClassifier
    scores: dict[str, Any]  # score() of the served variant on the validation rows
    predictions: list[int]
    parity: dict[str, Any]
    int8: dict[str, Any] | None  # {accuracy, macro_f1, size, kept, reason} or None without quantize


def export_and_score(model: Any, tokenizer: Any, files: Path, val_texts: list[str], val_labels: list[int], labels: list[str],
                     max_length: int, eval_batch: int, quantize: bool, gate: GateSettings, variant: str,
                     quantizer: Callable[[Path, Path], None] = quantize_int8) -> ServedModel:
    input_names = export_onnx(model, files / "model.onnx")
    save_tokenizer(tokenizer, files / "tokenizer.json", max_length)
    fp32 = OnnxClassifier(files / "model.onnx", files / "tokenizer.json", max_length)
    parity = check_parity(model, fp32, val_texts[:PARITY_SAMPLE_ROWS], eval_batch)
    fp32_pred = fp32.logits(val_texts).argmax(axis=1)
    fp32_scores = score(val_labels, fp32_pred, labels)
    _log(f"[export] parity max abs diff {parity['max_abs_diff']:.2e} over {parity['rows']} rows; fp32 ONNX accuracy {fp32_scores['accuracy']:.4f}")
    int8: dict[str, Any] | None = None
    int8_pred: np.ndarray | None = None
    if quantize:
        int8, int8_pred = check_int8(files, val_texts, val_labels, labels, max_length, fp32_scores, gate, quantizer)
    served_int8 = variant == "int8" and int8 is not None and int8["kept"]
    pred = int8_pred if served_int8 and int8_pred is not None else fp32_pred
    scores = score(val_labels, pred, labels)
    return ServedModel("int8" if served_int8 else "fp32", input_names, fp32, scores, [int(p) for p in pred], parity, int8)


def check_int8(files: Path, val_texts: list[str], val_labels: list[int], labels: list[str], max_length: int,
               fp32_scores: dict[str, Any], gate: GateSettings,
               quantizer: Callable[[Path, Path], None] = quantize_int8) -> tuple[dict[str, Any], np.ndarray]:
    """Quantizes, scores int8 on the validation rows and drops it when it loses too much."""
    path = files / "model.int8.onnx"
    quantizer(files / "model.onnx", path)
    pred = OnnxClassifier(path, files / "tokenizer.json", max_length).logits(val_texts).argmax(axis=1)
    s = score(val_labels, pred, labels)
    loss = fp32_scores[gate.metric] - s[gate.metric]
    info: dict[str, Any] = {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"], "size": path.stat().st_size, "lossVsFp32": loss, "kept": True, "reason": None}
    if loss > gate.maxInt8Loss:
        path.unlink()
        info.update(kept=False, reason=f"int8 {gate.metric} {s[gate.metric]:.4f} is {loss:.4f} below fp32 {fp32_scores[gate.metric]:.4f} "
                                        f"(more than gate.maxInt8Loss {gate.maxInt8Loss}); serving fp32")
    _log(f"[export] int8 {gate.metric} {s[gate.metric]:.4f} vs fp32 {fp32_scores[gate.metric]:.4f}: {'kept' if info['kept'] else info['reason']}")
    return info, pred


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
