"""The labelled CSV: read by URI, columns mapped, split into train/validation.

The label ↔ id map is the sorted set of label names, so the same data always gives the same
class ids (and `labels.json` order). The split is stratified per class with the run's seed,
unless the CSV has a split column (`train` / `validation`), which is then used as given.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from dataclasses import dataclass

from .errors import TrainerError
from .params import Params
from .storage import store_for

TRAIN_NAMES = {"train", "training"}
VALIDATION_NAMES = {"validation", "valid", "val", "eval", "dev", "test"}


@dataclass
class Dataset:
    uri: str
    sha256: str
    labels: list[str]
    train_texts: list[str]
    train_labels: list[int]
    val_texts: list[str]
    val_labels: list[int]

    @property
    def label_counts(self) -> dict[str, int]:
        counts = {name: 0 for name in self.labels}
        for i in self.train_labels + self.val_labels:
            counts[self.labels[i]] += 1
        return counts


def excerpt_names(names: list[str], most: int = 20, chars: int = 40) -> str:
    """At most `most` names, each escaped and cut to `chars`, then "and N more": file contents
    reach an error message only as a short excerpt (a 1 MiB header once made a 4 MiB run error)."""
    shown = [repr(n if len(n) <= chars else n[:chars] + "…") for n in names[:most]]
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")


def load_dataset(uri: str, params: Params) -> Dataset:
    """Reads and splits the CSV at `uri`; every problem is a `TrainerError` naming row/column."""
    raw = store_for(uri).read_bytes(uri)
    sha = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise TrainerError("failed_precondition", f"{uri} is not UTF-8 (byte {err.start})") from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise TrainerError("failed_precondition", f"{uri} is empty")
    header = [h.strip() for h in rows[0]]
    for col in (params.textColumn, params.labelColumn):
        if col not in header:
            raise TrainerError("failed_precondition", f"{uri}: header has no column {col!r} (columns: {excerpt_names(header)})")
    ti, li = header.index(params.textColumn), header.index(params.labelColumn)
    si = header.index(params.splitColumn) if params.splitColumn in header else None
    texts: list[str] = []
    names: list[str] = []
    splits: list[str] = []
    for n, row in enumerate(rows[1:], start=2):
        if not row or all(c.strip() == "" for c in row):
            continue
        if len(row) != len(header):
            raise TrainerError("failed_precondition", f"{uri}: row {n} has {len(row)} fields, header has {len(header)}")
        text, label = row[ti], row[li].strip()
        if not text.strip():
            raise TrainerError("failed_precondition", f"{uri}: row {n} column {params.textColumn!r} is empty")
        if not label:
            raise TrainerError("failed_precondition", f"{uri}: row {n} column {params.labelColumn!r} is empty")
        texts.append(text)
        names.append(label)
        if si is not None:
            split = row[si].strip().lower()
            if split not in TRAIN_NAMES | VALIDATION_NAMES:
                raise TrainerError("failed_precondition", f"{uri}: row {n} column {params.splitColumn!r} is {excerpt_names([row[si]], 1)}; expected train or validation")
            splits.append("validation" if split in VALIDATION_NAMES else "train")
    labels = sorted(set(names))
    if len(labels) < 2:
        raise TrainerError("failed_precondition", f"{uri}: needs at least 2 classes in column {params.labelColumn!r}, found {len(labels)}")
    label_id = {name: i for i, name in enumerate(labels)}
    ids = [label_id[name] for name in names]
    if si is not None:
        train_idx = [i for i, s in enumerate(splits) if s == "train"]
        val_idx = [i for i, s in enumerate(splits) if s == "validation"]
    else:
        train_idx, val_idx = stratified_split(ids, params.validationFraction, params.seed)
    if not train_idx or not val_idx:
        raise TrainerError("failed_precondition", f"{uri}: split leaves {len(train_idx)} training and {len(val_idx)} validation rows; both must be non-empty")
    return Dataset(
        uri=uri,
        sha256=sha,
        labels=labels,
        train_texts=[texts[i] for i in train_idx],
        train_labels=[ids[i] for i in train_idx],
        val_texts=[texts[i] for i in val_idx],
        val_labels=[ids[i] for i in val_idx],
    )


def stratified_split(ids: list[int], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Per class, a seeded shuffle puts round(n·fraction) rows (≥1 when the class has ≥2) in
    validation; row order inside each part is the file's order."""
    rng = random.Random(seed)
    by_class: dict[int, list[int]] = {}
    for i, c in enumerate(ids):
        by_class.setdefault(c, []).append(i)
    val: set[int] = set()
    for c in sorted(by_class):
        members = by_class[c][:]
        rng.shuffle(members)
        k = round(len(members) * fraction)
        if len(members) >= 2:
            k = min(max(k, 1), len(members) - 1)
        else:
            k = 0
        val.update(members[:k])
    train = [i for i in range(len(ids)) if i not in val]
    return train, sorted(val)
