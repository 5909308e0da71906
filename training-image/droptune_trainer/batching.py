"""Batches for training and evaluation: length-grouped order and dynamic padding.

Sorting by length inside shuffled "mega-batches" keeps padding (wasted compute) small while
the batch order stays random; the order is a pure function of (seed, epoch), which is what
makes a resumed run skip exactly the batches it already trained on.
"""

from __future__ import annotations

import random

import torch

MEGA_BATCH_FACTOR = 50


def train_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    mega = batch_size * MEGA_BATCH_FACTOR
    batches: list[list[int]] = []
    for start in range(0, len(order), mega):
        chunk = sorted(order[start : start + mega], key=lambda i: lengths[i], reverse=True)
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def eval_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def collate(input_ids: list[list[int]], idx: list[int], pad_id: int, multiple_of: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Pads the chosen rows to the longest of them (rounded up to `multiple_of`, 8 on GPUs for
    tensor cores); returns (input_ids, attention_mask) as int64."""
    longest = max(len(input_ids[i]) for i in idx)
    if multiple_of > 1:
        longest = -(-longest // multiple_of) * multiple_of
    ids = torch.full((len(idx), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), longest), dtype=torch.long)
    for row, i in enumerate(idx):
        seq = input_ids[i]
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask
