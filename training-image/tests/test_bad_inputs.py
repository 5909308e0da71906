"""Bad inputs end with a clear one-line reason, the code's exit status, failure.json and no
manifest. Runs `main()` in-process (the same entry as `python -m droptune_trainer`)."""

import json

import pytest
from conftest import tiny_params

from droptune_trainer.__main__ import main


@pytest.fixture
def env(monkeypatch, tmp_path, tickets_csv, tiny_bert):
    for key in ("DROPTUNE_API_URL", "DROPTUNE_CHAMPION_URI", "DROPTUNE_DATASET_GENERATION"):
        monkeypatch.delenv(key, raising=False)
    values = {
        "DROPTUNE_RUN_ID": "bad-1",
        "DROPTUNE_DATASET_URI": f"file://{tickets_csv}",
        "DROPTUNE_OUTPUT_URI": f"file://{tmp_path}/out/",
        "DROPTUNE_PARAMS": json.dumps(tiny_params(tiny_bert)),
        "DROPTUNE_MODEL_NAME": "test-model",
        "HF_HUB_OFFLINE": "1",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return monkeypatch


def failure(tmp_path):
    assert not (tmp_path / "out" / "manifest.json").exists()
    return json.loads((tmp_path / "out" / "failure.json").read_text())


def one_line(capsys) -> str:
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("droptune-trainer:")]
    assert len(lines) == 1
    return lines[0]


def test_unknown_param(env, tmp_path, capsys, tiny_bert):
    env.setenv("DROPTUNE_PARAMS", json.dumps({**tiny_params(tiny_bert), "epoch": 3}))
    assert main() == 2
    assert failure(tmp_path) == {**failure(tmp_path), "runId": "bad-1", "code": "invalid_argument"}
    assert "unknown key(s): epoch" in one_line(capsys)


def test_unreadable_dataset(env, tmp_path, capsys):
    env.setenv("DROPTUNE_DATASET_URI", f"file://{tmp_path}/missing.csv")
    assert main() == 2
    assert failure(tmp_path)["code"] == "not_found"
    assert "missing.csv does not exist" in one_line(capsys)


def test_single_class_dataset(env, tmp_path, capsys):
    (tmp_path / "one.csv").write_text("text,label\na,x\nb,x\nc,x\n")
    env.setenv("DROPTUNE_DATASET_URI", f"file://{tmp_path}/one.csv")
    assert main() == 2
    assert failure(tmp_path)["code"] == "failed_precondition"
    assert "needs at least 2 classes" in one_line(capsys)


def test_missing_base_model_directory(env, tmp_path, capsys, tiny_bert):
    env.setenv("DROPTUNE_PARAMS", json.dumps(tiny_params(tiny_bert, baseModel=str(tmp_path / "no-model"))))
    assert main() == 2
    assert failure(tmp_path)["code"] == "not_found"
    assert "is not a model directory" in one_line(capsys)


def test_unknown_hub_model_offline(env, tmp_path, capsys, tiny_bert):
    # huggingface_hub reads HF_HUB_OFFLINE at import; earlier tests imported it already
    import huggingface_hub.constants

    env.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    env.setenv("DROPTUNE_PARAMS", json.dumps(tiny_params(tiny_bert, baseModel="droptune-tests/no-such-model")))
    assert main() == 2
    assert failure(tmp_path)["code"] == "not_found"
    assert "base model 'droptune-tests/no-such-model' could not be loaded" in one_line(capsys)


def test_missing_environment(env, tmp_path, capsys):
    env.delenv("DROPTUNE_RUN_ID")
    assert main() == 2
    assert "missing environment variable(s): DROPTUNE_RUN_ID" in one_line(capsys)


def test_unsupported_output_scheme(env, capsys):
    env.setenv("DROPTUNE_OUTPUT_URI", "s3://bucket/runs/bad-1/")
    assert main() == 2
    assert "expected one of file://, gs://" in one_line(capsys)
