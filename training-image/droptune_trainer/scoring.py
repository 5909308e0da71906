"""Scores per task (shared/contracts/task.ts TASK_METRICS). Classification and pair: accuracy,
macro-F1, per-class precision/recall/F1 and the confusion matrix (rows = true class, columns =
predicted), all in label-id order. Multilabel: micro/macro-F1 and per class with its tuned
threshold. Regression: RMSE, MAE, Spearman, R² and points for a scatter plot."""

from __future__ import annotations

from typing import Any

import numpy as np


def score(y_true: list[int] | np.ndarray, y_pred: list[int] | np.ndarray, labels: list[str]) -> dict[str, Any]:
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    k = len(labels)
    cm: np.ndarray = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    present = support > 0
    return {
        "accuracy": float(tp.sum() / max(1, len(y_true))),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": {
            labels[i]: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i in range(k)
        },
        "confusion_matrix": cm.tolist(),
    }


def tune_thresholds(y_true: np.ndarray, probs: np.ndarray, labels: list[str]) -> dict[str, float]:
    """Per class, the sigmoid score threshold that maximises that class's F1 on validation
    (candidates: 0.5, then every validation score from the highest; a tie keeps the earlier one,
    so 0.5 unless something is strictly better, else the highest threshold reaching the best). A class without validation positives keeps 0.5: nothing to tune on."""
    out: dict[str, float] = {}
    for c, name in enumerate(labels):
        truth: np.ndarray = y_true[:, c].astype(bool)
        p: np.ndarray = probs[:, c]
        best, best_f1 = 0.5, _f1(truth, p >= 0.5)
        if truth.any():
            for t in sorted(set(float(v) for v in p), reverse=True):
                f1 = _f1(truth, p >= t)
                if f1 > best_f1:
                    best, best_f1 = t, f1
        out[name] = float(best)
    return out


def _f1(truth: np.ndarray, pred: np.ndarray) -> float:
    tp = float((truth & pred).sum())
    denom = float(truth.sum() + pred.sum())
    return 2 * tp / denom if denom else 0.0


def multilabel_scores(y_true: np.ndarray, probs: np.ndarray, thresholds: dict[str, float], labels: list[str]) -> dict[str, Any]:
    """micro-F1 (every label decision counts once), macro-F1 over classes with support, and per
    class precision/recall/F1/support with its threshold."""
    truth: np.ndarray = y_true.astype(bool)
    pred: np.ndarray = probs >= np.array([thresholds.get(n, 0.5) for n in labels])[None, :]
    per_class = {}
    for c, name in enumerate(labels):
        t, p = truth[:, c], pred[:, c]
        tp = float((t & p).sum())
        precision = tp / p.sum() if p.sum() else 0.0
        recall = tp / t.sum() if t.sum() else 0.0
        per_class[name] = {"precision": precision, "recall": recall, "f1": _f1(t, p), "support": int(t.sum()),
                           "threshold": thresholds.get(name, 0.5)}
    present = [v["f1"] for v in per_class.values() if v["support"] > 0]
    return {"micro_f1": _f1(truth.ravel(), pred.ravel()), "macro_f1": float(np.mean(present)) if present else 0.0,
            "labels": labels, "per_class": per_class, "confusion_matrix": []}


POINTS_MAX = 500


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """RMSE, MAE, Spearman's rank correlation and R² in the target's units, and up to POINTS_MAX
    [true, predicted] pairs for the run page's scatter plot."""
    y, f = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    err = f - y
    ss_tot = float(((y - y.mean()) ** 2).sum()) if len(y) else 0.0
    step = max(1, -(-len(y) // POINTS_MAX))
    return {"rmse": float(np.sqrt((err ** 2).mean())) if len(y) else 0.0, "mae": float(np.abs(err).mean()) if len(y) else 0.0,
            "spearman": spearman(y, f), "r2": 1.0 - float((err ** 2).sum()) / ss_tot if ss_tot > 0 else 0.0,
            "labels": [], "per_class": {}, "confusion_matrix": [],
            "points": [[float(a), float(b)] for a, b in zip(y[::step], f[::step])]}


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of average ranks (ties share their mean rank); 0 when either is constant."""
    ra, rb = _ranks(a), _ranks(b)
    if len(a) < 2 or ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks: np.ndarray = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(len(x), dtype=np.float64)
    for v in np.unique(x):
        tied = x == v
        ranks[tied] = ranks[tied].mean()
    return ranks
