"""The training loop: AdamW with linear warm-up/decay, bf16 autocast on GPUs that support it
(fp32 on CPU), gradient clipping, evaluation each epoch, early stopping, best weights kept,
a checkpoint each epoch and on SIGTERM.

Determinism: the head is initialised after `torch.manual_seed(seed)`, batch order is a pure
function of (seed, epoch), and the RNG state travels in each checkpoint, so an interrupted and
resumed run trains on the same batches with the same dropout masks as an uninterrupted one.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .batching import collate, eval_batches, train_batches
from .checkpoint import CheckpointStore
from .errors import Preempted, TrainerError
from .params import Params
from .scoring import score
from .tracking import MetricsReporter


@dataclass
class Device:
    torch_device: torch.device
    autocast_dtype: torch.dtype | None  # None: plain fp32
    pad_multiple: int

    @property
    def describe(self) -> str:
        kind = torch.cuda.get_device_name(0) if self.torch_device.type == "cuda" else "cpu"
        return f"{kind} ({'bf16 autocast' if self.autocast_dtype else 'fp32'})"


def pick_device(precision: str) -> Device:
    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        bf16 = precision != "fp32" and torch.cuda.is_bf16_supported()
        return Device(torch.device("cuda"), torch.bfloat16 if bf16 else None, 8)
    if precision == "bf16":
        raise TrainerError("invalid_argument", "params.precision is bf16 but no GPU is available (use auto or fp32)")
    return Device(torch.device("cpu"), None, 1)


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


def evaluate(model, ids: list[list[int]], labels: list[int], label_names: list[str], params: Params, dev: Device) -> dict:
    """Validation loss and scores, batched by length (padding does not change logits)."""
    model.eval()
    logits = np.zeros((len(ids), len(label_names)), dtype=np.float32)
    y = torch.tensor(labels, dtype=torch.long)
    with torch.no_grad():
        for idx in eval_batches([len(s) for s in ids], params.evalBatchSize):
            input_ids, mask = collate(ids, idx, _pad_id(model), dev.pad_multiple)
            with torch.autocast(dev.torch_device.type, dtype=dev.autocast_dtype or torch.float32, enabled=dev.autocast_dtype is not None):
                out = model(input_ids=input_ids.to(dev.torch_device), attention_mask=mask.to(dev.torch_device)).logits
            logits[idx] = out.float().cpu().numpy()
    loss = float(torch.nn.functional.cross_entropy(torch.from_numpy(logits), y).item())
    result = score(labels, logits.argmax(axis=1), label_names)
    result["loss"] = loss
    return result


def _pad_id(model) -> int:
    pad = getattr(model.config, "pad_token_id", None)
    return 0 if pad is None else int(pad)


def _better(metric: str, value: float, best: float | None) -> bool:
    if best is None:
        return True
    return value < best if metric == "loss" else value > best


def train(model, train_ids, train_labels, val_ids, val_labels, label_names, params: Params, dev: Device,
          reporter: MetricsReporter, checkpoints: CheckpointStore, stop: threading.Event, resume_from: str | None) -> TrainResult:
    model.to(dev.torch_device)
    pad_id = _pad_id(model)
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)], "weight_decay": params.weightDecay},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    # The fused kernel (CUDA and, since torch 2.4, CPU) updates all parameters in one pass.
    optimizer = torch.optim.AdamW(groups, lr=params.learningRate, fused=True)
    steps_per_epoch = math.ceil(len(train_ids) / params.batchSize)
    total_steps = steps_per_epoch * params.epochs
    if params.maxSteps:
        total_steps = min(total_steps, params.maxSteps)
    warmup = int(total_steps * params.warmupRatio)

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    lengths = [len(s) for s in train_ids]
    st = {"epoch": 0, "batch": 0, "step": 0, "best": None, "bestEpoch": 0, "bestCheckpoint": None, "badEpochs": 0,
          "stoppedEarly": False, "history": [], "trainSamples": 0, "trainSeconds": 0.0, "bestEval": None}
    best_weights = None
    if resume_from:
        saved = checkpoints.load_state(resume_from)
        checkpoints.load_weights(resume_from, model)
        model.to(dev.torch_device)
        reporter.replace_log(lambda path: checkpoints.load_training(resume_from, optimizer, saved["optimizer"], path))
        st.update({k: v for k, v in saved.items() if k in st})
        # the restored param_groups already hold the lr of that step; the schedule continues from it
        scheduler.last_epoch = st["step"]
        scheduler._last_lr = [group["lr"] for group in optimizer.param_groups]
        print(f"[train] resuming from {resume_from}: epoch {st['epoch'] + 1}, batch {st['batch']}, step {st['step']}", file=sys.stderr, flush=True)

    def save(reason: str) -> str:
        t0 = time.perf_counter()
        name = checkpoints.save(st["step"], model, optimizer, {k: st[k] for k in st}, reporter.jsonl_path)
        print(f"[train] checkpoint {name} saved ({reason}) in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
        return name

    pending: list[tuple[int, torch.Tensor]] = []  # per-step losses still on the device

    def flush_losses(epoch_no: int) -> float:
        """One device sync for many steps (a .item() per step stalls a GPU pipeline)."""
        values = torch.stack([loss for _, loss in pending]).tolist() if pending else []
        for (step, _), value in zip(pending, values):
            reporter.log("train_loss", value, step, epoch_no)
        pending.clear()
        return values[-1] if values else float("nan")

    for epoch in range(st["epoch"], params.epochs):
        if st["step"] >= total_steps or st["stoppedEarly"]:
            break
        model.train()
        batches = train_batches(lengths, params.batchSize, params.seed, epoch)
        mark = window_start = time.perf_counter()
        samples_window = 0
        for b in range(st["batch"], len(batches)):
            if st["step"] >= total_steps:
                break
            idx = batches[b]
            input_ids, mask = collate(train_ids, idx, pad_id, dev.pad_multiple)
            y = torch.tensor([train_labels[i] for i in idx], dtype=torch.long).to(dev.torch_device, non_blocking=True)
            try:
                with torch.autocast(dev.torch_device.type, dtype=dev.autocast_dtype or torch.float32, enabled=dev.autocast_dtype is not None):
                    logits = model(input_ids=input_ids.to(dev.torch_device, non_blocking=True), attention_mask=mask.to(dev.torch_device, non_blocking=True)).logits
                loss = torch.nn.functional.cross_entropy(logits.float(), y)
                loss.backward()
            except (torch.OutOfMemoryError, RuntimeError) as err:
                if not isinstance(err, torch.OutOfMemoryError) and "memory" not in str(err).lower():
                    raise
                raise TrainerError("resource_exhausted", f"out of memory with batchSize {params.batchSize} and maxLength {params.maxLength}; try batchSize {max(1, params.batchSize // 2)}") from None
            if params.maxGradNorm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), params.maxGradNorm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            st["trainSamples"] += len(idx)
            st["step"] += 1
            st["batch"] = b + 1
            samples_window += len(idx)
            pending.append((st["step"], loss.detach()))
            if st["step"] % params.logEverySteps == 0 or st["step"] == total_steps or stop.is_set():
                loss_value = flush_losses(epoch + 1)
                now = time.perf_counter()
                st["trainSeconds"] += now - mark
                mark = now
                rate = samples_window / (now - window_start) if now > window_start else 0.0
                eta = (total_steps - st["step"]) * st["trainSeconds"] / st["step"]
                print(f"[train] epoch {epoch + 1}/{params.epochs} step {st['step']}/{total_steps} loss {loss_value:.4f} "
                      f"lr {scheduler.get_last_lr()[0]:.2e} {rate:.1f} samples/s eta {_hms(eta)}", file=sys.stderr, flush=True)
                reporter.log("learning_rate", scheduler.get_last_lr()[0], st["step"], epoch + 1)
                reporter.flush_soon()
                window_start, samples_window = now, 0
            if stop.is_set():
                name = save("SIGTERM")
                raise Preempted(st["step"], checkpoints.uri(name))
        flush_losses(epoch + 1)
        st["trainSeconds"] += time.perf_counter() - mark  # eval and checkpoints are not training time
        t_eval = time.perf_counter()
        result = evaluate(model, val_ids, val_labels, label_names, params, dev)
        t_eval = time.perf_counter() - t_eval
        metric = result[params.earlyStoppingMetric]
        row = {"epoch": epoch + 1, "step": st["step"], "val_loss": result["loss"], "val_accuracy": result["accuracy"], "val_macro_f1": result["macro_f1"]}
        st["history"].append(row)
        for key in ("val_loss", "val_accuracy", "val_macro_f1"):
            reporter.log(key, row[key], st["step"], epoch + 1)
        reporter.flush_soon()
        improved = _better(params.earlyStoppingMetric, metric, st["best"])
        print(f"[eval] epoch {epoch + 1}: loss {result['loss']:.4f} accuracy {result['accuracy']:.4f} macro_f1 {result['macro_f1']:.4f}"
              f"{' (best)' if improved else ''} in {t_eval:.1f}s", file=sys.stderr, flush=True)
        st["epoch"], st["batch"] = epoch + 1, 0
        if improved:
            st.update(best=metric, bestEpoch=epoch + 1, badEpochs=0, bestEval=result, bestCheckpoint=f"step-{st['step']:08d}")
            best_weights = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
        else:
            st["badEpochs"] += 1
        if params.earlyStoppingPatience and st["badEpochs"] >= params.earlyStoppingPatience:
            print(f"[train] early stop: {params.earlyStoppingMetric} did not improve for {st['badEpochs']} epoch(s)", file=sys.stderr, flush=True)
            st["stoppedEarly"] = True
        save(f"end of epoch {epoch + 1}")
        if stop.is_set():
            raise Preempted(st["step"], checkpoints.uri(f"step-{st['step']:08d}"))
    if st["bestEval"] is None:
        raise TrainerError("internal", "training finished without an evaluation")
    if best_weights is not None:
        model.load_state_dict(best_weights)
    elif st["bestCheckpoint"]:
        checkpoints.load_weights(st["bestCheckpoint"], model)
    model.to(dev.torch_device).eval()
    return TrainResult(best_epoch=st["bestEpoch"], best_eval=st["bestEval"], history=st["history"],
                       train_samples=st["trainSamples"], train_seconds=st["trainSeconds"], steps=st["step"])


def _hms(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
