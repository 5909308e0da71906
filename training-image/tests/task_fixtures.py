"""Test-only: the per-task fixture versions for serving's parity tests (`tiny-multilabel`,
`tiny-pair`, `tiny-regression`, `tiny-chunk`), written by the trainer's own export code
(export.py: graph per task, config.json, golden vectors with windows; chunking.py). From
training-image/:

    python -m tests.tiny_model --task multilabel --out DIR

The model is tests/tiny_model.py's tiny random BERT with a head for the task, trained a few
dozen steps on built-in synthetic data with the task's loss (heads.py), on every window in chunk
mode. Parity, not quality, is what these fixtures prove: the same graph, tokenizer, windows and
pooling give the same numbers in Python and Node.
"""

from __future__ import annotations

import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from droptune_trainer.artifacts import ArtifactWriter
from droptune_trainer.base_model import load_base_model
from droptune_trainer.chunking import TRUNCATE, Chunker, LongText
from droptune_trainer.export import (ExportSpec, Target, check_parity, export_onnx, golden_vectors, model_config, save_tokenizer,
                                     uses_token_types)
from droptune_trainer.heads import task_loss
from droptune_trainer.onnx_eval import OnnxClassifier, sigmoid
from droptune_trainer.scoring import multilabel_scores, regression_scores, score, tune_thresholds
from tests.tiny_model import _FRAMES, _WORDS, FIXTURE_LABELS, build_tiny_bert

FIXTURES = ("multilabel", "pair", "regression", "chunk")
MAX_LENGTH = 64
CHUNK = LongText("chunk", 16, 4)


@dataclass
class TaskData:
    texts: list[str]
    pairs: list[str] | None
    targets: list  # class id, 0/1 vector or value per text
    labels: list[str]


def _sentence(rng: random.Random, *classes: str) -> str:
    words = [w for c in classes for w in _WORDS[c]]
    return rng.choice(_FRAMES).format(a=rng.choice(words), b=rng.choice(words))


def synthetic(fixture: str, rows: int = 120, seed: int = 0) -> TaskData:
    rng = random.Random(seed)
    names = list(FIXTURE_LABELS)
    texts, pairs, targets = [], [], []
    for i in range(rows):
        if fixture == "multilabel":
            chosen = sorted(rng.sample(range(3), rng.choice([1, 1, 2])))
            texts.append(_sentence(rng, *(names[c] for c in chosen)) + f" #{i}")
            targets.append([1.0 if c in chosen else 0.0 for c in range(3)])
        elif fixture == "pair":
            a, b = rng.randrange(3), rng.randrange(3)
            texts.append(_sentence(rng, names[a]))
            pairs.append(_sentence(rng, names[b]))
            targets.append(int(a != b))  # labels ["match", "mismatch"]
        elif fixture == "regression":
            value = rng.uniform(1.0, 5.0)
            good = round(value)
            texts.append(" ".join(["great"] * good + ["bad"] * (5 - good)) + f" review #{i}")
            targets.append(value)
        else:  # chunk: classification whose class words are spread over a long text
            c = rng.randrange(3)
            texts.append(" ".join(_sentence(rng, names[c]) for _ in range(rng.choice([1, 6, 14]))))
            targets.append(c)
    labels = {"pair": ["match", "mismatch"], "regression": ["score"]}.get(fixture, names)
    return TaskData(texts, pairs or None, targets, labels)


