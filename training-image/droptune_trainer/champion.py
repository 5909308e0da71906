"""Champion check: the current production model's predictions on the challenger's validation
rows that the champion never trained on.

`DROPTUNE_CHAMPION_URI` is a model version prefix (`…/models/<model>/v<N>/`) or the URI of its
`model.onnx`. Its own tokenizer.json, config.json, labels.json and `split.json` (its training-set
fingerprint) are used, and the variant serving loads (int8 when it serves int8 and the version
kept one). A champion without a fingerprint, or keyed differently, cannot be scored leak-free:
it gets no rows and the gate says why. A champion label missing from this dataset never counts
as correct.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .chunking import LongText
from .errors import TrainerError
from .fingerprint import TrainingFingerprint
from .gate import ChampionRows
from .onnx_eval import OnnxClassifier
from .storage import join, store_for
from .text_key import KEY_VERSION


def champion_rows(uri: str, val_texts: list[str], val_keys: list[str], labels: list[str], salt: str, variant: str, work: Path,
                  val_pairs: list[str] | None = None) -> ChampionRows:
    """The champion's predictions, run as serving runs it: its own windows (config.json
    `longText`) and, for `pair`, the rows' text_pair."""
    prefix = uri.rsplit("/", 1)[0] if uri.endswith(".onnx") else uri.rstrip("/")
    version = prefix.rsplit("/", 1)[-1] or uri
    store = store_for(uri)
    local = work / "champion"
    try:
        for name in ("tokenizer.json", "config.json", "labels.json"):
            store.download_file(join(prefix, name), local / name)
        fingerprint = _fingerprint(store, prefix, local, salt)
        if isinstance(fingerprint, str):
            return ChampionRows(version, [], [], fingerprint)
        model_file = "model.int8.onnx" if variant == "int8" and store.exists(join(prefix, "model.int8.onnx")) else "model.onnx"
        store.download_file(join(prefix, model_file), local / model_file)
        config = json.loads((local / "config.json").read_text())
        champion_labels = json.loads((local / "labels.json").read_text())
        indexes = [i for i, key in enumerate(val_keys) if not fingerprint.contains(key)]
        clf = OnnxClassifier(local / model_file, local / "tokenizer.json", int(config["maxLength"]),
                             long_text=LongText.from_json(config.get("longText")))
        pairs = [val_pairs[i] for i in indexes] if val_pairs is not None else None
        logits = clf.logits([val_texts[i] for i in indexes], pairs=pairs) if indexes else None
    except (TrainerError, OSError, ValueError, KeyError) as err:
        message = err.message if isinstance(err, TrainerError) else f"{type(err).__name__}: {err}"
        print(f"[champion] could not evaluate {uri}: {message}", file=sys.stderr, flush=True)
        return ChampionRows(version, [], [], f"could not be evaluated: {message}")
    ours = {name: i for i, name in enumerate(labels)}
    # A label this dataset lacks maps to -1, which never equals a true label id.
    preds = [ours.get(champion_labels[int(j)], -1) for j in logits.argmax(axis=1)] if logits is not None else []
    print(f"[champion] {version} ({model_file}): {len(indexes)} of {len(val_keys)} validation rows were never in its training set",
          file=sys.stderr, flush=True)
    return ChampionRows(version, indexes, preds)


def _fingerprint(store, prefix: str, local: Path, salt: str) -> TrainingFingerprint | str:
    uri = join(prefix, "split.json")
    if not store.exists(uri):
        return "has no training-set fingerprint (split.json); it cannot be scored on rows it never trained on"
    store.download_file(uri, local / "split.json")
    fingerprint = TrainingFingerprint.from_json(json.loads((local / "split.json").read_text()))
    if fingerprint.salt != salt or fingerprint.key_version != KEY_VERSION:
        return (f"its fingerprint is keyed {fingerprint.key_version} with salt {fingerprint.salt!r}, this run {KEY_VERSION} with {salt!r}; "
                "its training rows cannot be told apart")
    return fingerprint
