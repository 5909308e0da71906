"""Python baseline for `npm run bench:serve`: the design the seeds used — a FastAPI app under
uvicorn doing per-request inference (one `session.run` per request, no batching), the same
prediction API and the same model version directory as the droptune server.

Usage: python bench/serve-baseline.py VERSION_DIR PORT [--engine onnx|torch TORCH_DIR]
Readiness: GET /readyz answers 200 once the model is loaded (the benchmark times cold start on it).
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import uvicorn
from fastapi import FastAPI, HTTPException
from tokenizers import Tokenizer

parser = argparse.ArgumentParser()
parser.add_argument("version_dir")
parser.add_argument("port", type=int)
parser.add_argument("--engine", choices=["onnx", "torch"], default="onnx")
parser.add_argument("--torch-dir", default=None, help="save_pretrained() directory of the same model (engine torch)")
args = parser.parse_args()

root = Path(args.version_dir)
config = json.loads((root / "config.json").read_text())
labels = json.loads((root / "labels.json").read_text())
tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
tokenizer.no_padding()
tokenizer.enable_truncation(config["maxLength"])

if args.engine == "onnx":
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = len(os.sched_getaffinity(0))
    session = ort.InferenceSession(str(root / "model.onnx"), opts, providers=["CPUExecutionProvider"])
    input_names = [i.name for i in session.get_inputs()]

    def logits_for(ids: list[int]) -> np.ndarray:
        arr = np.array([ids], dtype=np.int64)
        feeds = {"input_ids": arr, "attention_mask": np.ones_like(arr), "token_type_ids": np.zeros_like(arr)}
        return session.run(None, {n: feeds[n] for n in input_names})[0][0]
else:
    import torch
    from transformers import AutoModelForSequenceClassification

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    model = AutoModelForSequenceClassification.from_pretrained(args.torch_dir).eval()

    def logits_for(ids: list[int]) -> np.ndarray:
        with torch.inference_mode():
            t = torch.tensor([ids])
            return model(input_ids=t, attention_mask=torch.ones_like(t)).logits[0].numpy()


app = FastAPI()


@app.get("/readyz")
def readyz():
    return {"status": "ready"}


@app.post("/v1/models/{name}:predict")
def predict(name: str, body: dict):
    instances = body.get("instances")
    if not isinstance(instances, list) or not instances:
        raise HTTPException(400, "instances must be a non-empty list")
    predictions = []
    for inst in instances:
        text = inst if isinstance(inst, str) else inst["text"]
        logits = logits_for(tokenizer.encode(text).ids)
        e = np.exp(logits - logits.max())
        p = e / e.sum()
        order = np.argsort(-p)
        predictions.append({"label": labels[int(order[0])], "scores": {labels[int(i)]: float(p[i]) for i in order}})
    return {"predictions": predictions, "model": {"name": name, "version": 1}}


if __name__ == "__main__":
    # Warm up once, as our server does, so cold start compares like with like.
    logits_for(tokenizer.encode("warm up").ids)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
