"""The gate's decisions, its settings, the int8 check against fp32 and the device choice."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from droptune_trainer.base_model import load_base_model
from droptune_trainer.device import gpu_autocast_dtype, pick_device
from droptune_trainer.errors import TrainerError
from droptune_trainer.export import quantize_int8
from droptune_trainer.gate import ChampionRows, GateSettings, decide, metric_value, paired_bootstrap, parse_gate_settings
from droptune_trainer.scoring import score
from droptune_trainer.chunking import TRUNCATE
from droptune_trainer.export import ExportSpec
from droptune_trainer.served import export_and_score

LABELS = ["a", "b", "c"]
rng = np.random.default_rng(1)
Y = rng.integers(0, 3, 300).tolist()


def noisy(y: list[int], wrong_share: float, seed: int) -> list[int]:
    r = np.random.default_rng(seed)
    return [int((v + 1) % 3) if r.random() < wrong_share else v for v in y]


def everyone(preds: list[int]) -> ChampionRows:
    return ChampionRows("v1", list(range(len(preds))), preds)


def test_metric_value_matches_scoring():
    pred = noisy(Y, 0.3, 2)
    s = score(Y, pred, LABELS)
    y, p = np.array(Y), np.array(pred)
    assert metric_value("accuracy", y, p, 3) == pytest.approx(s["accuracy"])
    assert metric_value("macro_f1", y, p, 3) == pytest.approx(s["macro_f1"])


def test_a_clearly_better_challenger_is_promoted_and_a_worse_one_held():
    good, bad = noisy(Y, 0.05, 3), noisy(Y, 0.4, 4)
    up = decide(GateSettings(minAccuracy=0), Y, good, 3, everyone(bad))
    assert up["decision"] == "promote" and up["reason"].startswith("better beyond noise") and up["ci95"][0] > 0
    down = decide(GateSettings(minAccuracy=0), Y, bad, 3, everyone(good))
    assert down["decision"] == "hold" and down["reason"].startswith("worse") and down["rows"] == 300


def test_identical_predictions_tie_and_promote_ties_decides():
    pred = noisy(Y, 0.2, 5)
    assert paired_bootstrap("macro_f1", Y, pred, pred, 3) == (0.0, 0.0)
    tie = decide(GateSettings(minAccuracy=0), Y, pred, 3, everyone(pred))
    assert tie["decision"] == "promote" and tie["reason"].startswith("equal within noise")
    held = decide(GateSettings(minAccuracy=0, promoteTies=False), Y, pred, 3, everyone(pred))
    assert held["decision"] == "hold" and "promoteTies is false" in held["reason"]


def test_too_few_unseen_rows_refuses_to_compare_and_says_why():
    pred = noisy(Y, 0.1, 6)
    few = ChampionRows("v3", [0, 1, 2], pred[:3])
    g = decide(GateSettings(minAccuracy=0, minRows=30), Y, pred, 3, few)
    assert g["decision"] == "hold" and g["rows"] == 3 and g["champion"] is None
    assert "only 3 validation row(s) were never in champion v3's training set; at least 30 (gate.minRows)" in g["reason"]


def test_no_champion_and_minimums():
    pred = noisy(Y, 0.5, 7)
    assert decide(GateSettings(minAccuracy=0), Y, pred, 3, None)["decision"] == "no-champion"
    g = decide(GateSettings(minAccuracy=0.9), Y, pred, 3, None)
    assert g["decision"] == "hold" and "below gate.minAccuracy 0.9" in g["reason"]
    bad = decide(GateSettings(minAccuracy=0), Y, pred, 3, ChampionRows("v2", [], [], "has no training-set fingerprint"))
    assert bad["decision"] == "hold" and bad["reason"] == "champion v2: has no training-set fingerprint"


def test_a_champion_label_this_dataset_lacks_is_never_right():
    y = np.array([0, 1, 2, 0])
    assert metric_value("accuracy", y, np.array([-1, 1, 2, 0]), 3) == 0.75
    assert metric_value("macro_f1", y, np.array([-1, -1, -1, -1]), 3) == 0.0


@pytest.mark.parametrize(("gate", "needle"), [
    ({"metric": "f2"}, "params.gate.metric must be one of accuracy, macro_f1"),
    ({"minAccuracy": 2}, "params.gate.minAccuracy must be between 0 and 1"),
    ({"minRows": 2.5}, "params.gate.minRows must be an integer"),
    ({"promoteTies": "yes"}, "params.gate.promoteTies must be true or false"),
    ({"treshold": 1}, "params.gate has unknown key(s): treshold"),
])
def test_gate_settings_are_checked_by_name(gate, needle):
    with pytest.raises(TrainerError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        parse_gate_settings(json.dumps({"gate": gate}))


def test_gate_settings_from_params_over_defaults():
    s = parse_gate_settings(json.dumps({"epochs": 1, "gate": {"metric": "accuracy", "minRows": 5}}))
    assert (s.metric, s.minRows, s.maxRegression) == ("accuracy", 5, GateSettings().maxRegression)
    assert parse_gate_settings(None) == GateSettings()


def _corrupting_quantizer(push: int):
    """Real int8 quantization, then the classifier bias of class `push` raised far: an int8 model
    that predicts `push` for everything (a quantization that lost accuracy)."""

    def quantize(src, dest):
        quantize_int8(src, dest)
        model = onnx.load(str(dest))
        for init in model.graph.initializer:
            if "classifier" in init.name and "bias" in init.name:
                bias = numpy_helper.to_array(init).copy()
                bias[push] += 1000.0
                init.CopyFrom(numpy_helper.from_array(bias, init.name))
        onnx.save(model, str(dest))

    return quantize


@pytest.fixture(scope="module")
def tiny_model(tiny_bert):
    torch.manual_seed(0)
    model, tokenizer, _ = load_base_model(str(tiny_bert), LABELS)
    return model, tokenizer


SPEC = ExportSpec("classification", "tiny", 32, TRUNCATE)
TEXTS = [f"ticket {i} about {w}" for i, w in enumerate(["refund", "parcel", "crash"] * 20)]


def test_int8_that_loses_more_than_allowed_is_dropped_and_fp32_served(tiny_model, tmp_path):
    model, tokenizer = tiny_model
    (tmp_path / "probe").mkdir()
    probe = export_and_score(model, tokenizer, tmp_path / "probe", TEXTS, [0] * 60, LABELS, SPEC, 16, False, GateSettings(), "fp32")
    labels = probe.predictions  # the fp32 model is right on every row
    push = (max(set(labels), key=labels.count) + 1) % 3
    files = tmp_path / "m"
    files.mkdir()
    served = export_and_score(model, tokenizer, files, TEXTS, labels, LABELS, SPEC, 16, True, GateSettings(metric="accuracy"), "int8",
                              quantizer=_corrupting_quantizer(push))
    assert served.int8["kept"] is False and not (files / "model.int8.onnx").exists()
    assert "worse than fp32 1.0000" in served.int8["reason"] and served.int8["reason"].endswith("serving fp32")
    assert served.variant == "fp32" and served.predictions == labels and served.scores["accuracy"] == 1.0
    assert served.int8["accuracy"] == pytest.approx(labels.count(push) / 60)


def test_int8_within_tolerance_is_kept_and_served_when_serving_loads_int8(tiny_model, tmp_path):
    model, tokenizer = tiny_model
    labels = [i % 3 for i in range(60)]
    files = tmp_path / "m"
    files.mkdir()
    served = export_and_score(model, tokenizer, files, TEXTS, labels, LABELS, SPEC, 16, True, GateSettings(maxInt8Loss=1.0), "int8")
    assert served.int8["kept"] is True and (files / "model.int8.onnx").exists() and served.variant == "int8"


def test_bf16_only_on_compute_capability_8_and_fp16_with_a_scaler_before():
    assert gpu_autocast_dtype("auto", (7, 5)) == torch.float16  # T4
    assert gpu_autocast_dtype("bf16", (7, 0)) == torch.float16  # V100: no native bf16
    assert gpu_autocast_dtype("auto", (8, 9)) == torch.bfloat16  # L4
    assert gpu_autocast_dtype("fp32", (9, 0)) is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only machine's answer")
def test_a_requested_gpu_that_is_missing_fails_fast_with_the_reason():
    with pytest.raises(TrainerError, match="a GPU was requested .* sees no usable CUDA device") as info:
        pick_device("auto", require_gpu=True)
    assert info.value.code == "failed_precondition"
    assert pick_device("auto").describe == "cpu (fp32)"


def test_balanced_class_weights_follow_the_counts():
    from droptune_trainer.params import parse_params
    from droptune_trainer.train_loop import class_weights

    assert class_weights([0] * 8 + [1] * 2, 2) == [10 / (2 * 8), 10 / (2 * 2)]
    assert class_weights([0, 0, 2], 3) == [0.5, 1.0, 1.0]
    assert parse_params('{"classWeights": "balanced"}').classWeights == "balanced"
    with pytest.raises(TrainerError, match="params.classWeights must be one of none, balanced"):
        parse_params('{"classWeights": "inverse"}')
