"""A version's training-set fingerprint (`split.json`): which texts it trained on and which it
was validated on, as 64-bit prefixes of their salted keys (text_key.py).

Exact set membership over 64-bit prefixes: the chance that a row the champion never saw is taken
for a training row is about n_train / 2^64 per row (≈ 5e-15 for 100 000 training rows), and the
file costs 19 bytes per row. A mistaken "seen" only removes a row from the comparison; it never
lets a training row in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .split import Split, validation_fingerprint
from .text_key import KEY_VERSION

PREFIX_HEX = 16


@dataclass(frozen=True)
class TrainingFingerprint:
    salt: str
    key_version: str
    train: frozenset[str]

    def contains(self, key: str) -> bool:
        return key[:PREFIX_HEX] in self.train

    @staticmethod
    def from_json(data: dict[str, Any]) -> TrainingFingerprint:
        return TrainingFingerprint(str(data["salt"]), str(data["keyVersion"]), frozenset(data["trainKeys"]))


def split_json(split: Split, salt: str) -> dict[str, Any]:
    """The `split.json` artifact: the fingerprint a later run's champion check reads."""
    return {
        "method": split.method,
        "keyVersion": KEY_VERSION,
        "salt": salt,
        "keyPrefixHex": PREFIX_HEX,
        "validationFingerprint": split.fingerprint,
        "trainKeys": sorted(e.key[:PREFIX_HEX] for e in split.train),
        "validationKeys": sorted(e.key[:PREFIX_HEX] for e in split.validation),
    }


__all__ = ["TrainingFingerprint", "split_json", "validation_fingerprint"]
