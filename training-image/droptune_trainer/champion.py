"""Champion check: score the current production model (ONNX) on the SAME validation split as
the challenger, so the workflow's gate compares like with like.

`DROPTUNE_CHAMPION_URI` is a model version prefix (`…/models/<model>/v<N>/`) or the URI of its
`model.onnx`; its own tokenizer.json, config.json and labels.json are used. A champion label
missing from this dataset never counts as correct.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .errors import TrainerError
from .onnx_eval import OnnxClassifier
from .scoring import score
from .storage import join, store_for

OTHER = "(label not in this dataset)"


def champion_check(uri: str, val_texts: list[str], val_labels: list[int], labels: list[str], work: Path) -> dict:
    prefix = uri.rsplit("/", 1)[0] if uri.endswith(".onnx") else uri
    model_uri = uri if uri.endswith(".onnx") else join(prefix, "model.onnx")
    store = store_for(uri)
    local = work / "champion"
    try:
        store.download_file(model_uri, local / "model.onnx")
        for name in ("tokenizer.json", "config.json", "labels.json"):
            store.download_file(join(prefix, name), local / name)
        config = json.loads((local / "config.json").read_text())
        champion_labels = json.loads((local / "labels.json").read_text())
        clf = OnnxClassifier(local / "model.onnx", local / "tokenizer.json", int(config["maxLength"]))
        logits = clf.logits(val_texts)
    except (TrainerError, OSError, ValueError, KeyError) as err:
        message = err.message if isinstance(err, TrainerError) else f"{type(err).__name__}: {err}"
        print(f"[champion] could not evaluate {uri}: {message}", file=sys.stderr, flush=True)
        return {"uri": uri, "error": message}
    names = labels + [OTHER]
    ours = {name: i for i, name in enumerate(labels)}
    preds = [ours.get(champion_labels[int(j)], len(labels)) for j in logits.argmax(axis=1)]
    result = score(val_labels, preds, names)
    result["per_class"].pop(OTHER, None)
    print(f"[champion] {uri}: accuracy {result['accuracy']:.4f} macro_f1 {result['macro_f1']:.4f} on {len(val_texts)} validation rows",
          file=sys.stderr, flush=True)
    return {"uri": uri, **result}
