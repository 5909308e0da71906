"""Runs an exported model the way serving does: `tokenizer.json` (tokenizers library) with
truncation at maxLength, then an onnxruntime session fed by input name. Used for the ONNX
accuracy, the parity check, the int8 model, golden vectors and the champion check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def load_tokenizer(path: Path, max_length: int) -> Tokenizer:
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(max_length)
    return tok


class OnnxClassifier:
    def __init__(self, model_path: Path, tokenizer_path: Path, max_length: int, threads: int = 0):
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.tokenizer = load_tokenizer(tokenizer_path, max_length)

    def encode(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(texts)]

    def run_ids(self, ids: list[list[int]]) -> np.ndarray:
        """Logits for already-encoded rows, one padded batch (attention mask 0 on padding)."""
        longest = max(len(s) for s in ids)
        input_ids = np.zeros((len(ids), longest), dtype=np.int64)
        mask = np.zeros((len(ids), longest), dtype=np.int64)
        for r, seq in enumerate(ids):
            input_ids[r, : len(seq)] = seq
            mask[r, : len(seq)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
        return self.session.run(None, {name: feeds[name] for name in self.input_names})[0]

    def logits(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        ids = self.encode(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out: np.ndarray | None = None
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            part = self.run_ids([ids[i] for i in idx])
            if out is None:
                out = np.zeros((len(ids), part.shape[1]), dtype=np.float32)
            out[idx] = part
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
