"""Long texts: the windows a text becomes and how their outputs are pooled (docs/contracts.md
"Long texts"). The one Python copy of the algorithm serving (Node) repeats; golden vectors
(`golden.json` `windows`) prove both agree. Used by training (chunk mode trains on every
window), evaluation, parity checks and golden vectors, so they cannot drift apart.

- ids = the text tokenised WITHOUT special tokens, never truncated;
- content width W = maxLength − 2 (single text); for a pair, `text_pair`'s tokens are capped at
  maxLength // 2 and kept whole in every window: W = maxLength − 3 − len(pair tokens);
- windows start at 0 and step by max(1, W − stride) until one reaches the end of ids; at most
  `maxChunks` (1 in `truncate` mode): a text needing more is `truncated`;
- window = [CLS] + ids[s:s+W] + [SEP] (+ pair + [SEP]); token type 0 up to the first [SEP], 1 after;
- the raw outputs (logits, or the value for regression) are averaged over a text's windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from tokenizers import Tokenizer


@dataclass(frozen=True)
class LongText:
    """config.json `longText`: `truncate` keeps window 0; `chunk` runs up to `max_chunks` windows."""

    mode: str
    stride: int
    max_chunks: int

    @property
    def window_limit(self) -> int:
        return self.max_chunks if self.mode == "chunk" else 1

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "stride": self.stride, "maxChunks": self.max_chunks}

    @staticmethod
    def from_json(data: dict[str, Any] | None) -> LongText:
        """config.json `longText`; versions from before it truncate."""
        if not data:
            return TRUNCATE
        return LongText(str(data["mode"]), int(data["stride"]), int(data["maxChunks"]))


TRUNCATE = LongText("truncate", 0, 1)


@dataclass(frozen=True)
class Windows:
    """One text's model inputs: every window's input_ids and token_type_ids (specials included)."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    truncated: bool


class Chunker:
    """Builds windows from a `tokenizers.Tokenizer` (tokenizer.json, or a transformers fast
    tokenizer's backend) with its own truncation and padding turned off."""

    def __init__(self, tokenizer: Tokenizer, max_length: int, long_text: LongText = TRUNCATE):
        tok = Tokenizer.from_str(tokenizer.to_str())
        tok.no_truncation()
        tok.no_padding()
        specials = tok.encode("").ids  # [CLS, SEP] for BERT-style templates
        if len(specials) < 2:
            raise ValueError("the tokenizer adds no [CLS]/[SEP] around a text; windows need both")
        self.tokenizer, self.max_length, self.long_text = tok, max_length, long_text
        self.cls, self.sep = specials[0], specials[-1]

    def ids(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def windows(self, text: str, text_pair: str | None = None) -> Windows:
        ids = self.ids(text)
        pair = self.ids(text_pair)[: self.max_length // 2] if text_pair is not None else None
        width = self.max_length - 2 if pair is None else self.max_length - 3 - len(pair)
        starts = window_starts(len(ids), width, self.long_text.stride)
        limit = self.long_text.window_limit
        input_ids, types = [], []
        for s in starts[:limit]:
            head = [self.cls, *ids[s : s + width], self.sep]
            tail = [] if pair is None else [*pair, self.sep]
            input_ids.append(head + tail)
            types.append([0] * len(head) + [1] * len(tail))
        return Windows(input_ids, types, len(starts) > limit)

    def encode_all(self, texts: list[str], pairs: list[str] | None = None) -> Batch:
        """Every text's windows flattened, with `owners[i]` = the text window i belongs to."""
        batch = Batch([], [], [], [])
        for i, text in enumerate(texts):
            w = self.windows(text, pairs[i] if pairs is not None else None)
            batch.input_ids.extend(w.input_ids)
            batch.token_type_ids.extend(w.token_type_ids)
            batch.owners.extend([i] * len(w.input_ids))
            batch.truncated.append(w.truncated)
        return batch


@dataclass
class Batch:
    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    owners: list[int]
    truncated: list[bool]


def window_starts(n: int, width: int, stride: int) -> list[int]:
    """Start offsets of every window needed to cover n tokens (one window for an empty text)."""
    step = max(1, width - stride)
    starts = [0]
    while starts[-1] + width < n:
        starts.append(starts[-1] + step)
    return starts


def pool(outputs: np.ndarray, owners: list[int], n: int) -> np.ndarray:
    """Mean of the windows' raw outputs per text: [windows, k] → [n, k]."""
    sums = np.zeros((n, outputs.shape[1]), dtype=np.float64)
    np.add.at(sums, np.asarray(owners, dtype=np.int64), outputs.astype(np.float64))
    counts = np.bincount(np.asarray(owners, dtype=np.int64), minlength=n).astype(np.float64)
    out: np.ndarray = (sums / np.maximum(counts, 1.0)[:, None]).astype(np.float32)
    return out
