"""Export: ONNX per task (dynamic batch and sequence axes), tokenizer.json, config.json, the fp32
parity check against PyTorch, optional dynamic int8 quantization, and golden vectors for
serving's parity tests.

The graph per task (config.json `inputNames` / `outputName`):
- classification, multilabel: input_ids, attention_mask → `logits` [batch, classes];
- pair: input_ids, attention_mask, token_type_ids (when the base model has segment embeddings)
  → `logits`;
- regression: → `value` [batch, 1] in the target's units: the graph undoes the standardisation
  the model was trained on (value = output · std + mean), so serving needs no arithmetic.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .batching import eval_batches
from .chunking import Batch, LongText
from .errors import TrainerError
from .onnx_eval import OnnxClassifier, served_prediction, softmax

PARITY_TOLERANCE = 1e-3
PARITY_MAX_ROWS = 2000
GOLDEN_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Target:
    """Regression: the training target's mean and standard deviation (TRAIN rows)."""

    mean: float
    std: float

    def to_json(self) -> dict[str, float]:
        return {"mean": self.mean, "std": self.std}


@dataclass(frozen=True)
class ExportSpec:
    """What the exported graph and config.json say about the model."""

    task: str
    base_model: str
    max_length: int
    long_text: LongText
    target: Target | None = None

    @property
    def output_name(self) -> str:
        return "value" if self.task == "regression" else "logits"


# Texts chosen for what tends to break tokenizer/model parity between Python and Node.
GOLDEN_TEXTS = [
    "I was charged twice for my subscription this month, please refund one payment.",
    "Café crème: où est ma commande? Ñandú, São Paulo, naïve résumé.",
    "My package arrived broken 😡📦 can someone help?? 🙏",
    "我的账户无法登录，请帮忙。アカウントにログインできません。계정 문제",
    "The courier left my parcel at the wrong address and tracking says delivered. " * 5,
    "cancel " + "please cancel my account because the app keeps crashing and support never answers " * 40,
    "?",
    "  a  ",
]
GOLDEN_PAIRS = [
    "Can I get my money back?",
    "Where is my parcel?",
    "Der Artikel ist kaputt angekommen, bitte ersetzen.",
    "登录问题",
    "is the app broken",
    "wrong address",
    "",
    "b " * 80,
]


class TaskGraph(torch.nn.Module):  # type: ignore[misc]  # torch is not analysed (follow_imports = skip)
    """The served graph: the model's raw output, with the regression target restored. Used for
    the export and for the PyTorch side of the parity check, so both compute the same thing."""

    def __init__(self, model: torch.nn.Module, target: Target | None):
        super().__init__()
        self.model = model
        self.scale = float(target.std) if target else 1.0
        self.shift = float(target.mean) if target else 0.0

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        out: torch.Tensor = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits
        return out * self.scale + self.shift if (self.scale, self.shift) != (1.0, 0.0) else out


def uses_token_types(model: torch.nn.Module, task: str) -> bool:
    """Pairs feed segment ids when the base model has them (BERT does, DistilBERT does not)."""
    return task == "pair" and "token_type_ids" in inspect.signature(model.forward).parameters


def save_tokenizer(tokenizer: Any, path: Path, max_length: int) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    tok.no_padding()
    tok.enable_truncation(max_length)
    tok.save(str(path))