def _train(model: torch.nn.Module, task: str, chunker: Chunker, data: TaskData, targets: torch.Tensor, steps: int = 40) -> None:
    """A few AdamW steps on every window of every text (the text's target on each window)."""
    batch = chunker.encode_all(data.texts, data.pairs)
    types = uses_token_types(model, task)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(batch.input_ids), (16,), generator=gen).tolist()
        longest = max(len(batch.input_ids[i]) for i in idx)
        ids = torch.zeros((16, longest), dtype=torch.long)
        mask, tt = torch.zeros_like(ids), torch.zeros_like(ids)
        for r, i in enumerate(idx):
            n = len(batch.input_ids[i])
            ids[r, :n], mask[r, :n] = torch.tensor(batch.input_ids[i]), 1
            tt[r, :n] = torch.tensor(batch.token_type_ids[i])
        extra = {"token_type_ids": tt} if types else {}
        logits = model(input_ids=ids, attention_mask=mask, **extra).logits
        loss = task_loss(task, logits, targets[[batch.owners[i] for i in idx]])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def produce_task(out: Path, fixture: str, run_id: str = "fixture-run", model_name: str = "fixture-model") -> dict:
    """Trains and exports the tiny model for `fixture` into `out` (a complete version, manifest last)."""
    task = "classification" if fixture == "chunk" else fixture
    long_text = CHUNK if fixture == "chunk" else TRUNCATE
    out = out.resolve()
    if (out / "manifest.json").exists():
        raise SystemExit(f"{out} already holds a model version (artifacts are create-only); pick an empty directory")
    data = synthetic(fixture)
    torch.manual_seed(7)
    with tempfile.TemporaryDirectory(prefix="droptune-fixture-") as tmp:
        base = build_tiny_bert(Path(tmp) / "tiny-bert")
        model, tokenizer, _ = load_base_model(str(base), data.labels)
        target = None
        y = torch.tensor(data.targets)
        if task == "regression":
            target = Target(float(y.mean()), float(y.std(unbiased=False)))
            y = (y - target.mean) / target.std
        chunker = Chunker(tokenizer.backend_tokenizer, MAX_LENGTH, long_text)
        _train(model, task, chunker, data, y)
        files = Path(tmp) / "files"
        files.mkdir()
        spec = ExportSpec(task, "tiny-bert", MAX_LENGTH, long_text, target)
        names = export_onnx(model, files / "model.onnx", spec)
        save_tokenizer(tokenizer, files / "tokenizer.json", MAX_LENGTH)
        clf = OnnxClassifier(files / "model.onnx", files / "tokenizer.json", MAX_LENGTH, long_text=long_text)
        parity = check_parity(model, clf, spec, data.texts, 32, data.pairs)
        raw = clf.logits(data.texts, pairs=data.pairs)
        thresholds, scores = _scores(task, raw, data)
        config = model_config(spec, names, thresholds)
        _write(files, data.labels, config, golden_vectors(clf, data.labels, config),
               {"task": task, "validation": scores, "onnx": {"parity": parity},
                "note": "fixture: scored on its own training rows; it proves parity, not quality"})
        writer = ArtifactWriter(f"file://{out}/")
        for name in ("model.onnx", "tokenizer.json", "labels.json", "config.json", "golden.json", "metrics.json"):
            writer.put(files / name, name)
        dataset = {"datasetUri": f"synthetic://{fixture}", "generation": None, "sha256": "0" * 64}
        headline = {k: v for k, v in scores.items() if isinstance(v, float)}
        return writer.write_manifest(run_id, model_name, "tiny-bert", dataset, {**headline, "onnx_max_abs_diff": parity["max_abs_diff"]}, task)


def _scores(task: str, raw: np.ndarray, data: TaskData) -> tuple[dict[str, float] | None, dict]:
    if task == "multilabel":
        truth = np.array(data.targets)
        probs = sigmoid(raw)
        thresholds = tune_thresholds(truth, probs, data.labels)
        return thresholds, multilabel_scores(truth, probs, thresholds, data.labels)
    if task == "regression":
        return None, regression_scores(np.array(data.targets), raw[:, 0])
    s = score(data.targets, raw.argmax(axis=1), data.labels)
    return None, {**s, "labels": data.labels}


def _write(files: Path, labels: list[str], config: dict, golden: dict, metrics: dict) -> None:
    (files / "labels.json").write_text(json.dumps(labels) + "\n")
    (files / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (files / "golden.json").write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n")
    (files / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
