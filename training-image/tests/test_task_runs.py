"""Whole trainer runs (real child processes, files and ONNX sessions) for the tasks `run()`
trains besides plain classification: sentence pairs, and long texts in chunk mode."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from conftest import run_trainer, tiny_params, trainer_env

from droptune_trainer.data import read_rows
from droptune_trainer.errors import TrainerError
from droptune_trainer.params import parse_params
from droptune_trainer.split import Row, row_key
from tests.task_fixtures import synthetic

GATE_OFF = {"minAccuracy": 0, "minRows": 1}


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_pair_rows_are_keyed_by_both_texts_and_an_empty_pair_names_its_line():
    assert row_key(Row("a b", "x", 2, pair="c"), "m") != row_key(Row("a", "x", 3, pair="b c"), "m")
    assert row_key(Row("A  b", "x", 2, pair="C"), "m") == row_key(Row("a b", "x", 3, pair="c"), "m")
    params = parse_params(json.dumps({"task": "pair"}))
    with pytest.raises(TrainerError, match="line 3 column 'text_pair' is empty"):
        read_rows("file:///x.csv", b"text,text_pair,label\na,b,x\nc, ,y\n", params)
    with pytest.raises(TrainerError, match="no column 'text_pair'"):
        read_rows("file:///x.csv", b"text,label\na,x\n", params)
    assert read_rows("file:///x.csv", b"text,text_pair,label\na,b,x\n", params)[0].pair == "b"


def _run(tmp_path: Path, tiny_bert: Path, csv_path: Path, **params) -> Path:
    out = tmp_path / "runs" / "r1"
    env = trainer_env("r1", csv_path, out, tiny_params(tiny_bert, epochs=1, quantize=False, gate=GATE_OFF, **params))
    proc = run_trainer(env, timeout=900)  # a busy shared CPU; nothing here is timed
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_pair_csv_trains_with_token_types_and_golden_vectors_hold_both_texts(tiny_bert, tmp_path):
    data = synthetic("pair", rows=90)
    names = data.labels
    path = _write(tmp_path / "pairs.csv", ["text", "text_pair", "label"],
                  [[t, p, names[y]] for t, p, y in zip(data.texts, data.pairs or [], data.targets)])
    out = _run(tmp_path, tiny_bert, path, task="pair")
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "pair" and config["inputNames"] == ["input_ids", "attention_mask", "token_type_ids"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["task"] == "pair" and manifest["metrics"]["onnx_max_abs_diff"] <= 1e-3
    golden = json.loads((out / "golden.json").read_text())
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    for case in golden["cases"]:
        ids, types = np.array(case["windows"]), np.array(case["tokenTypeIds"])
        assert 1 in types[0] and case["textPair"] is not None
        got = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": types})[0][0]
        np.testing.assert_allclose(got, case["logits"], atol=1e-4)


def test_chunk_mode_trains_on_windows_and_scores_pooled_texts(tiny_bert, tmp_path):
    data = synthetic("chunk", rows=45)
    path = _write(tmp_path / "long.csv", ["text", "label"], [[t, data.labels[y]] for t, y in zip(data.texts, data.targets)])
    out = _run(tmp_path, tiny_bert, path, longText="chunk", chunkStride=4, maxChunks=3)
    config = json.loads((out / "config.json").read_text())
    assert config["longText"] == {"mode": "chunk", "stride": 4, "maxChunks": 3}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"]["truncated"] > 0  # the 14-sentence texts need more than 3 windows of 32 tokens
    golden = json.loads((out / "golden.json").read_text())
    assert max(len(c["windows"]) for c in golden["cases"]) == 3
    assert all(len(w) <= 32 for c in golden["cases"] for w in c["windows"])
