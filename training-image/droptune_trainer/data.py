"""The labelled CSV: read by URI, columns mapped, split into train/validation.

The label ↔ id map is the sorted set of label names, so the same data always gives the same
class ids (and `labels.json` order). The split is split.py's: by a salted hash of the normalised
text (stable, duplicates collapsed, conflicts left out), or a checked user split column.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass

from .csv_lines import numbered_records
from .errors import TrainerError
from .params import Params
from .split import SPLIT_VALUES, Row, Split, split_rows
from .storage import store_for


@dataclass
class Dataset:
    uri: str
    sha256: str
    labels: list[str]
    split: Split
    train_texts: list[str]
    train_labels: list[int]
    val_texts: list[str]
    val_labels: list[int]
    # `pair`: the text_pair of each row (None for the other tasks)
    train_pairs: list[str] | None = None
    val_pairs: list[str] | None = None

    @property
    def label_counts(self) -> dict[str, int]:
        counts = {name: 0 for name in self.labels}
        for i in self.train_labels + self.val_labels:
            counts[self.labels[i]] += 1
        return counts

    @property
    def train_keys(self) -> list[str]:
        return [e.key for e in self.split.train]

    @property
    def val_keys(self) -> list[str]:
        return [e.key for e in self.split.validation]


def excerpt_names(names: list[str], most: int = 20, chars: int = 40) -> str:
    """At most `most` names, each escaped and cut to `chars`, then "and N more": file contents
    reach an error message only as a short excerpt (a 1 MiB header once made a 4 MiB run error)."""
    shown = [repr(n if len(n) <= chars else n[:chars] + "…") for n in names[:most]]
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")


def load_dataset(uri: str, params: Params, salt: str) -> Dataset:
    """Reads and splits the CSV at `uri` (rows keyed with `salt`, the model name); every problem
    is a `TrainerError` naming row/column."""
    raw = store_for(uri).read_bytes(uri)
    rows = read_rows(uri, raw, params)
    split = split_rows(rows, params.validationFraction, salt)
    for c in split.conflicts[:20]:
        where = "; ".join(f"{label!r} on line(s) {', '.join(map(str, lines[:5]))}" for label, lines in c.labels.items())
        print(f"[data] conflict: {c.text[:60]!r} is labelled {where}; left out of training and validation", file=sys.stderr, flush=True)
    labels = sorted({e.label for e in split.train + split.validation})
    if len(labels) < 2:
        raise TrainerError("failed_precondition", f"{uri}: needs at least 2 classes in column {params.labelColumn!r}, found {len(labels)}")
    if not split.train or not split.validation:
        raise TrainerError("failed_precondition", f"{uri}: split leaves {len(split.train)} training and {len(split.validation)} validation rows; both must be non-empty")
    label_id = {name: i for i, name in enumerate(labels)}
    return Dataset(
        uri=uri,
        sha256=hashlib.sha256(raw).hexdigest(),
        labels=labels,
        split=split,
        train_texts=[e.text for e in split.train],
        train_labels=[label_id[e.label] for e in split.train],
        val_texts=[e.text for e in split.validation],
        val_labels=[label_id[e.label] for e in split.validation],
        train_pairs=[e.pair or "" for e in split.train] if params.the_task == "pair" else None,
        val_pairs=[e.pair or "" for e in split.validation] if params.the_task == "pair" else None,
    )


def read_rows(uri: str, raw: bytes, params: Params) -> list[Row]:
    """The CSV's data rows with their line numbers (the header is line 1)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise TrainerError("failed_precondition", f"{uri} is not UTF-8 (byte {err.start})") from None
    records = numbered_records(text)
    if not records:
        raise TrainerError("failed_precondition", f"{uri} is empty")
    header = [h.strip() for h in records[0][1]]
    pair_column = params.textPairColumn if params.the_task == "pair" else None
    for col in (params.textColumn, params.labelColumn, *([pair_column] if pair_column else [])):
        if col not in header:
            raise TrainerError("failed_precondition", f"{uri}: header has no column {col!r} (columns: {excerpt_names(header)})")
    ti, li = header.index(params.textColumn), header.index(params.labelColumn)
    si = header.index(params.splitColumn) if params.splitColumn in header else None
    pi = header.index(pair_column) if pair_column else None
    rows: list[Row] = []
    for n, row in records[1:]:  # n: the line an editor shows (docs/contracts.md)
        if not row or all(c.strip() == "" for c in row):
            continue
        if len(row) != len(header):
            raise TrainerError("failed_precondition", f"{uri}: line {n} has {len(row)} fields, header has {len(header)}")
        text, label = row[ti], row[li].strip()
        if not text.strip():
            raise TrainerError("failed_precondition", f"{uri}: line {n} column {params.textColumn!r} is empty")
        if not label:
            raise TrainerError("failed_precondition", f"{uri}: line {n} column {params.labelColumn!r} is empty")
        pair = None
        if pi is not None:
            pair = row[pi]
            if not pair.strip():
                raise TrainerError("failed_precondition", f"{uri}: line {n} column {pair_column!r} is empty")
        split = None
        if si is not None:
            split = row[si].strip().lower()
            if split not in SPLIT_VALUES:
                raise TrainerError("failed_precondition", f"{uri}: line {n} column {params.splitColumn!r} is {excerpt_names([row[si]], 1)}; expected one of {', '.join(SPLIT_VALUES)}")
        rows.append(Row(text, label, n, split, pair))
    return rows
