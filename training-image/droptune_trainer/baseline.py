"""The cheap baseline every run fits beside the fine-tune: the base model's frozen, mean-pooled
embeddings with a multinomial logistic-regression head.

Why: on small data full fine-tuning may buy nothing (issue 14 measured 0.953 for this baseline
against 0.940 for the fine-tune on held-out support tickets, in seconds of CPU). So the run
fits it on the same split, scores it on the same validation rows, and serves it whenever the
fine-tune does not beat it beyond noise (`choose`): the cheapest model that is as good wins.

`BaselineClassifier` is one torch module — encoder, attention-masked mean pooling, linear head —
taking `input_ids` and `attention_mask` and returning `.logits`, so the export path used for
fine-tuned models (ONNX graph, parity, int8, golden vectors) exports it as ONE ONNX graph that
serving loads unchanged. Feature standardisation stays a separate step in the graph: folded into
the head's weights (w / std) it gives them a range int8 cannot hold — bench:quantize measured the
folded head's int8 graph at 0.27 accuracy against 0.91 in fp32 on the support-ticket data.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from transformers.modeling_outputs import SequenceClassifierOutput

from .batching import collate, eval_batches
from .gate import METRICS, metric_value, paired_bootstrap
from .train_loop import class_weights

# L2 strength (C: the penalty is ½‖W‖² / C against the summed log-loss on standardised features),
# chosen per run by 3-fold cross-validation on the training rows: the most regularised C whose
# cross-validated log-loss is within one standard error of the best (the one-standard-error rule).
# A fixed C = 1 (scikit-learn's default) overfits as rows grow: on examples/support-tickets it
# scored 0.873 on heldout.csv with 2,500 rows; the rule picks C = 0.01 there (0.953).
INVERSE_REGULARISATION_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
CV_FOLDS = 3
LBFGS_MAX_ITER = 200


class StandardisedHead(torch.nn.Module):  # type: ignore[misc]  # torch is untyped here (pyproject)
    """(x − mean) / std, then a linear layer: the logistic regression as fitted."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, linear: torch.nn.Linear):
        super().__init__()
        self.register_buffer("mean", mean.float())
        self.register_buffer("std", std.float())
        self.linear = linear

    @property
    def out_features(self) -> int:
        return int(self.linear.out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear((x - self.mean) / self.std)


class BaselineClassifier(torch.nn.Module):  # type: ignore[misc]
    """Frozen encoder → mean over real tokens → standardised linear head. `config` carries what
    the export helpers read from a Hugging Face model (num_labels, pad_token_id)."""

    def __init__(self, encoder: torch.nn.Module, head: StandardisedHead):
        super().__init__()
        self.encoder = encoder
        self.head = head
        self.config = SimpleNamespace(num_labels=head.out_features, pad_token_id=getattr(encoder.config, "pad_token_id", 0) or 0)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SequenceClassifierOutput:
        return SequenceClassifierOutput(logits=self.head(mean_pool(self.encoder, input_ids, attention_mask)))


def mean_pool(encoder: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the last hidden states over the tokens the mask marks real (padding excluded)."""
    hidden = encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def embed(encoder: torch.nn.Module, ids: list[list[int]], batch_size: int, pad_id: int, device: torch.device) -> np.ndarray:
    """Mean-pooled fp32 embeddings of already-encoded rows, in row order."""
    encoder = encoder.to(device).float().eval()
    out: np.ndarray = np.zeros((len(ids), int(encoder.config.hidden_size)), dtype=np.float32)  # DistilBERT maps hidden_size to dim
    with torch.no_grad():
        for idx in eval_batches([len(s) for s in ids], batch_size):
            input_ids, mask = collate(ids, idx, pad_id)
            out[idx] = mean_pool(encoder, input_ids.to(device), mask.to(device)).float().cpu().numpy()
    return out


def fit_head(x: np.ndarray, y: list[int], k: int, weights: list[float] | None = None) -> StandardisedHead:
    """Multinomial logistic regression (L-BFGS, float64) on standardised features, its L2
    strength chosen by cross-validation (`choose_inverse_regularisation`)."""
    xt = torch.tensor(x, dtype=torch.float64)
    mean, std = xt.mean(dim=0), xt.std(dim=0, unbiased=False).clamp(min=1e-6)
    z = (xt - mean) / std
    target = torch.tensor(y, dtype=torch.long)
    class_w = torch.tensor(weights, dtype=torch.float64) if weights else None
    c = choose_inverse_regularisation(z, target, k, class_w)
    w, b = _fit_logistic(z, target, k, c, class_w)
    linear = torch.nn.Linear(x.shape[1], k)
    with torch.no_grad():
        linear.weight.copy_(w.float())
        linear.bias.copy_(b.float())
    return StandardisedHead(mean, std, linear)


def choose_inverse_regularisation(z: torch.Tensor, target: torch.Tensor, k: int, class_w: torch.Tensor | None) -> float:
    """The most regularised C of the grid whose cross-validated log-loss is within one standard
    error of the best. Folds interleave rows (the split already orders them by hash key); with
    fewer rows than folds × classes the middle of the grid is used as is."""
    n = int(z.shape[0])
    if n < CV_FOLDS * max(k, 2):
        return 0.1
    fold = torch.arange(n) % CV_FOLDS
    losses = []
    for c in INVERSE_REGULARISATION_GRID:
        per_row = torch.zeros(n, dtype=torch.float64)
        for f in range(CV_FOLDS):
            held = fold == f
            w, b = _fit_logistic(z[~held], target[~held], k, c, class_w)
            per_row[held] = torch.nn.functional.cross_entropy(z[held] @ w.T + b, target[held], reduction="none")
        losses.append((float(per_row.mean()), float(per_row.std() / n**0.5)))
    best = min(range(len(losses)), key=lambda i: losses[i][0])
    limit = losses[best][0] + losses[best][1]
    return next(c for c, (loss, _) in zip(INVERSE_REGULARISATION_GRID, losses) if loss <= limit)


def _fit_logistic(z: torch.Tensor, target: torch.Tensor, k: int, c: float,
                  class_w: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    w = torch.zeros((k, z.shape[1]), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=LBFGS_MAX_ITER, tolerance_grad=1e-7, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(z @ w.T + b, target, weight=class_w, reduction="sum")
        loss = loss + 0.5 * (w * w).sum() / c
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


@dataclass(frozen=True)
class Baseline:
    """The fitted baseline and its predictions on the validation rows (PyTorch, fp32)."""

    model: BaselineClassifier
    predictions: list[int]
    scores: dict[str, float]  # accuracy and macro_f1 on the validation rows
    seconds: float  # CPU seconds of embedding + fitting


def fit_baseline(model: torch.nn.Module, train_ids: list[list[int]], train_labels: list[int], val_ids: list[list[int]],
                 val_labels: list[int], k: int, batch_size: int, device: torch.device, balanced: bool = False) -> Baseline:
    """Fits the baseline on a copy of `model`'s encoder as it is now: call it before fine-tuning
    (the copy keeps the pre-trained weights the baseline needs)."""
    cpu0 = time.process_time()
    encoder = copy.deepcopy(model.base_model)
    pad = getattr(model.config, "pad_token_id", 0) or 0
    x_train = embed(encoder, train_ids, batch_size, pad, device)
    x_val = embed(encoder, val_ids, batch_size, pad, device)
    head = fit_head(x_train, train_labels, k, class_weights(train_labels, k) if balanced else None)
    with torch.no_grad():
        pred = head(torch.tensor(x_val)).argmax(dim=1).tolist() if len(val_ids) else []
    y, p = np.asarray(val_labels, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    scores = {m: metric_value(m, y, p, k) for m in METRICS}
    return Baseline(BaselineClassifier(encoder.to("cpu").float().eval(), head), [int(v) for v in pred], scores, time.process_time() - cpu0)


def choose(metric: str, val_labels: list[int], fine_tuned_pred: list[int], baseline: Baseline, k: int) -> dict[str, Any]:
    """Which model the version serves: the fine-tune only when it beats the baseline beyond noise
    (the 95 % paired-bootstrap interval of fine-tune − baseline lies above 0), else the baseline.
    Returns the `baseline` object of metrics.json (scores, difference, interval, served, reason)."""
    y, ours, theirs = (np.asarray(v, dtype=np.int64) for v in (val_labels, fine_tuned_pred, baseline.predictions))
    a, b = metric_value(metric, y, ours, k), metric_value(metric, y, theirs, k)
    lo, hi = paired_bootstrap(metric, y, ours, theirs, k) if len(y) else (0.0, 0.0)
    on = f"{metric} {a:.4f} fine-tuned vs {b:.4f} baseline on {len(y)} validation rows (95% CI of the difference [{lo:+.4f}, {hi:+.4f}])"
    served = "fine-tuned" if lo > 0 else "baseline"
    reason = (f"fine-tuning beats the frozen-embedding baseline beyond noise: {on}" if served == "fine-tuned" else
              f"fine-tuning does not beat the frozen-embedding baseline beyond noise: {on}; the baseline is served (cheaper, and at least as good)")
    return {"method": "frozen mean-pooled encoder + logistic regression", "metric": metric, **baseline.scores,
            "fineTuned": a, "difference": a - b, "ci95": [lo, hi], "rows": len(y), "served": served, "reason": reason,
            "cpuSeconds": round(baseline.seconds, 3)}
