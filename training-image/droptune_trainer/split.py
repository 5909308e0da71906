"""Train/validation assignment that is stable and leak-free.

Every row is keyed by `text_key` (normalised text, salted with the model name). Rows with the same
key are one example: exact duplicates collapse (counted), and a key seen with two labels is a
conflict (counted, with the lines, and left out of both sides: no label is right for it).

An example goes to validation when its key's bucket is below the validation fraction, so its side
depends only on its own text: appending rows, reordering the file or changing the seed never moves
an existing example across the split. Stratification keeps every class on both sides: a class
with no validation example lends its lowest-bucket example to validation, a class with no
training example keeps its highest-bucket example in training (both choices are again functions
of the texts alone). Classes are `Row.label`: the class, a multilabel row's label set, or for
regression the target's quintile (`value_strata`).

A user `split` column (`train` / `validation` / `test`, checked by the validator) is honoured
instead; `test` rows are held out of both. Duplicates take the side of their first occurrence.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from .text_key import KEY_VERSION, bucket, text_key

SPLIT_VALUES = ("train", "validation", "test")


@dataclass(frozen=True)
class Row:
    text: str
    label: str
    line: int
    split: str | None = None  # from a user split column
    pair: str | None = None  # `pair` task: the text_pair column


# Between a text and its text_pair in a pair row's key: not whitespace, so normalisation keeps it,
# and never typed in a CSV cell, so ("a b", "c") and ("a", "b c") stay two examples.
PAIR_SEPARATOR = " \u001f "


def row_key(row: Row, salt: str) -> str:
    """The example's identity: its text, or for a pair both texts in order."""
    return text_key(row.text if row.pair is None else f"{row.text}{PAIR_SEPARATOR}{row.pair}", salt)


@dataclass(frozen=True)
class Example:
    key: str
    text: str
    label: str
    line: int
    side: str  # train | validation | test
    pair: str | None = None


@dataclass(frozen=True)
class Conflict:
    key: str
    text: str
    labels: dict[str, list[int]]  # label → lines


@dataclass
class Split:
    method: str  # "hash" or "column"
    train: list[Example]
    validation: list[Example]
    duplicates: int
    conflicts: list[Conflict] = field(default_factory=list)
    test_rows: int = 0

    @property
    def fingerprint(self) -> str:
        """Digest of the validation keys: two runs with the same validation rows show the same value."""
        return validation_fingerprint([e.key for e in self.validation])


def validation_fingerprint(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


def split_rows(rows: list[Row], fraction: float, salt: str, strata: Callable[[str], str] | None = None) -> Split:
    """`strata` maps a row's label to the group stratification keeps on both sides (default: the label)."""
    examples, duplicates, conflicts = _collapse(rows, salt)
    if any(r.split is not None for r in rows):
        sides = {e.key: e.side for e in examples}
        method = "column"
    else:
        sides = _hash_sides(examples, fraction, strata or (lambda label: label))
        method = "hash"
    # In key order, not file order: a reordered file then trains the very same model (batches are
    # drawn from this order), so the gate sees a tie, not a different fine-tune.
    placed = sorted((Example(e.key, e.text, e.label, e.line, sides[e.key], e.pair) for e in examples), key=lambda e: e.key)
    return Split(
        method=method,
        train=[e for e in placed if e.side == "train"],
        validation=[e for e in placed if e.side == "validation"],
        duplicates=duplicates,
        conflicts=conflicts,
        test_rows=sum(1 for e in placed if e.side == "test"),
    )


def _collapse(rows: list[Row], salt: str) -> tuple[list[Example], int, list[Conflict]]:
    """One example per key in first-seen order; conflicting keys are dropped and reported."""
    first: dict[str, Example] = {}
    lines: dict[str, dict[str, list[int]]] = {}
    for row in rows:
        key = row_key(row, salt)
        lines.setdefault(key, {}).setdefault(row.label, []).append(row.line)
        if key not in first:
            first[key] = Example(key, row.text, row.label, row.line, row.split or "train", row.pair)
    conflicts = [Conflict(k, first[k].text, by_label) for k, by_label in lines.items() if len(by_label) > 1]
    bad = {c.key for c in conflicts}
    examples = [e for k, e in first.items() if k not in bad]
    duplicates = sum(len(ls) - 1 for k, by_label in lines.items() if k not in bad for ls in by_label.values())
    return examples, duplicates, conflicts


STRATA_BINS = 5


def value_strata(rows: list[Row]) -> Callable[[str], str]:
    """Regression: a target's quintile among all rows' targets (labels are numbers as text), so
    low and high targets both reach validation."""
    values = sorted(float(r.label) for r in rows)
    edges = [values[len(values) * i // STRATA_BINS] for i in range(1, STRATA_BINS)] if values else []
    return lambda label: str(bisect.bisect_right(edges, float(label)))


def _hash_sides(examples: list[Example], fraction: float, strata: Callable[[str], str]) -> dict[str, str]:
    sides = {e.key: "validation" if bucket(e.key) < fraction else "train" for e in examples}
    by_label: dict[str, list[str]] = {}
    for e in examples:
        by_label.setdefault(strata(e.label), []).append(e.key)
    for keys in by_label.values():
        if len(keys) < 2:
            continue
        ordered = sorted(keys, key=bucket)
        if all(sides[k] == "train" for k in keys):
            sides[ordered[0]] = "validation"
        if all(sides[k] == "validation" for k in keys):
            sides[ordered[-1]] = "train"
    return sides


def describe(split: Split) -> str:
    return (f"{split.method} split (key {KEY_VERSION}): {len(split.train)} train / {len(split.validation)} validation examples, "
            f"{split.duplicates} duplicate row(s) collapsed, {len(split.conflicts)} conflicting text(s) left out")
