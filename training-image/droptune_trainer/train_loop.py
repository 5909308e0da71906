"""The training loop: AdamW with linear warm-up/decay, mixed precision as device.py picks it
(fp32 on CPU), gradient clipping, evaluation each epoch, early stopping, best weights kept,
a checkpoint every CHECKPOINT_EVERY_S seconds of training (checked at epoch ends and every
logging step) and on SIGTERM — not every epoch: on small data an epoch takes seconds and a
checkpoint hundreds of MB.

Determinism: the head is initialised after `torch.manual_seed(seed)`, batch order is a pure
function of (seed, epoch), and the RNG state travels in each checkpoint, so an interrupted and
resumed run trains on the same batches with the same dropout masks as an uninterrupted one.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .batching import collate, eval_batches, train_batches
from .checkpoint import CheckpointStore
from .chunking import pool
from .device import Device
from .errors import Preempted, TrainerError
from .params import Params, higher_is_better, task_metrics
from .heads import task_loss
from .task_scores import SINGLE_LABEL, eval_loss, task_scores
from .tracking import MetricsReporter
from .train_state import TrainState


# Seconds of training between checkpoints (DROPTUNE_CHECKPOINT_EVERY_S overrides; 0 = only on SIGTERM).
CHECKPOINT_EVERY_S = 600.0


def checkpoint_interval() -> float:
    raw = os.environ.get("DROPTUNE_CHECKPOINT_EVERY_S", "")
    try:
        return float(raw) if raw.strip() else CHECKPOINT_EVERY_S
    except ValueError:
        raise TrainerError("invalid_argument", f"DROPTUNE_CHECKPOINT_EVERY_S is {raw!r}; expected a number of seconds") from None


@dataclass(frozen=True)
class TrainInputs:
    """The model and the encoded data it trains and is evaluated on."""

    model: torch.nn.Module
    train_ids: list[list[int]]
    train_labels: list[int]
    val_ids: list[list[int]]
    val_labels: list[int]
    label_names: list[str]
    # token_type_ids per window, when the model is fed them (pair on BERT); None otherwise.
    train_types: list[list[int]] | None = None
    val_types: list[list[int]] | None = None
    # The validation text each val_ids window belongs to (chunk mode: several per text, pooled);
    # None: one window per text.
    val_owners: list[int] | None = None
    # The task (heads.py loss, task_scores.py scores); `train_labels` / `val_labels` hold its targets:
    # class ids, 0/1 vectors (multilabel) or values (regression: train standardised, val in units).
    task: str = "classification"
    # Regression: the training targets' mean and std, to score validation in the target's units.
    target_mean: float = 0.0
    target_std: float = 1.0


@dataclass
class TrainResult:
    best_epoch: int
    best_eval: dict
    history: list[dict] = field(default_factory=list)
    train_samples: int = 0
    train_seconds: float = 0.0
    steps: int = 0

    @property
    def samples_per_second(self) -> float:
        return self.train_samples / self.train_seconds if self.train_seconds > 0 else 0.0


def evaluate(model, ids: list[list[int]], labels: list[Any], label_names: list[str], params: Params, dev: Device,
             types: list[list[int]] | None = None, owners: list[int] | None = None, task: str = "classification",
             target: tuple[float, float] = (0.0, 1.0)) -> dict:
    """Validation loss and the task's scores, batched by length (padding does not change logits);
    a text's windows are pooled (chunking.pool) before scoring, as serving does. `target`:
    regression's (mean, std), which turn the standardised output into the target's units."""
    model.eval()
    logits = np.zeros((len(ids), len(label_names)), dtype=np.float32)
    with torch.no_grad():
        for idx in eval_batches([len(s) for s in ids], params.evalBatchSize):
            input_ids, mask = collate(ids, idx, _pad_id(model), dev.pad_multiple)
            with dev.autocast():
                out = model(input_ids=input_ids.to(dev.torch_device), attention_mask=mask.to(dev.torch_device),
                            **_type_feed(types, idx, input_ids.shape[1], dev)).logits
            logits[idx] = out.float().cpu().numpy()
    if owners is not None:
        logits = pool(logits, owners, len(labels))
    loss = eval_loss(task, logits, labels, *target)
    result, _ = task_scores(task, logits * target[1] + target[0] if task == "regression" else logits, labels, label_names)
    result["loss"] = loss
    return result


def _type_feed(types: list[list[int]] | None, idx: list[int], width: int, dev: Device) -> dict[str, torch.Tensor]:
    """`token_type_ids` for the batch (padded with 0), or nothing when the model is not fed them."""
    if types is None:
        return {}
    out = torch.zeros((len(idx), width), dtype=torch.long)
    for row, i in enumerate(idx):
        out[row, : len(types[i])] = torch.tensor(types[i], dtype=torch.long)
    return {"token_type_ids": out.to(dev.torch_device, non_blocking=True)}


def _pad_id(model) -> int:
    pad = getattr(model.config, "pad_token_id", None)
    return 0 if pad is None else int(pad)


def _better(metric: str, value: float, best: float | None) -> bool:
    """Improvement in the metric's own direction (lower loss, RMSE and MAE are better)."""
    if best is None:
        return True
    return value < best if metric == "loss" or not higher_is_better(metric) else value > best


