"""The labelled CSV: read by URI, columns mapped, split into train/validation.

The label ↔ id map is the sorted set of label names, so the same data always gives the same
class ids (and `labels.json` order). The split is split.py's: by a salted hash of the normalised
text (stable, duplicates collapsed, conflicts left out), or a checked user split column.

Per task (shared/contracts/task.ts): classification and pair read `labelColumn`; multilabel reads
`labelsColumn`, split on `labelDelimiter` and trimmed (a row's label set, canonically sorted, is
its `Row.label`, so duplicates, conflicts and stratification work on label sets) with multi-hot
targets over the sorted classes; regression reads `scoreColumn` (else `labelColumn`) as floats,
stratified by target quintile.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .csv_lines import numbered_records
from .errors import TrainerError
from .params import Params
from .split import SPLIT_VALUES, Row, Split, split_rows, value_strata
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
    # What the loss and scores compare against, per task: the class id (classification, pair),
    # a 0/1 vector over `labels` (multilabel) or the value (regression).
    train_targets: list[Any] = field(default_factory=list)
    val_targets: list[Any] = field(default_factory=list)

    @property
    def label_counts(self) -> dict[str, int]:
        counts = {name: 0 for name in self.labels}
        for t in self.train_targets + self.val_targets:
            if isinstance(t, list):  # multilabel: a row counts once for each of its classes
                for name, on in zip(self.labels, t):
                    counts[name] += int(on)
            elif isinstance(t, int):
                counts[self.labels[t]] += 1
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
    task = params.the_task
    split = split_rows(rows, params.validationFraction, salt, value_strata(rows) if task == "regression" else None)
    for c in split.conflicts[:20]:
        where = "; ".join(f"{label!r} on line(s) {', '.join(map(str, lines[:5]))}" for label, lines in c.labels.items())
        print(f"[data] conflict: {c.text[:60]!r} is labelled {where}; left out of training and validation", file=sys.stderr, flush=True)
    if not split.train or not split.validation:
        raise TrainerError("failed_precondition", f"{uri}: split leaves {len(split.train)} training and {len(split.validation)} validation rows; both must be non-empty")
    labels, encode = _targets(uri, params, [e.label for e in split.train + split.validation])
    train_targets, val_targets = [encode(e.label) for e in split.train], [encode(e.label) for e in split.validation]
    ids = task in ("classification", "pair")
    return Dataset(
        uri=uri,
        sha256=hashlib.sha256(raw).hexdigest(),
        labels=labels,
        split=split,
        train_texts=[e.text for e in split.train],
        train_labels=train_targets if ids else [],
        val_texts=[e.text for e in split.validation],
        val_labels=val_targets if ids else [],
        train_pairs=[e.pair or "" for e in split.train] if task == "pair" else None,
        val_pairs=[e.pair or "" for e in split.validation] if task == "pair" else None,
        train_targets=train_targets,
        val_targets=val_targets,
    )


def _targets(uri: str, params: Params, cells: list[str]) -> tuple[list[str], Callable[[str], Any]]:
    """`labels.json` and the encoder of a row's `Row.label` into its training target."""
    task = params.the_task
    if task == "regression":
        return [target_column(params)], float
    if task == "multilabel":
        labels = sorted({name for cell in cells for name in cell.split(LABEL_SET_JOIN)})
        if len(labels) < 2:
            raise TrainerError("failed_precondition", f"{uri}: needs at least 2 classes in column {params.labelsColumn!r}, found {len(labels)}")
        return labels, lambda cell: [1.0 if name in cell.split(LABEL_SET_JOIN) else 0.0 for name in labels]
    labels = sorted(set(cells))
    if len(labels) < 2:
        raise TrainerError("failed_precondition", f"{uri}: needs at least 2 classes in column {params.labelColumn!r}, found {len(labels)}")
    label_id = {name: i for i, name in enumerate(labels)}
    return labels, label_id.__getitem__


# Between the classes of a multilabel row's canonical label set (never inside a trimmed class name).
LABEL_SET_JOIN = "\n"


def target_column(params: Params) -> str:
    """The column a row's target is read from, per task."""
    if params.the_task == "multilabel":
        return params.labelsColumn
    if params.the_task == "regression" and params.scoreColumn:
        return params.scoreColumn
    return params.labelColumn


def _target_cell(uri: str, n: int, column: str, cell: str, params: Params) -> str:
    """The row's target as `Row.label`: the trimmed class, the canonical label set or the number."""
    value = cell.strip()
    if not value:
        code = "an empty label set" if params.the_task == "multilabel" else "empty"
        raise TrainerError("failed_precondition", f"{uri}: line {n} column {column!r} is {code}")
    if params.the_task == "multilabel":
        names = [c.strip() for c in value.split(params.labelDelimiter)]
        if any(not c for c in names):
            raise TrainerError("failed_precondition", f"{uri}: line {n} column {column!r} has an empty class between "
                               f"{params.labelDelimiter!r} delimiters ({excerpt_names([cell], 1)})")
        return LABEL_SET_JOIN.join(sorted(set(names)))
    if params.the_task == "regression":
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise TrainerError("failed_precondition", f"{uri}: line {n} column {column!r} is {excerpt_names([cell], 1)}; expected a finite number")
        return repr(number)
    return value


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
    label_column = target_column(params)
    if params.the_task == "regression" and params.scoreColumn and params.scoreColumn not in header:
        label_column = params.labelColumn  # scoreColumn, else labelColumn (shared/contracts/task.ts)
    for col in (params.textColumn, label_column, *([pair_column] if pair_column else [])):
        if col not in header:
            raise TrainerError("failed_precondition", f"{uri}: header has no column {col!r} (columns: {excerpt_names(header)})")
    ti, li = header.index(params.textColumn), header.index(label_column)
    si = header.index(params.splitColumn) if params.splitColumn in header else None
    pi = header.index(pair_column) if pair_column else None
    rows: list[Row] = []
    for n, row in records[1:]:  # n: the line an editor shows (docs/contracts.md)
        if not row or all(c.strip() == "" for c in row):
            continue
        if len(row) != len(header):
            raise TrainerError("failed_precondition", f"{uri}: line {n} has {len(row)} fields, header has {len(header)}")
        text = row[ti]
        if not text.strip():
            raise TrainerError("failed_precondition", f"{uri}: line {n} column {params.textColumn!r} is empty")
        label = _target_cell(uri, n, label_column, row[li], params)
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
