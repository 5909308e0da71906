"""Resumable checkpoints under `<output>/checkpoints/step-<NNNNNNNN>-<attempt>/` (no pickle).

Each checkpoint holds `model.safetensors`, `optimizer.safetensors` (AdamW state flattened to
named tensors, plus the RNG states), `metrics.jsonl` (every metric so far) and `state.json`,
written LAST: a directory without `state.json` is a checkpoint cut short by preemption and is
scratch, never read. Every process writes under its own attempt token, so a resumed run that
reaches the step a killed write was at writes a fresh prefix instead of failing on the
leftovers (writes stay create-only).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from .errors import TrainerError
from .storage import join, store_for

_STEP_DIR = re.compile(r"^(step-(\d{8})(?:-[0-9a-f]{8})?)/state\.json$")


class CheckpointStore:
    def __init__(self, output_uri: str, scratch: Path | None = None):
        self.prefix = join(output_uri, "checkpoints")
        self.store = store_for(output_uri)
        # Local files are staged here; on the same filesystem as a file:// output they are
        # hard-linked into place instead of copied (a MiniLM checkpoint is ~270 MB).
        self.scratch = scratch
        self.attempt = secrets.token_hex(4)

    def uri(self, name: str) -> str:
        return join(self.prefix, name)

    def latest(self) -> str | None:
        """Name (`step-…`) of the newest complete checkpoint, or None."""
        complete = [(int(m.group(2)), m.group(1)) for n in self.store.list_names(self.prefix) if (m := _STEP_DIR.match(n))]
        return max(complete)[1] if complete else None

    def save(self, step: int, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: dict[str, Any], metrics_jsonl: Path) -> str:
        name = f"step-{step:08d}-{self.attempt}"
        with tempfile.TemporaryDirectory(dir=self.scratch) as tmp:
            tmp_path = Path(tmp)
            weights = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
            save_file(_dedupe(weights), tmp_path / "model.safetensors")
            opt_tensors, opt_meta = _flatten_optimizer(optimizer)
            opt_tensors["rng.torch"] = torch.get_rng_state()
            if torch.cuda.is_available():
                opt_tensors["rng.cuda"] = torch.cuda.get_rng_state()
            save_file(opt_tensors, tmp_path / "optimizer.safetensors")
            for file in ("model.safetensors", "optimizer.safetensors"):
                self.store.upload_file(tmp_path / file, self.uri(f"{name}/{file}"))
            shutil.copyfile(metrics_jsonl, tmp_path / "metrics.jsonl")  # a snapshot: the live file keeps growing
            self.store.upload_file(tmp_path / "metrics.jsonl", self.uri(f"{name}/metrics.jsonl"))
            body = json.dumps({**state, "optimizer": opt_meta}, indent=1).encode()
            self.store.write_bytes(self.uri(f"{name}/state.json"), body)
        return name

    def load_state(self, name: str) -> dict[str, Any]:
        state = json.loads(self.store.read_bytes(self.uri(f"{name}/state.json")))
        if not isinstance(state, dict):
            raise TrainerError("internal", f"checkpoint {name}: state.json is not a JSON object")
        return state

    def load_weights(self, name: str, model: torch.nn.Module) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "model.safetensors"
            self.store.download_file(self.uri(f"{name}/model.safetensors"), local)
            weights = load_file(local)
        model.load_state_dict(weights, strict=False)

    def load_training(self, name: str, optimizer: torch.optim.Optimizer, meta: dict[str, Any], metrics_jsonl: Path) -> None:
        """Restores optimizer, RNG and the metrics log of checkpoint `name`."""
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "optimizer.safetensors"
            self.store.download_file(self.uri(f"{name}/optimizer.safetensors"), local)
            tensors = load_file(local)
        optimizer.load_state_dict(_unflatten_optimizer(tensors, meta))
        torch.set_rng_state(tensors["rng.torch"])
        if "rng.cuda" in tensors and torch.cuda.is_available():
            torch.cuda.set_rng_state(tensors["rng.cuda"])
        metrics_jsonl.write_bytes(self.store.read_bytes(self.uri(f"{name}/metrics.jsonl")))


def _dedupe(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """safetensors refuses shared storage (tied weights): give each tensor its own copy."""
    seen: set[int] = set()
    out = {}
    for k, v in weights.items():
        ptr = v.data_ptr()
        out[k] = v.clone() if ptr in seen else v
        seen.add(ptr)
    return out


def _flatten_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, slots in sd["state"].items():
        for slot, value in slots.items():
            if torch.is_tensor(value):
                tensors[f"state.{idx}.{slot}"] = value.detach().to("cpu").contiguous()
            else:
                scalars.setdefault(str(idx), {})[slot] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if not key.startswith("state."):
            continue
        _, idx, slot = key.split(".", 2)
        state.setdefault(int(idx), {})[slot] = value
    for idx, slots in meta.get("scalars", {}).items():
        state.setdefault(int(idx), {}).update(slots)
    return {"state": state, "param_groups": meta["param_groups"]}
