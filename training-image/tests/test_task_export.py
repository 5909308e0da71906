"""Export per task: the graph each task serves (token types for pairs, the regression value in
target units), tuned multi-label thresholds, and a tiny train → export → ONNX parity run per
task fixture whose golden vectors reproduce from the files alone."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from droptune_trainer.base_model import load_base_model
from droptune_trainer.chunking import TRUNCATE, Chunker, LongText, pool
from droptune_trainer.export import ExportSpec, Target, export_onnx, model_config
from droptune_trainer.onnx_eval import sigmoid
from droptune_trainer.scoring import multilabel_scores, regression_scores, tune_thresholds
from tests.task_fixtures import FIXTURES, produce_task

IDS = np.array([[101, 7592, 2088, 2003, 102], [101, 7592, 102, 0, 0]], dtype=np.int64)
MASK = (IDS != 0).astype(np.int64)


def _torch_out(model, types=None):
    extra = {} if types is None else {"token_type_ids": torch.tensor(types)}
    with torch.no_grad():
        return model(input_ids=torch.tensor(IDS), attention_mask=torch.tensor(MASK), **extra).logits.numpy()


def test_regression_graph_outputs_value_in_target_units(tiny_bert, tmp_path):
    torch.manual_seed(0)
    model, _, _ = load_base_model(str(tiny_bert), ["score"])
    spec = ExportSpec("regression", "tiny", 32, TRUNCATE, Target(mean=3.0, std=2.0))
    names = export_onnx(model, tmp_path / "model.onnx", spec)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert names == ["input_ids", "attention_mask"] and [o.name for o in session.get_outputs()] == ["value"]
    value = session.run(None, {"input_ids": IDS, "attention_mask": MASK})[0]
    assert value.shape == (2, 1)
    np.testing.assert_allclose(value, _torch_out(model.eval()) * 2.0 + 3.0, atol=1e-4)
    config = model_config(spec, names, None)
    assert config["target"] == {"mean": 3.0, "std": 2.0} and config["outputName"] == "value" and "thresholds" not in config


def test_pair_graph_takes_token_type_ids_and_they_change_the_output(tiny_bert, tmp_path):
    torch.manual_seed(0)
    model, _, _ = load_base_model(str(tiny_bert), ["match", "mismatch"])
    spec = ExportSpec("pair", "tiny", 32, TRUNCATE)
    names = export_onnx(model, tmp_path / "model.onnx", spec)
    assert names == ["input_ids", "attention_mask", "token_type_ids"]
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    types = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], dtype=np.int64)
    got = session.run(None, {"input_ids": IDS, "attention_mask": MASK, "token_type_ids": types})[0]
    np.testing.assert_allclose(got, _torch_out(model.eval(), types), atol=1e-4)
    zeros = session.run(None, {"input_ids": IDS, "attention_mask": MASK, "token_type_ids": np.zeros_like(types)})[0]
    assert np.abs(zeros[0] - got[0]).max() > 1e-6  # segment ids reach the graph


def test_classification_graph_keeps_two_inputs_and_config_says_the_task(tiny_bert, tmp_path):
    model, _, _ = load_base_model(str(tiny_bert), ["a", "b"])
    spec = ExportSpec("classification", "tiny", 32, LongText("chunk", 8, 4))
    names = export_onnx(model, tmp_path / "model.onnx", spec)
    config = model_config(spec, names, None)
    assert names == ["input_ids", "attention_mask"]
    assert config == {"task": "classification", "baseModel": "tiny", "maxLength": 32, "inputNames": names,
                      "outputName": "logits", "longText": {"mode": "chunk", "stride": 8, "maxChunks": 4}}


def test_thresholds_maximise_each_class_f1_and_stay_half_without_positives():
    truth = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]])
    probs = np.array([[0.30, 0.9, 0.2], [0.25, 0.6, 0.1], [0.1, 0.8, 0.7], [0.05, 0.2, 0.6]])
    t = tune_thresholds(truth, probs, ["a", "b", "c"])
    assert t == {"a": 0.25, "b": 0.8, "c": 0.5}  # a: both positives from 0.25; b: 0.8 drops the 0.6 false positive; c: no positives
    s = multilabel_scores(truth, probs, t, ["a", "b", "c"])
    assert s["per_class"]["a"]["f1"] == 1.0 and s["per_class"]["c"]["support"] == 0
    assert s["macro_f1"] == pytest.approx((1.0 + 2 / 3) / 2)  # b: 0.9 and 0.8 predicted, one true
    assert s["micro_f1"] == pytest.approx(2 * 3 / (3 + 6))  # 3 true positives, 3 true labels, 6 predicted


def test_regression_scores_in_target_units():
    s = regression_scores(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 2.0, 2.5, 5.0]))
    assert s["mae"] == pytest.approx(0.5) and s["rmse"] == pytest.approx(np.sqrt(1.5 / 4))
    assert s["spearman"] == pytest.approx(1.0) and s["r2"] == pytest.approx(1 - 1.5 / 5.0)
    assert s["points"][0] == [1.0, 1.5]


@pytest.mark.parametrize("fixture", FIXTURES)
def test_tiny_task_model_trains_exports_and_its_golden_vectors_reproduce(fixture, tmp_path):
    out = tmp_path / fixture
    manifest = produce_task(out, fixture)
    config = json.loads((out / "config.json").read_text())
    golden = json.loads((out / "golden.json").read_text())
    labels = json.loads((out / "labels.json").read_text())
    task = "classification" if fixture == "chunk" else fixture
    assert manifest["task"] == config["task"] == golden["task"] == task
    assert manifest["metrics"]["onnx_max_abs_diff"] <= 1e-3
    assert golden["longText"] == config["longText"] and golden["labels"] == labels
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == config["inputNames"]
    from tokenizers import Tokenizer

    chunker = Chunker(Tokenizer.from_file(str(out / "tokenizer.json")), config["maxLength"], LongText.from_json(config["longText"]))
    for case in golden["cases"]:
        w = chunker.windows(case["text"], case.get("textPair"))
        assert w.input_ids == case["windows"]
        outs = []
        for k, ids in enumerate(case["windows"]):
            feeds = {"input_ids": np.array([ids]), "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
                     "token_type_ids": np.array([case.get("tokenTypeIds", w.token_type_ids)[k]])}
            outs.append(session.run(None, {n: feeds[n] for n in config["inputNames"]})[0][0])
        raw = pool(np.array(outs), [0] * len(outs), 1)[0]
        np.testing.assert_allclose(raw, case["logits"], atol=golden["tolerance"])
        _check_prediction(task, case["prediction"], raw, labels, config)
    if fixture == "chunk":
        assert any(len(c["windows"]) > 1 and "truncated" not in c["prediction"] for c in golden["cases"])
        assert any(c["prediction"].get("truncated") for c in golden["cases"])
    if fixture == "pair":
        assert all("textPair" in c and "tokenTypeIds" in c for c in golden["cases"])


def _check_prediction(task: str, pred: dict, raw: np.ndarray, labels: list[str], config: dict) -> None:
    if task == "regression":
        assert labels == ["score"] and pred["value"] == pytest.approx(float(raw[0]), abs=1e-4)
        assert config["target"]["std"] > 0
    elif task == "multilabel":
        probs = sigmoid(raw)
        assert pred["labels"] == [n for n, p in zip(labels, probs) if p >= config["thresholds"][n]]
        assert set(config["thresholds"]) == set(labels)
    else:
        assert pred["label"] == labels[int(np.argmax(raw))] and sum(pred["scores"].values()) == pytest.approx(1.0)


def test_early_stopping_improvement_follows_the_metrics_direction():
    from droptune_trainer.train_loop import _better

    assert _better("rmse", 0.4, 0.5) and not _better("rmse", 0.6, 0.5)
    assert _better("macro_f1", 0.6, 0.5) and not _better("macro_f1", 0.4, 0.5)
    assert _better("loss", 0.1, 0.2) and _better("mae", 1.0, None)
