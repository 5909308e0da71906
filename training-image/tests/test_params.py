import json
from dataclasses import fields

import pytest

from droptune_trainer.contracts import load_schema
from droptune_trainer.errors import TrainerError
from droptune_trainer.params import GateParams, Params, parse_params

SCHEMA = load_schema("model-settings")


def test_empty_params_give_the_defaults():
    assert parse_params(None) == Params()
    assert parse_params("  ") == Params()


def test_defaults_are_the_ones_of_the_typescript_contract():
    # The generated schema is the one table; the old second copy here had batch 32 / fraction 0.2.
    p = Params()
    props = SCHEMA["properties"]
    for f in fields(Params):
        if f.name in ("gate", "evalBatchSize"):
            continue
        # No default in the contract (task, earlyStoppingMetric): unset, the task decides.
        assert getattr(p, f.name) == props[f.name].get("default"), f.name
    assert (p.batchSize, p.validationFraction, p.evalBatchSize) == (16, 0.1, 32)
    assert p.gate == GateParams()  # unset: the stack's defaults apply in the workflow


def test_every_setting_of_droptune_json_is_a_trainer_field_and_back():
    assert {f.name for f in fields(Params)} == set(SCHEMA["properties"])
    assert {f.name for f in fields(GateParams)} == set(SCHEMA["properties"]["gate"]["properties"])


def test_accepts_known_keys_and_derives_eval_batch():
    p = parse_params(json.dumps({"epochs": 5, "learningRate": 2e-5, "batchSize": 8, "quantize": False, "gate": {"minAccuracy": 0.8}}))
    assert (p.epochs, p.learningRate, p.batchSize, p.evalBatchSize, p.quantize) == (5, 2e-5, 8, 16, False)
    assert p.gate == GateParams(minAccuracy=0.8)


def test_trainer_knobs_can_be_set_from_droptune_json():
    p = parse_params(json.dumps({"earlyStoppingPatience": 0, "warmupRatio": 0.0, "precision": "fp32", "evalBatchSize": 7}))
    assert (p.earlyStoppingPatience, p.warmupRatio, p.precision, p.evalBatchSize) == (0, 0.0, "fp32", 7)


@pytest.mark.parametrize(("raw", "needle"), [
    ('{"epochs": 3, "learningrate": 1e-4}', "unknown key(s): learningrate"),
    ('{"epochs": 0}', "params.epochs must be between 1 and 50"),
    ('{"epochs": 51}', "params.epochs must be between 1 and 50"),
    ('{"epochs": 2.5}', "params.epochs must be an integer"),
    ('{"batchSize": "32"}', "params.batchSize must be a number"),
    ('{"validationFraction": 0.9}', "params.validationFraction must be between"),
    ('{"maxLength": 1024}', "params.maxLength must be between 8 and 512"),
    ('{"quantize": "yes"}', "params.quantize must be true or false"),
    ('{"earlyStoppingMetric": "f1"}', "params.earlyStoppingMetric must be one of"),
    ('{"textColumn": ""}', "params.textColumn must be a non-empty string"),
    ('{"gate": {"minAccuracy": 2}}', "params.gate.minAccuracy must be between 0 and 1"),
    ('{"gate": {"min": 0.5}}', "unknown key(s): min"),
    ("[1, 2]", "must be a JSON object"),
    ("{epochs: 3}", "not valid JSON"),
])
def test_rejects_bad_params_naming_the_field(raw, needle):
    with pytest.raises(TrainerError) as info:
        parse_params(raw)
    assert info.value.code == "invalid_argument"
    assert needle in info.value.message
