"""CSV records with the line an editor shows for each: the row-numbering rule of docs/contracts.md.

A location a user can find is the 1-based physical line where the record starts (the header is
line 1; a quoted newline makes later records start further down). The TypeScript validator
reports the same `line` (functions/dataset/rejection.ts); golden cases in
shared/contracts/fixtures/row-numbering.json hold both to it.
"""

from __future__ import annotations

import csv
import io


def numbered_records(text: str) -> list[tuple[int, list[str]]]:
    """Every record of `text` with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out: list[tuple[int, list[str]]] = []
    start = 1
    for row in reader:
        out.append((start, row))
        start = reader.line_num + 1
    return out
