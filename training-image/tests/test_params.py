import json

import pytest

from droptune_trainer.errors import TrainerError
from droptune_trainer.params import Params, parse_params


def test_empty_params_give_the_defaults():
    assert parse_params(None) == Params()
    assert parse_params("  ") == Params()


def test_accepts_known_keys_and_derives_eval_batch():
    p = parse_params(json.dumps({"epochs": 5, "learningRate": 2e-5, "batchSize": 8, "quantize": False, "gate": {"minAccuracy": 0.8}}))
    assert (p.epochs, p.learningRate, p.batchSize, p.evalBatchSize, p.quantize) == (5, 2e-5, 8, 16, False)


@pytest.mark.parametrize(("raw", "needle"), [
    ('{"epochs": 3, "learningrate": 1e-4}', "unknown key(s): learningrate"),
    ('{"epochs": 0}', "params.epochs must be between 1 and 100"),
    ('{"epochs": 2.5}', "params.epochs must be an integer"),
    ('{"batchSize": "32"}', "params.batchSize must be a number"),
    ('{"validationFraction": 0.9}', "params.validationFraction must be between"),
    ('{"maxLength": 1024}', "params.maxLength must be between 8 and 512"),
    ('{"quantize": "yes"}', "params.quantize must be true or false"),
    ('{"earlyStoppingMetric": "f1"}', "params.earlyStoppingMetric must be one of"),
    ('{"textColumn": ""}', "params.textColumn must be a non-empty string"),
    ("[1, 2]", "must be a JSON object"),
    ("{epochs: 3}", "not valid JSON"),
])
def test_rejects_bad_params_naming_the_field(raw, needle):
    with pytest.raises(TrainerError) as info:
        parse_params(raw)
    assert info.value.code == "invalid_argument"
    assert needle in info.value.message
