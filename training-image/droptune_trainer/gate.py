"""The quality gate: challenger vs champion on the same rows, by the same code, with a paired
bootstrap for the uncertainty of the difference.

Settings come from `droptune.json` `gate` (via DROPTUNE_PARAMS) over the stack defaults below.
The decision is one of:
- `no-champion`: nothing in production yet; the challenger only has to clear the minimums;
- `promote`: better than the champion beyond noise (the 95 % interval of the paired difference
  lies above 0), or equal within noise and `promoteTies` (the newer model, trained on newer data);
- `hold`: below a minimum, worse, too few rows the champion never trained on, or no comparison
  possible (the reason says which).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

import numpy as np

from .contracts import load_schema
from .errors import TrainerError

METRICS = ("accuracy", "macro_f1")
BOOTSTRAP_SAMPLES = 1000
METRIC_DIRECTIONS: dict[str, str] = load_schema("tasks")["metricDirections"]


@dataclass(frozen=True)
class GateSettings:
    metric: str = "macro_f1"
    # Absolute minimums apply only when droptune.json sets them: unset, the workflow's gate applies
    # the stack's defaults (GATE_MIN_ACCURACY, …), which the trainer does not know.
    minAccuracy: float = 0.0
    minMacroF1: float = 0.0
    # How much worse (point estimate) a challenger may be and still count as a tie.
    maxRegression: float = 0.01
    # Validation rows the champion never trained on needed before comparing at all.
    minRows: int = 30
    promoteTies: bool = True
    # int8 is served only when it loses at most this much of the gate metric against fp32.
    maxInt8Loss: float = 0.01
    # regression: the least R² a challenger needs (unset: none here; task_scores.task_gate).
    minR2: float | None = None

    def to_json(self) -> dict:
        return asdict(self)


def parse_gate_settings(raw_params: str | None) -> GateSettings:
    """The `gate` object of DROPTUNE_PARAMS (absent: defaults); a bad key or value names itself."""
    try:
        data = json.loads(raw_params) if raw_params and raw_params.strip() else {}
    except json.JSONDecodeError:
        return GateSettings()  # params.py reports the JSON error itself
    gate = data.get("gate", {}) if isinstance(data, dict) else {}
    if not isinstance(gate, dict):
        raise TrainerError("invalid_argument", "params.gate must be an object")
    known = {f.name: f.type for f in fields(GateSettings)}
    unknown = sorted(set(gate) - set(known))
    if unknown:
        raise TrainerError("invalid_argument", f"params.gate has unknown key(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    values = {}
    for key, value in gate.items():
        values[key] = _check(key, value)
    return GateSettings(**values)


def _check(key: str, value):
    if key == "metric":
        # Any task's metric (schemas/tasks.json); params.py checks it is one the run's task reports.
        if value not in METRIC_DIRECTIONS:
            raise TrainerError("invalid_argument", f"params.gate.metric must be one of {', '.join(METRIC_DIRECTIONS)}, got {json.dumps(value)}")
        return value
    if key == "promoteTies":
        if not isinstance(value, bool):
            raise TrainerError("invalid_argument", f"params.gate.promoteTies must be true or false, got {json.dumps(value)}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TrainerError("invalid_argument", f"params.gate.{key} must be a number, got {json.dumps(value)}")
    if key == "minRows":
        if value != int(value) or not 1 <= value <= 10**6:
            raise TrainerError("invalid_argument", f"params.gate.minRows must be an integer between 1 and 1000000, got {value}")
        return int(value)
    if key == "minR2":
        if not -1 <= value <= 1:
            raise TrainerError("invalid_argument", f"params.gate.minR2 must be between -1 and 1, got {value}")
        return float(value)
    if not 0 <= value <= 1:
        raise TrainerError("invalid_argument", f"params.gate.{key} must be between 0 and 1, got {value}")
    return float(value)


def metric_value(metric: str, y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """Accuracy or macro-F1 (over the classes present in `y`), as scoring.score computes them."""
    if len(y) == 0:
        return 0.0
    if metric == "accuracy":
        return float(np.mean(y == pred))
    pred = np.where(pred < 0, k, pred)  # a label this dataset lacks: its own column, never right
    k += 1
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    tp = np.diag(cm).astype(np.float64)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    return float(f1[support > 0].mean())


def paired_bootstrap(metric: str, y, challenger, champion, k: int, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of metric(challenger) − metric(champion) over resampled rows
    (the same rows for both in each resample: the comparison is paired)."""
    y, a, b = (np.asarray(v, dtype=np.int64) for v in (y, challenger, champion))
    rng = np.random.default_rng(seed)
    diffs = np.empty(samples)
    for s in range(samples):
        idx = rng.integers(0, len(y), len(y))
        diffs[s] = metric_value(metric, y[idx], a[idx], k) - metric_value(metric, y[idx], b[idx], k)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return float(lo), float(hi)


