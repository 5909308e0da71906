"""The one definition of "the same text": normalisation and the salted row hash.

The validator (functions/dataset/text-key.ts) implements the same rules; both are checked
against the golden vectors in shared/text-key.vectors.json, so a conflict the validator reports
before any VM is exactly a conflict the trainer sees.

Normalisation (version `v1`), in order:
1. Unicode NFC;
2. case folding as `lower(upper(s))` with final sigma `ς` folded to `σ` — the part of full case
   folding that Python and JavaScript compute identically (`str.casefold` has no JS equivalent);
3. NFC again (case mapping can produce decomposed sequences);
4. every run of whitespace (the explicit set `WHITESPACE` below, identical in both languages)
   becomes one space, and the ends are trimmed.

The key is `sha256(salt + "\\n" + normalised)`; the salt is the model name, so two models never
share split assignments by accident, while every run of one model keeps its rows where they were.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

KEY_VERSION = "v1"
WHITESPACE = "\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_RUNS = re.compile(f"[{WHITESPACE}]+")
# 13 hex digits = 52 bits: exactly representable as a double, so TS computes the same fraction.
_BUCKET_HEX = 13
_BUCKETS = 1 << (4 * _BUCKET_HEX)  # 16**13, as an int (int ** int is typed as Any)


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFC", text).upper().lower().replace("\u03c2", "\u03c3")
    return _RUNS.sub(" ", unicodedata.normalize("NFC", folded)).strip(" ")


def text_key(text: str, salt: str) -> str:
    """Hex sha256 of the salted normalised text: equal for texts that count as duplicates."""
    return hashlib.sha256(f"{salt}\n{normalise(text)}".encode()).hexdigest()


def bucket(key: str) -> float:
    """The key as a fraction in [0, 1): a row is in validation when its bucket < the fraction."""
    return int(key[:_BUCKET_HEX], 16) / _BUCKETS
