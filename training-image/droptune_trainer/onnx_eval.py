"""Runs an exported model the way serving does: `tokenizer.json` (tokenizers library), the
task's windows (chunking.py: truncate = window 0, chunk = every window, pooled), then an
onnxruntime session fed by input name (`token_type_ids` only when the graph has it). Used for
the ONNX scores, the parity check, the int8 model, golden vectors and the champion check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from .chunking import TRUNCATE, Batch, Chunker, LongText, pool


def load_tokenizer(path: Path, max_length: int) -> Tokenizer:
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(max_length)
    return tok


class OnnxClassifier:
    """One exported graph: raw outputs per text (logits, or the value for regression)."""

    def __init__(self, model_path: Path, tokenizer_path: Path, max_length: int, threads: int = 0,
                 long_text: LongText = TRUNCATE):
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.tokenizer = load_tokenizer(tokenizer_path, max_length)
        self.chunker = Chunker(self.tokenizer, max_length, long_text)

    def encode_all(self, texts: list[str], pairs: list[str] | None = None) -> Batch:
        return self.chunker.encode_all(texts, pairs)

    def run_windows(self, ids: list[list[int]], types: list[list[int]] | None = None) -> np.ndarray:
        """Raw outputs for already-built windows, one padded batch (attention mask 0 on padding)."""
        longest = max(len(s) for s in ids)
        input_ids: np.ndarray = np.zeros((len(ids), longest), dtype=np.int64)
        mask: np.ndarray = np.zeros((len(ids), longest), dtype=np.int64)
        type_ids: np.ndarray = np.zeros((len(ids), longest), dtype=np.int64)
        for r, seq in enumerate(ids):
            input_ids[r, : len(seq)] = seq
            mask[r, : len(seq)] = 1
            if types is not None:
                type_ids[r, : len(seq)] = types[r]
        feeds = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": type_ids}
        out: np.ndarray = self.session.run(None, {name: feeds[name] for name in self.input_names})[0]
        return out

    def window_outputs(self, batch: Batch, batch_size: int = 64) -> np.ndarray:
        """Raw outputs of every window in `batch`, run in length-sorted batches."""
        ids, types = batch.input_ids, batch.token_type_ids
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out: np.ndarray | None = None
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            part = self.run_windows([ids[i] for i in idx], [types[i] for i in idx])
            if out is None:
                out = np.zeros((len(ids), part.shape[1]), dtype=np.float32)
            out[idx] = part
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)

    def logits(self, texts: list[str], batch_size: int = 64, pairs: list[str] | None = None) -> np.ndarray:
        """Pooled raw outputs per text ([n, classes], or [n, 1] values for regression)."""
        batch = self.encode_all(texts, pairs)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return pool(self.window_outputs(batch, batch_size), batch.owners, len(texts))


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


def served_prediction(task: str, raw: np.ndarray, labels: list[str], thresholds: dict[str, float] | None,
                      truncated: bool = False) -> dict[str, object]:
    """One prediction as serving returns it (shared/contracts/prediction.ts), from pooled raw outputs."""
    pred: dict[str, object]
    if task == "regression":
        pred = {"value": float(raw[0])}
    elif task == "multilabel":
        probs = sigmoid(raw.astype(np.float64))
        limits = thresholds or {}
        pred = {"labels": [name for name, p in zip(labels, probs) if p >= limits.get(name, 0.5)],
                "scores": {name: float(p) for name, p in zip(labels, probs)}}
    else:
        probs = softmax(raw[None, :].astype(np.float64))[0]
        pred = {"label": labels[int(np.argmax(raw))], "scores": {name: float(p) for name, p in zip(labels, probs)}}
    if truncated:
        pred["truncated"] = True
    return pred
