"""The run's output prefix: create-only artifact writes and `manifest.json` last.

`manifest.json` matches shared/contracts/manifest.ts (schemaVersion 1). It lists every file the
trainer wrote at the top of the prefix (not `checkpoints/`), with size and sha256, so
registration can verify a copy byte for byte. Its presence is the "done" signal: a prefix
without it is unfinished and is never registered.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__
from .errors import TrainerError
from .storage import join, store_for
from .tracking import now_iso

MODEL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}[a-z0-9]$")  # = MODEL_NAME_PATTERN (shared/contracts)
PACKAGES = ("torch", "transformers", "tokenizers", "onnx", "onnxruntime", "numpy", "safetensors")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "droptune-trainer": __version__}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


@dataclass
class ArtifactWriter:
    output_uri: str
    files: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store = store_for(self.output_uri)

    def uri(self, name: str) -> str:
        return join(self.output_uri, name)

    def put(self, local: Path, name: str) -> None:
        """Uploads create-only. An object already there with the same bytes (a restart that
        dies during upload) is accepted; different bytes are an `already_exists` error."""
        digest = sha256_file(local)
        try:
            self.store.upload_file(local, self.uri(name))
        except TrainerError as err:
            if err.code != "already_exists" or hashlib.sha256(self.store.read_bytes(self.uri(name))).hexdigest() != digest:
                raise
        self.files.append({"path": name, "size": local.stat().st_size, "sha256": digest})

    def write_manifest(self, run_id: str, model_name: str, base_model: str, dataset: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
        manifest = {
            "schemaVersion": 1,
            "runId": run_id,
            "modelName": model_name,
            "createdAt": now_iso(),
            "trainerVersion": __version__,
            "baseModel": base_model,
            "task": "text-classification",
            "dataset": dataset,
            "files": self.files,
            "packages": package_versions(),
            "metrics": {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
        }
        self.store.write_bytes(self.uri("manifest.json"), (json.dumps(manifest, indent=2) + "\n").encode())
        return manifest


def model_name_from(dataset_uri: str, explicit: str | None) -> str:
    """DROPTUNE_MODEL_NAME, else the dataset's folder (`<bucket>/<model-name>/<file>.csv`)."""
    name = explicit or (dataset_uri.rstrip("/").split("/")[-2] if dataset_uri.count("/") >= 3 else "")
    if not MODEL_NAME.match(name):
        raise TrainerError("invalid_argument", f"model name {name!r} must match {MODEL_NAME.pattern} (set DROPTUNE_MODEL_NAME or put the CSV in <bucket>/<model-name>/)")
    return name


def write_failure(output_uri: str, run_id: str, code: str, message: str) -> None:
    """Best-effort `failure.json`, the workflow's signal that this run will not produce a manifest."""
    body = json.dumps({"runId": run_id, "error": message, "code": code, "time": now_iso()}) + "\n"
    try:
        store_for(output_uri).write_bytes(join(output_uri, "failure.json"), body.encode())
    except Exception:  # noqa: BLE001 - the exit status and stderr line still report the failure
        pass
