"""Multilabel and regression: reading their targets (data.py), the split's strata (split.py) and
whole trainer runs as child processes on easy synthetic CSVs with the tiny random BERT: the
artifact (config.json thresholds / target, the ONNX output, metrics.json) and a score floor."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from conftest import run_trainer, tiny_params, trainer_env

from droptune_trainer.data import LABEL_SET_JOIN, read_rows
from droptune_trainer.errors import TrainerError
from droptune_trainer.params import parse_params
from droptune_trainer.split import Row, split_rows, value_strata
from tests.tiny_model import _WORDS, FIXTURE_LABELS

URI = "file:///d.csv"
MULTI = parse_params(json.dumps({"task": "multilabel"}))
REGRESSION = parse_params(json.dumps({"task": "regression"}))
GATE_OFF = {"minRows": 1}


def test_multilabel_cells_split_on_the_delimiter_trimmed_as_a_sorted_label_set():
    rows = read_rows(URI, b"text,labels\nhello, b | a |a\nbye,c\n", MULTI)
    assert [r.label for r in rows] == [f"a{LABEL_SET_JOIN}b", "c"]
    semi = parse_params(json.dumps({"task": "multilabel", "labelsColumn": "tags", "labelDelimiter": ";"}))
    assert read_rows(URI, b"text,tags\nhi,x;y\n", semi)[0].label == f"x{LABEL_SET_JOIN}y"


@pytest.mark.parametrize(("body", "message"), [
    (b"text,labels\nhello,a\nbye, \n", "line 3 column 'labels' is an empty label set"),
    (b"text,labels\nhello,a||b\n", "line 2 column 'labels' has an empty class between '|' delimiters"),
    (b"text,label\nhello,a\n", "header has no column 'labels'"),
])
def test_bad_multilabel_cells_name_their_line_and_column(body, message):
    with pytest.raises(TrainerError, match=message):
        read_rows(URI, body, MULTI)


def test_regression_reads_score_else_label_as_floats_and_names_a_non_number():
    assert [r.label for r in read_rows(URI, b"text,score,label\na,1.5,x\nb,-2,y\n", REGRESSION)] == ["1.5", "-2.0"]
    assert read_rows(URI, b"text,label\na, 3 \n", REGRESSION)[0].label == "3.0"  # no score column: labelColumn
    with pytest.raises(TrainerError, match="line 3 column 'score' is 'high'; expected a finite number"):
        read_rows(URI, b"text,score\na,1\nb,high\n", REGRESSION)
    with pytest.raises(TrainerError, match="line 2 column 'score' is 'nan'; expected a finite number"):
        read_rows(URI, b"text,score\na,nan\n", REGRESSION)


def test_regression_split_keeps_every_target_quintile_on_both_sides():
    rows = [Row(f"text number {i}", repr(float(i)), i + 2) for i in range(50)]
    strata = value_strata(rows)
    assert [strata(repr(float(v))) for v in (0, 9, 10, 49)] == ["0", "0", "1", "4"]
    split = split_rows(rows, 0.05, "m", strata)  # ~2 validation rows by hash alone: stratification adds the rest
    assert {strata(e.label) for e in split.validation} == {"0", "1", "2", "3", "4"}
    assert {strata(e.label) for e in split.train} == {"0", "1", "2", "3", "4"}


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _run(tmp_path: Path, tiny_bert: Path, csv_path: Path, **params) -> Path:
    out = tmp_path / "runs" / "r1"
    env = trainer_env("r1", csv_path, out, tiny_params(tiny_bert, quantize=True, gate=GATE_OFF, **params))
    proc = run_trainer(env, timeout=900)  # a busy shared CPU; nothing here is timed
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _outputs(out: Path) -> tuple[str, np.ndarray]:
    """The exported graph's output name and its output on the first golden case's window."""
    golden = json.loads((out / "golden.json").read_text())
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    ids = np.array(golden["cases"][0]["windows"])
    return session.get_outputs()[0].name, session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]


def test_multilabel_run_tunes_thresholds_and_finds_keywords(tiny_bert, tmp_path):
    rng, names = random.Random(3), list(FIXTURE_LABELS)
    rows = []
    for i in range(240):  # one keyword of each of the row's classes: its label set is in the text
        chosen = sorted(rng.sample(names, rng.choice([1, 1, 2])))
        rows.append([f"help with {' and '.join(rng.choice(_WORDS[c]) for c in chosen)} please #{i}", " | ".join(chosen)])
    out = _run(tmp_path, tiny_bert, _write(tmp_path / "multi.csv", ["text", "labels"], rows), task="multilabel", epochs=10)
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "multilabel" and set(config["thresholds"]) == set(names)
    assert all(0 < t < 1 for t in config["thresholds"].values())
    assert json.loads((out / "labels.json").read_text()) == sorted(names)
    name, logits = _outputs(out)
    assert name == "logits" and logits.shape == (1, 3)
    metrics = json.loads((out / "metrics.json").read_text())
    v = metrics["validation"]
    assert metrics["task"] == "multilabel" and v["per_class"]["billing"]["threshold"] == config["thresholds"]["billing"]
    assert v["micro_f1"] >= 0.75 and v["macro_f1"] >= 0.75, v  # predicting every class scores micro-F1 ≈ 0.6
    assert set(metrics["split"]["labelCounts"]) == set(names)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["task"] == "multilabel" and manifest["metrics"]["micro_f1"] == v["micro_f1"]
    assert "int8_micro_f1" in manifest["metrics"] and metrics["gate"]["metric"] == "micro_f1"


def test_regression_run_exports_values_in_target_units(tiny_bert, tmp_path):
    rng = random.Random(5)
    rows = []
    for i in range(240):
        good = rng.randrange(6)
        rows.append([" ".join(["great"] * good + ["bad"] * (5 - good)) + f" review {i}", f"{10 + 20 * good + rng.uniform(-2, 2):.3f}"])
    out = _run(tmp_path, tiny_bert, _write(tmp_path / "reg.csv", ["text", "score"], rows), task="regression", epochs=4)
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "regression" and config["outputName"] == "value"
    assert 55 < config["target"]["mean"] < 75 and 25 < config["target"]["std"] < 45  # TRAIN targets 10..110
    name, value = _outputs(out)
    assert name == "value" and value.shape == (1, 1)
    metrics = json.loads((out / "metrics.json").read_text())
    v = metrics["validation"]
    assert metrics["task"] == "regression" and v["labels"] == [] and len(v["points"]) == metrics["split"]["validationRows"]
    assert v["r2"] >= 0.6 and v["spearman"] >= 0.7 and v["rmse"] < 25, v  # std of the target ≈ 34
    assert all(10 - 5 < t < 110 + 5 for t, _ in v["points"])  # true values in the CSV's units
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["task"] == "regression" and manifest["metrics"]["rmse"] == v["rmse"]
    assert metrics["gate"]["metric"] == "rmse" and [h for h in metrics["history"] if "val_rmse" in h]


def test_task_gate_applies_min_r2_and_holds_beside_a_champion_it_cannot_compare():
    from droptune_trainer.gate import GateSettings
    from droptune_trainer.task_scores import task_gate

    scores = {"rmse": 1.0, "mae": 0.8, "spearman": 0.5, "r2": 0.3}
    settings = GateSettings(metric="rmse")
    assert task_gate(settings, "regression", scores, None, False)["decision"] == "no-champion"
    short = task_gate(settings, "regression", scores, 0.5, False)
    assert short["decision"] == "hold" and short["reason"] == "r2 0.3000 is below gate.minR2 0.5"
    beside = task_gate(settings, "regression", scores, 0.2, True)
    assert beside["decision"] == "hold" and "not supported by this trainer version" in beside["reason"]
    multi = task_gate(GateSettings(metric="micro_f1", minMacroF1=0.9), "multilabel", {"micro_f1": 0.95, "macro_f1": 0.85}, None, False)
    assert multi["decision"] == "hold" and "below gate.minMacroF1 0.9" in multi["reason"]


def test_a_gate_metric_the_task_does_not_report_is_refused_before_any_data_is_read(tmp_path):
    from droptune_trainer.run import RunEnv, prepare

    env = RunEnv.from_environ({"DROPTUNE_RUN_ID": "r1", "DROPTUNE_DATASET_URI": f"file://{tmp_path}/m/d.csv",
                               "DROPTUNE_OUTPUT_URI": f"file://{tmp_path}/out/",
                               "DROPTUNE_PARAMS": json.dumps({"task": "regression", "gate": {"metric": "macro_f1"}})})
    with pytest.raises(TrainerError, match="task 'regression' reports rmse, mae, spearman, r2; gate.metric 'macro_f1'"):
        prepare(env, "m", None)  # type: ignore[arg-type]  # refused before the dataset or a device is used