@dataclass(frozen=True)
class ChampionRows:
    """The champion's predictions on the validation rows it never trained on (`indexes` into the
    challenger's validation set), or why there are none."""

    version: str
    indexes: list[int]
    predictions: list[int]
    problem: str | None = None


def decide(settings: GateSettings, y_val: list[int], challenger_pred: list[int], k: int, champion: ChampionRows | None) -> dict:
    """The `gate` object of metrics.json: {metric, challenger, champion, rows, decision, reason, …}."""
    m = settings.metric
    y, pred = np.asarray(y_val, dtype=np.int64), np.asarray(challenger_pred, dtype=np.int64)
    overall = {name: metric_value(name, y, pred, k) for name in METRICS}
    base = {"metric": m, "challenger": overall[m], "champion": None, "rows": 0, "settings": settings.to_json()}
    short = _below_minimum(settings, overall)
    if champion is None:
        decision = "hold" if short else "no-champion"
        return {**base, "decision": decision, "reason": short or f"no production model yet; {m} {overall[m]:.4f} clears the minimums"}
    if short:
        return {**base, "decision": "hold", "reason": short}
    if champion.problem:
        return {**base, "decision": "hold", "reason": f"champion {champion.version}: {champion.problem}"}
    rows = len(champion.indexes)
    if rows < settings.minRows:
        return {**base, "rows": rows, "decision": "hold",
                "reason": f"only {rows} validation row(s) were never in champion {champion.version}'s training set; "
                          f"at least {settings.minRows} (gate.minRows) are needed to compare"}
    idx = np.asarray(champion.indexes, dtype=np.int64)
    ys, ours, theirs = y[idx], pred[idx], np.asarray(champion.predictions, dtype=np.int64)
    a, b = metric_value(m, ys, ours, k), metric_value(m, ys, theirs, k)
    lo, hi = paired_bootstrap(m, ys, ours, theirs, k)
    result = {**base, "challenger": a, "champion": b, "rows": rows, "difference": a - b, "ci95": [lo, hi],
              "challengerAllRows": overall[m]}
    on = f"on {rows} rows champion {champion.version} never trained on"
    if lo > 0:
        return {**result, "decision": "promote", "reason": f"better beyond noise: {m} {a:.4f} vs {b:.4f} {on} (95% CI of the difference [{lo:+.4f}, {hi:+.4f}])"}
    if a - b >= -settings.maxRegression and hi >= 0:
        tie = f"equal within noise: {m} {a:.4f} vs {b:.4f} {on} (95% CI [{lo:+.4f}, {hi:+.4f}])"
        if settings.promoteTies:
            return {**result, "decision": "promote", "reason": f"{tie}; the newer model is promoted (gate.promoteTies)"}
        return {**result, "decision": "hold", "reason": f"{tie}; gate.promoteTies is false"}
    return {**result, "decision": "hold", "reason": f"worse: {m} {a:.4f} vs {b:.4f} {on} (95% CI [{lo:+.4f}, {hi:+.4f}], gate.maxRegression {settings.maxRegression})"}


def _below_minimum(settings: GateSettings, overall: dict[str, float]) -> str | None:
    if overall["accuracy"] < settings.minAccuracy:
        return f"accuracy {overall['accuracy']:.4f} is below gate.minAccuracy {settings.minAccuracy}"
    if overall["macro_f1"] < settings.minMacroF1:
        return f"macro_f1 {overall['macro_f1']:.4f} is below gate.minMacroF1 {settings.minMacroF1}"
    return None
