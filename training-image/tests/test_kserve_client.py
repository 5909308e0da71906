"""KServe's own Python client (kserve.InferenceRESTClient) against a real droptune serving
process, V1 and V2: server live/ready, model ready, metadata, predict/infer. kserve cannot be
installed beside the trainer's lock (it pins protobuf<7, psutil<6), so the client runs in
.venv-kserve (scripts/kserve-env.sh) as serving/kserve-client/client_check.py, and this test
checks what it got back."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "serving" / "fixtures" / "tiny-model"
KSERVE_PY = ROOT / ".venv-kserve" / "bin" / "python"
TEXTS = ["please refund my damaged order", "where is my parcel", "great service, thanks"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The serving process exactly as the local stack runs it, on the tiny model fixture."""
    home = tmp_path_factory.mktemp("serving-home")
    model = json.loads((FIXTURE / "manifest.json").read_text())["modelName"]
    shutil.copytree(FIXTURE, home / "buckets" / "models" / "models" / model / "v1")
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", ""),
        "MODEL_URI": f"file://models/models/{model}/v1/",
        "DROPTUNE_HOME": str(home),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DROPTUNE_SERVE_THREADS": "1",
        "LOG_LEVEL": "warn",
    }
    proc = subprocess.Popen(["node", "--import", "tsx", "serving/main.ts"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, f"serving exited with {proc.returncode} before ready"
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "serving not ready after 120 s"
        time.sleep(0.1)
    yield url, model
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def answers(server) -> dict:
    assert KSERVE_PY.exists(), f"{KSERVE_PY} is missing: run scripts/kserve-env.sh"
    url, model = server
    out = subprocess.run(
        [str(KSERVE_PY), str(ROOT / "serving" / "kserve-client" / "client_check.py"), url, model, *TEXTS],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_v1_server_live_model_ready_and_listed(answers, server):
    _, model = server
    v1 = answers["v1"]
    assert v1["server_live"] is True
    assert v1["model_ready"] is True
    assert v1["models"] == {"models": [model]}


def test_v1_predict_answers_each_text_with_a_label_and_scores(answers, server):
    _, model = server
    labels = json.loads((FIXTURE / "labels.json").read_text())
    predicted = answers["v1"]["predict"]
    assert predicted["model"] == {"name": model, "version": 1}
    assert len(predicted["predictions"]) == len(TEXTS)
    for p in predicted["predictions"]:
        assert sorted(p["scores"]) == sorted(labels)
        assert p["label"] == max(p["scores"], key=p["scores"].get)
        assert abs(sum(p["scores"].values()) - 1) < 1e-6


def test_v2_health_and_model_readiness(answers):
    v2 = answers["v2"]
    assert v2["server_live"] is True
    assert v2["server_ready"] is True
    assert v2["model_ready"] is True
    assert v2["unknown_model_ready"] is False


def test_v2_metadata_describes_the_text_input_and_outputs(answers, server):
    _, model = server
    meta = answers["v2"]["metadata"]
    assert meta["name"] == model
    assert meta["versions"] == ["1"]
    assert meta["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    assert [o["name"] for o in meta["outputs"]] == ["label", "probabilities", "truncated"]


def test_v2_infer_agrees_with_v1_predict_in_json_and_binary_form(answers, server):
    _, model = server
    labels = json.loads((FIXTURE / "labels.json").read_text())
    infer = answers["v2"]["infer"]
    assert infer["id"] == "r1"
    assert infer["model_name"] == model
    outputs = infer["outputs"]
    v1 = answers["v1"]["predict"]["predictions"]
    assert outputs["label"]["data"] == [p["label"] for p in v1]
    assert outputs["probabilities"]["shape"] == [len(TEXTS), len(labels)]
    for row, p in zip(outputs["probabilities"]["data"], v1):
        assert max(abs(row[k] - p["scores"][label]) for k, label in enumerate(labels)) < 1e-9
    assert outputs["truncated"]["data"] == [False] * len(TEXTS)
    assert answers["v2"]["infer_binary_labels"] == [p["label"] for p in v1]
