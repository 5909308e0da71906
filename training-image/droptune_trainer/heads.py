"""The loss per task on the model's raw outputs (the head is AutoModelForSequenceClassification's
linear layer, `num_labels` = classes, or 1 for regression):

- classification, pair: cross-entropy over classes (optionally class-weighted);
- multilabel: binary cross-entropy per class (sigmoid), targets a 0/1 vector per row;
- regression: mean squared error on the STANDARDISED target ((y − mean) / std on the training
  rows): one scale whatever the target's units; the export undoes it (export.TaskGraph).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def task_loss(task: str, logits: torch.Tensor, target: torch.Tensor, class_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean loss of a batch; `target` is class ids, a [batch, classes] 0/1 matrix or values."""
    if task == "multilabel":
        return F.binary_cross_entropy_with_logits(logits.float(), target.float())
    if task == "regression":
        return F.mse_loss(logits.float().squeeze(-1), target.float())
    return F.cross_entropy(logits.float(), target.long(), weight=class_weights)