def export_onnx(model: torch.nn.Module, path: Path, spec: ExportSpec) -> list[str]:
    """Writes the fp32 graph; returns its input names in graph order (config.json inputNames)."""
    model = model.to("cpu").float().eval()
    wrapper = TaskGraph(model, spec.target).eval()
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if uses_token_types(model, spec.task) else [])
    args = (ids, mask, torch.tensor([[0, 0, 1, 1], [0, 0, 1, 0]], dtype=torch.long))[: len(names)]
    axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "sequence"} for name in names}
    axes[spec.output_name] = {0: "batch"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapper, args, str(path), input_names=names, output_names=[spec.output_name],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [i.name for i in graph.input]


def model_config(spec: ExportSpec, input_names: list[str], thresholds: dict[str, float] | None) -> dict[str, Any]:
    """config.json (shared/contracts/manifest.ts ModelConfig)."""
    config: dict[str, Any] = {"task": spec.task, "baseModel": spec.base_model, "maxLength": spec.max_length,
                              "inputNames": input_names, "outputName": spec.output_name,
                              "longText": spec.long_text.to_json()}
    if spec.task == "multilabel":
        config["thresholds"] = thresholds or {}
    if spec.target is not None:
        config["target"] = spec.target.to_json()
    return config


def pytorch_outputs(graph: TaskGraph, batch: Batch, batch_size: int, pad: int, types: bool) -> np.ndarray:
    """The PyTorch graph's raw outputs for every window of `batch` (no pooling)."""
    ids = batch.input_ids
    out: np.ndarray | None = None
    with torch.no_grad():
        for idx in eval_batches([len(s) for s in ids], batch_size):
            longest = max(len(ids[i]) for i in idx)
            t = torch.full((len(idx), longest), pad, dtype=torch.long)
            m = torch.zeros_like(t)
            tt = torch.zeros_like(t)
            for r, i in enumerate(idx):
                t[r, : len(ids[i])] = torch.tensor(ids[i])
                m[r, : len(ids[i])] = 1
                tt[r, : len(ids[i])] = torch.tensor(batch.token_type_ids[i])
            part = graph(t, m, tt if types else None).numpy()
            if out is None:
                out = np.zeros((len(ids), part.shape[1]), dtype=np.float32)
            out[idx] = part
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def check_parity(model: torch.nn.Module, onnx_model: OnnxClassifier, spec: ExportSpec, val_texts: list[str],
                 batch_size: int, val_pairs: list[str] | None = None) -> dict[str, Any]:
    """Max |ONNX − PyTorch| raw output over the windows of (up to PARITY_MAX_ROWS of) the
    validation texts, both fed the windows tokenizer.json gives; above PARITY_TOLERANCE the
    export is wrong → fail."""
    model = model.to("cpu").float().eval()
    texts = val_texts[:PARITY_MAX_ROWS]
    batch = onnx_model.encode_all(texts, val_pairs[: len(texts)] if val_pairs is not None else None)
    if not batch.input_ids:
        return {"max_abs_diff": 0.0, "rows": 0, "tolerance": PARITY_TOLERANCE}
    graph = TaskGraph(model, spec.target).eval()
    pad = int(getattr(model.config, "pad_token_id", 0) or 0)
    ref = pytorch_outputs(graph, batch, batch_size, pad, "token_type_ids" in onnx_model.input_names)
    got = onnx_model.window_outputs(batch, batch_size)
    diff = float(np.abs(got - ref).max())
    if not diff <= PARITY_TOLERANCE:
        raise TrainerError("internal", f"ONNX export parity check failed: max abs output diff {diff:.3g} > {PARITY_TOLERANCE} over {len(texts)} validation rows")
    return {"max_abs_diff": diff, "rows": len(texts), "tolerance": PARITY_TOLERANCE}


# Per-channel weight scales (one per output column): bench:quantize (bench/results/quantize.json)
# measured all-MiniLM-L6-v2 on the support-ticket held-out rows at −0.67 points against fp32 for
# the baseline graph and 0.00 for a fine-tune, per-tensor at −3.33 and −2.00, the same size
# (+0.5 %) and the same CPU time; per-tensor would fail gate.maxInt8Loss (1 point) on the baseline.
PER_CHANNEL = True


def quantize_int8(src: Path, dest: Path, per_channel: bool = PER_CHANNEL) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # the "consider pre-processing" notice
    quantize_dynamic(str(src), str(dest), weight_type=QuantType.QInt8, per_channel=per_channel)


def golden_vectors(clf: OnnxClassifier, labels: list[str], config: dict[str, Any]) -> dict[str, Any]:
    """Per text (and pair): every window's ids (and token types), the pooled raw outputs of the
    fp32 ONNX model (each window run alone: batch of one, no padding) and the served prediction.
    Classification cases keep window 0 as `inputIds` / `attentionMask` / `probs` / `label`."""
    task = str(config["task"])
    pairs = GOLDEN_PAIRS if task == "pair" else None
    cases = []
    for i, text in enumerate(GOLDEN_TEXTS):
        w = clf.chunker.windows(text, pairs[i] if pairs else None)
        raw = np.mean([clf.run_windows([ids], [types])[0] for ids, types in zip(w.input_ids, w.token_type_ids)], axis=0)
        case: dict[str, Any] = {"text": text}
        if pairs:
            case["textPair"] = pairs[i]
        case["windows"] = [[int(t) for t in ids] for ids in w.input_ids]
        if "token_type_ids" in clf.input_names:
            case["tokenTypeIds"] = w.token_type_ids
        case["logits"] = [float(v) for v in raw]
        case["prediction"] = served_prediction(task, raw, labels, config.get("thresholds"), w.truncated)
        if task in ("classification", "pair"):
            case.update(inputIds=case["windows"][0], attentionMask=[1] * len(w.input_ids[0]),
                        probs=[float(v) for v in softmax(raw[None, :].astype(np.float64))[0]], label=labels[int(np.argmax(raw))])
        cases.append(case)
    return {"model": "model.onnx", "task": task, "maxLength": config["maxLength"], "labels": labels,
            "tolerance": GOLDEN_TOLERANCE, "longText": config["longText"], "cases": cases}
