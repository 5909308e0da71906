"""From a model's raw outputs on the validation texts to the task's scores, loss and gate.

One place decides what the raw outputs mean per task (shared/contracts/task.ts), so the epoch
evaluation (PyTorch), the served artifact's scores (ONNX fp32 and int8) and the gate agree:
- classification, pair: argmax → scoring.score;
- multilabel: sigmoid, thresholds tuned on these rows (or the fp32 ones, for int8) → micro/macro-F1;
- regression: the value in target units → RMSE, MAE, Spearman, R² and points.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .gate import GateSettings
from .heads import task_loss
from .onnx_eval import sigmoid
from .params import task_metrics
from .scoring import multilabel_scores, regression_scores, score, tune_thresholds

SINGLE_LABEL = ("classification", "pair")


def task_scores(task: str, raw: np.ndarray, targets: list[Any], labels: list[str],
                thresholds: dict[str, float] | None = None) -> tuple[dict[str, Any], dict[str, float] | None]:
    """The scores of `raw` against `targets`, and the multilabel thresholds used (tuned here unless given)."""
    if task == "multilabel":
        truth, probs = np.asarray(targets, dtype=np.float64), sigmoid(raw)
        tuned = thresholds if thresholds is not None else tune_thresholds(truth, probs, labels)
        return multilabel_scores(truth, probs, tuned, labels), tuned
    if task == "regression":
        return regression_scores(np.asarray(targets, dtype=np.float64), raw[:, 0]), None
    return score(targets, raw.argmax(axis=1), labels), None


def eval_loss(task: str, raw: np.ndarray, targets: list[Any], target_mean: float = 0.0, target_std: float = 1.0) -> float:
    """The training loss on validation: on standardised targets for regression (`raw` is the
    model's standardised output there), on class ids or 0/1 vectors otherwise."""
    y = torch.tensor(targets, dtype=torch.float32 if task in ("multilabel", "regression") else torch.long)
    if task == "regression":
        y = (y - target_mean) / target_std
    return float(task_loss(task, torch.from_numpy(raw), y).item())


def headline_scores(task: str, scores: dict[str, Any]) -> dict[str, float]:
    """The task's metrics (numbers only), in task.ts order."""
    return {m: float(scores[m]) for m in task_metrics(task)}


def task_gate(settings: GateSettings, task: str, scores: dict[str, Any], min_r2: float | None, has_champion: bool) -> dict[str, Any]:
    """The gate for multilabel and regression: the minimums that apply to the task; a champion
    comparison on unseen rows is not built for these tasks yet, so with a champion the run holds
    (the reason says so) instead of replacing production unchecked."""
    m = settings.metric
    base = {"metric": m, "challenger": float(scores[m]), "champion": None, "rows": 0, "settings": settings.to_json()}
    short = None
    if "macro_f1" in scores and scores["macro_f1"] < settings.minMacroF1:
        short = f"macro_f1 {scores['macro_f1']:.4f} is below gate.minMacroF1 {settings.minMacroF1}"
    if task == "regression" and min_r2 is not None and scores["r2"] < min_r2:
        short = f"r2 {scores['r2']:.4f} is below gate.minR2 {min_r2}"
    if short:
        return {**base, "decision": "hold", "reason": short}
    if has_champion:
        return {**base, "decision": "hold",
                "reason": f"comparing a {task} challenger with the production champion is not supported by this trainer version; "
                          f"{m} {scores[m]:.4f} clears the minimums: promote it by hand if it should serve"}
    return {**base, "decision": "no-champion", "reason": f"no production model yet; {m} {scores[m]:.4f} clears the minimums"}