def class_weights(labels: list[int], k: int) -> list[float]:
    """n / (k · count) per class (scikit-learn's "balanced"); a class absent from training gets 1."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=k)
    return [float(len(labels) / (k * c)) if c else 1.0 for c in counts]


def _optimizer(model, params: Params) -> torch.optim.AdamW:
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)], "weight_decay": params.weightDecay},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    # The fused kernel (CUDA and, since torch 2.4, CPU) updates all parameters in one pass.
    return torch.optim.AdamW(groups, lr=params.learningRate, fused=True)


def _total_steps(n_train: int, params: Params) -> int:
    total = math.ceil(n_train / params.batchSize) * params.epochs
    return min(total, params.maxSteps) if params.maxSteps else total


def _schedule(optimizer, total_steps: int, warmup_ratio: float) -> torch.optim.lr_scheduler.LambdaLR:
    warmup = int(total_steps * warmup_ratio)

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)


class _Run:
    """One call of `train`: the loop's collaborators and its typed, checkpointed state."""

    def __init__(self, data: TrainInputs, params: Params, dev: Device, reporter: MetricsReporter,
                 checkpoints: CheckpointStore, stop: threading.Event):
        self.data, self.params, self.dev = data, params, dev
        self.reporter, self.checkpoints, self.stop = reporter, checkpoints, stop
        self.model = data.model.to(dev.torch_device)
        self.pad_id = _pad_id(self.model)
        self.optimizer = _optimizer(self.model, params)
        self.total_steps = _total_steps(len(data.train_ids), params)
        self.scheduler = _schedule(self.optimizer, self.total_steps, params.warmupRatio)
        self.scaler = dev.scaler()
        balanced = params.classWeights == "balanced" and data.task in SINGLE_LABEL
        weights = class_weights(data.train_labels, len(data.label_names)) if balanced else None
        self.loss_weights = torch.tensor(weights, dtype=torch.float32, device=dev.torch_device) if weights else None
        self.st = TrainState()
        self.best_weights: dict | None = None
        self.pending: list[tuple[int, torch.Tensor]] = []  # per-step losses still on the device
        self.every_s = checkpoint_interval()
        self.since_checkpoint = 0.0  # training seconds since the last checkpoint
        self.last_saved: tuple[int, str] | None = None

    def resume(self, name: str) -> None:
        saved = self.checkpoints.load_state(name)
        self.checkpoints.load_weights(name, self.model)
        self.model.to(self.dev.torch_device)
        self.reporter.replace_log(lambda path: self.checkpoints.load_training(name, self.optimizer, saved["optimizer"], path))
        self.st = TrainState.from_json(saved)
        # the restored param_groups already hold the lr of that step; the schedule continues from it
        self.scheduler.last_epoch = self.st.step
        self.scheduler._last_lr = [group["lr"] for group in self.optimizer.param_groups]
        _log(f"[train] resuming from {name}: epoch {self.st.epoch + 1}, batch {self.st.batch}, step {self.st.step}")

    def save(self, reason: str) -> str:
        if self.last_saved and self.last_saved[0] == self.st.step:
            return self.last_saved[1]  # same weights; resuming from it redoes at most one evaluation
        t0 = time.perf_counter()
        name = self.checkpoints.save(self.st.step, self.model, self.optimizer, self.st.to_json(), self.reporter.jsonl_path)
        self.since_checkpoint = 0.0
        self.last_saved = (self.st.step, name)
        _log(f"[train] checkpoint {name} saved ({reason}) in {time.perf_counter() - t0:.1f}s")
        return name

    def checkpoint_due(self) -> bool:
        return self.every_s > 0 and self.since_checkpoint >= self.every_s

    def flush_losses(self, epoch_no: int) -> float:
        """One device sync for many steps (a .item() per step stalls a GPU pipeline)."""
        values = torch.stack([loss for _, loss in self.pending]).tolist() if self.pending else []
        for (step, _), value in zip(self.pending, values):
            self.reporter.log("train_loss", value, step, epoch_no)
        self.pending.clear()
        return values[-1] if values else float("nan")

    def step(self, idx: list[int]) -> torch.Tensor:
        dev, d = self.dev, self.data
        input_ids, mask = collate(d.train_ids, idx, self.pad_id, dev.pad_multiple)
        y = torch.tensor([d.train_labels[i] for i in idx], dtype=torch.long if d.task in SINGLE_LABEL else torch.float32)
        y = y.to(dev.torch_device, non_blocking=True)
        try:
            with dev.autocast():
                logits = self.model(input_ids=input_ids.to(dev.torch_device, non_blocking=True),
                                    attention_mask=mask.to(dev.torch_device, non_blocking=True),
                                    **_type_feed(d.train_types, idx, input_ids.shape[1], dev)).logits
            loss = task_loss(d.task, logits, y, self.loss_weights)
            self.scaler.scale(loss).backward()
        except (torch.OutOfMemoryError, RuntimeError) as err:
            if not isinstance(err, torch.OutOfMemoryError) and "memory" not in str(err).lower():
                raise
            raise TrainerError("resource_exhausted", f"out of memory with batchSize {self.params.batchSize} and maxLength {self.params.maxLength}; "
                               f"try batchSize {max(1, self.params.batchSize // 2)}") from None
        if self.params.maxGradNorm > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.params.maxGradNorm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    def epoch(self, epoch: int) -> None:
        st, params = self.st, self.params
        self.model.train()
        batches = train_batches([len(s) for s in self.data.train_ids], params.batchSize, params.seed, epoch)
        mark = window_start = time.perf_counter()
        samples_window = 0
        for b in range(st.batch, len(batches)):
            if st.step >= self.total_steps:
                break
            loss = self.step(batches[b])
            st.trainSamples += len(batches[b])
            st.step += 1
            st.batch = b + 1
            samples_window += len(batches[b])
            self.pending.append((st.step, loss))
            if st.step % params.logEverySteps == 0 or st.step == self.total_steps or self.stop.is_set():
                loss_value = self.flush_losses(epoch + 1)
                now = time.perf_counter()
                st.trainSeconds += now - mark
                self.since_checkpoint += now - mark
                mark = now
                rate = samples_window / (now - window_start) if now > window_start else 0.0
                eta = (self.total_steps - st.step) * st.trainSeconds / st.step
                lr = self.scheduler.get_last_lr()[0]
                _log(f"[train] epoch {epoch + 1}/{params.epochs} step {st.step}/{self.total_steps} loss {loss_value:.4f} "
                     f"lr {lr:.2e} {rate:.1f} samples/s eta {_hms(eta)}")
                self.reporter.log("learning_rate", lr, st.step, epoch + 1)
                self.reporter.flush_soon()
                window_start, samples_window = now, 0
                if self.checkpoint_due() and not self.stop.is_set():
                    self.save(f"{self.every_s:g}s of training")
            if self.stop.is_set():
                raise Preempted(st.step, self.checkpoints.uri(self.save("SIGTERM")))
        self.flush_losses(epoch + 1)
        elapsed = time.perf_counter() - mark
        st.trainSeconds += elapsed  # eval and checkpoints are not training time
        self.since_checkpoint += elapsed
        self.end_of_epoch(epoch)

    def end_of_epoch(self, epoch: int) -> None:
        st, params = self.st, self.params
        t_eval = time.perf_counter()
        d = self.data
        result = evaluate(self.model, d.val_ids, d.val_labels, d.label_names, params, self.dev, d.val_types, d.val_owners,
                          d.task, (d.target_mean, d.target_std))
        t_eval = time.perf_counter() - t_eval
        metric = result[params.stopping_metric]
        names = ["loss", *task_metrics(d.task)]
        row = {"epoch": epoch + 1, "step": st.step, **{f"val_{m}": result[m] for m in names}}
        st.history.append(row)
        for m in names:
            self.reporter.log(f"val_{m}", row[f"val_{m}"], st.step, epoch + 1)
        self.reporter.flush_soon()
        improved = _better(params.stopping_metric, metric, st.best)
        _log(f"[eval] epoch {epoch + 1}: {' '.join(f'{m} {result[m]:.4f}' for m in names)}"
             f"{' (best)' if improved else ''} in {t_eval:.1f}s")
        st.epoch, st.batch = epoch + 1, 0
        if improved:
            st.best, st.bestEpoch, st.badEpochs, st.bestEval = metric, epoch + 1, 0, result
            st.bestCheckpoint = None
            self.best_weights = {k: v.detach().to("cpu").clone() for k, v in self.model.state_dict().items()}
        else:
            st.badEpochs += 1
        if params.earlyStoppingPatience and st.badEpochs >= params.earlyStoppingPatience:
            _log(f"[train] early stop: {params.stopping_metric} did not improve for {st.badEpochs} epoch(s)")
            st.stoppedEarly = True
        if self.stop.is_set():
            raise Preempted(st.step, self.checkpoints.uri(self.save("SIGTERM")))
        if self.checkpoint_due():
            name = self.save(f"{self.every_s:g}s of training")
            if improved:
                st.bestCheckpoint = name

    def run(self) -> TrainResult:
        st = self.st
        for epoch in range(st.epoch, self.params.epochs):
            if st.step >= self.total_steps or st.stoppedEarly:
                break
            self.epoch(epoch)
        if st.bestEval is None:
            raise TrainerError("internal", "training finished without an evaluation")
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        elif st.bestCheckpoint:
            self.checkpoints.load_weights(st.bestCheckpoint, self.model)
        elif st.bestEpoch != st.epoch:
            _log(f"[train] epoch {st.bestEpoch}'s weights were lost with the preempted VM (no checkpoint held them); keeping epoch {st.epoch}'s")
        self.model.to(self.dev.torch_device).eval()
        return TrainResult(best_epoch=st.bestEpoch, best_eval=st.bestEval, history=st.history,
                           train_samples=st.trainSamples, train_seconds=st.trainSeconds, steps=st.step)


def train(data: TrainInputs, params: Params, dev: Device, reporter: MetricsReporter, checkpoints: CheckpointStore,
          stop: threading.Event, resume_from: str | None) -> TrainResult:
    run = _Run(data, params, dev, reporter, checkpoints, stop)
    if resume_from:
        run.resume(resume_from)
    return run.run()


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _hms(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
