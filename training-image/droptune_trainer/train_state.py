"""The training loop's resumable state, saved as a checkpoint's `state.json`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class TrainState:
    epoch: int = 0  # epochs finished
    batch: int = 0  # batches of the current epoch finished
    step: int = 0
    best: float | None = None
    bestEpoch: int = 0
    bestCheckpoint: str | None = None
    badEpochs: int = 0
    stoppedEarly: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    trainSamples: int = 0
    trainSeconds: float = 0.0
    bestEval: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> TrainState:
        """Known fields only: a checkpoint's extra keys (the optimizer's metadata) are not state."""
        names = {f.name for f in fields(TrainState)}
        return TrainState(**{k: v for k, v in data.items() if k in names})
