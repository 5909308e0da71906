"""End-to-end runs of `python -m droptune_trainer` on a tiny random BERT (real child processes,
real files, real ONNX sessions, a real HTTP server for the metrics API)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
from conftest import ROOT, TOKEN, MetricsServer, closed_port_url, run_trainer, tiny_params, trainer_env
from tokenizers import Tokenizer

# The tiny random model is weak and the data small: the gate's minimums are off, 10 rows compare.
# The tiny CSV leaves a handful of validation rows (the contract's fraction, 0.1): compare on any.
PARAMS = {"epochs": 3, "logEverySteps": 2, "gate": {"minAccuracy": 0, "minRows": 1}}


@pytest.fixture(scope="module")
def server():
    s = MetricsServer()
    yield s
    s.close()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, tiny_bert, tickets_csv, server):
    """One uninterrupted run reporting to a live API."""
    out = tmp_path_factory.mktemp("baseline") / "runs" / "base-1"
    env = trainer_env("base-1", tickets_csv, out, tiny_params(tiny_bert, **PARAMS),
                      DROPTUNE_API_URL=server.url, DROPTUNE_API_TOKEN=TOKEN, DROPTUNE_DATASET_GENERATION="1700000000")
    proc = run_trainer(env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_run_writes_a_complete_version_and_the_manifest_matches_it(baseline):
    out, proc = baseline
    manifest = json.loads((out / "manifest.json").read_text())
    top = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != "manifest.json")
    assert sorted(f["path"] for f in manifest["files"]) == top
    int8_kept = json.loads((out / "metrics.json").read_text())["int8"]["kept"]
    assert {"model.onnx", "tokenizer.json", "labels.json", "config.json", "metrics.json", "split.json",
            "golden.json", "metrics.jsonl"} | ({"model.int8.onnx"} if int8_kept else set()) == set(top)
    for f in manifest["files"]:
        data = (out / f["path"]).read_bytes()
        assert f["size"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["schemaVersion"] == 1 and manifest["task"] == "classification"  # the contract's task name (old versions: text-classification)
    assert manifest["runId"] == "base-1" and manifest["modelName"] == "test-model"
    assert manifest["dataset"]["generation"] == "1700000000" and re.fullmatch(r"[0-9a-f]{64}", manifest["dataset"]["sha256"])
    assert {"torch", "transformers", "onnxruntime", "python"} <= set(manifest["packages"])
    assert all(isinstance(v, float) for v in manifest["metrics"].values())
    assert 0 <= manifest["metrics"]["accuracy"] <= 1 and manifest["metrics"]["onnx_max_abs_diff"] <= 1e-3
    assert json.loads((out / "labels.json").read_text()) == ["billing", "shipping", "technical"]
    config = json.loads((out / "config.json").read_text())
    assert config == {"task": "classification", "baseModel": config["baseModel"], "maxLength": 32,
                      "inputNames": ["input_ids", "attention_mask"], "outputName": "logits",
                      "longText": {"mode": "truncate", "stride": 0, "maxChunks": 1}}
    assert "done in" in proc.stderr and "samples/s eta" in proc.stderr


def test_manifest_passes_the_typescript_contract(baseline):
    if shutil.which("node") is None or not (ROOT / "node_modules" / "zod").exists():
        pytest.skip("node and node_modules are needed for the cross-language check")
    out, _ = baseline
    script = ("import {readFileSync} from 'node:fs'; import {Manifest, ModelConfig, Labels} from './shared/contracts/manifest.ts';"
              f"Manifest.parse(JSON.parse(readFileSync('{out}/manifest.json','utf8')));"
              f"ModelConfig.parse(JSON.parse(readFileSync('{out}/config.json','utf8')));"
              f"Labels.parse(JSON.parse(readFileSync('{out}/labels.json','utf8'))); console.log('ok')")
    proc = subprocess.run([str(ROOT / "node_modules" / ".bin" / "tsx"), "-e", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_onnx_has_dynamic_axes_and_golden_vectors_reproduce(baseline):
    out, _ = baseline
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask"]
    assert all(isinstance(d, str) for i in session.get_inputs() for d in i.shape)  # batch, sequence
    golden = json.loads((out / "golden.json").read_text())
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    texts = [c["text"] for c in golden["cases"]]
    assert any("😡" in t for t in texts) and any("账户" in t for t in texts) and any("é" in t for t in texts)
    assert max(len(c["inputIds"]) for c in golden["cases"]) == 32  # the long text is truncated to maxLength
    assert min(len(c["inputIds"]) for c in golden["cases"]) <= 3  # near-empty text: [CLS] x [SEP]
    for case in golden["cases"]:
        assert tok.encode(case["text"]).ids == case["inputIds"]
        ids = np.array([case["inputIds"]], dtype=np.int64)
        logits = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        assert np.abs(logits - np.array(case["logits"])).max() < 1e-5
        assert sum(case["probs"]) == pytest.approx(1.0, abs=1e-5)
    # two texts of different lengths in one padded batch give the same logits as alone
    a, b = golden["cases"][0], min(golden["cases"], key=lambda c: len(c["inputIds"]))
    ids = np.zeros((2, max(len(a["inputIds"]), len(b["inputIds"]))), dtype=np.int64)
    mask = np.zeros_like(ids)
    for r, case in enumerate((a, b)):
        ids[r, : len(case["inputIds"])], mask[r, : len(case["inputIds"])] = case["inputIds"], 1
    batched = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    assert np.abs(batched[1] - np.array(b["logits"])).max() < 1e-4


def test_metrics_reach_the_api_and_metrics_jsonl(baseline, server):
    out, _ = baseline
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [m["step"] for m in lines if m["key"] == "train_loss"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert steps == list(range(1, metrics["train"]["steps"] + 1))
    assert [m["epoch"] for m in lines if m["key"] == "val_accuracy"] == [1, 2, 3]
    received = server.metrics()
    assert all(r["path"] == "/v1/runs/base-1/metrics" for r in server.requests)
    assert sorted((m["key"], m["step"]) for m in received) == sorted((m["key"], m["step"]) for m in lines)
    assert len(metrics["history"]) == 3 and metrics["validation"]["confusion_matrix"]
    assert set(metrics["validation"]["per_class"]) == {"billing", "shipping", "technical"}
    assert metrics["int8"]["accuracy"] >= 0 and metrics["onnx"]["parity"]["max_abs_diff"] <= 1e-3
    assert metrics["gate"]["decision"] == "no-champion" and metrics["gate"]["rows"] == 0
    split = metrics["split"]
    assert split["method"] == "hash" and split["trainRows"] + split["validationRows"] == 120
    assert split["duplicates"] == 0 and split["conflicts"] == 0 and re.fullmatch(r"[0-9a-f]{64}", split["fingerprint"])


def test_sigterm_saves_a_checkpoint_and_a_restart_resumes_to_the_same_model(baseline, tmp_path, tiny_bert, tickets_csv):
    """Preempted mid-epoch with the API down; the restart resumes from the checkpoint and ends
    with exactly the baseline's model (same seed → same batches, dropout and weights). The
    baseline doubles as the champion: it must score the same as the challenger."""
    base_out, _ = baseline
    out = tmp_path / "runs" / "resume-1"
    env = trainer_env("resume-1", tickets_csv, out, tiny_params(tiny_bert, **PARAMS),
                      DROPTUNE_API_URL=closed_port_url(), DROPTUNE_API_TOKEN=TOKEN, DROPTUNE_CHAMPION_URI=f"file://{base_out}/")
    proc = subprocess.Popen([sys.executable, "-m", "droptune_trainer"], env=env, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "[train] epoch 1/3 step 2/" in line:
            proc.send_signal(signal.SIGTERM)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 143, "".join(seen) + rest
    assert "preempted" in rest and "restart with the same DROPTUNE_RUN_ID" in rest
    assert not (out / "manifest.json").exists() and not (out / "failure.json").exists()
    assert len(list((out / "checkpoints").glob("step-*/state.json"))) == 1  # SIGTERM's; none per epoch by default

    second = run_trainer(env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resuming from step-" in second.stderr
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines() if '"train_loss"' in x]
    assert steps == list(range(1, len(steps) + 1))  # nothing lost or doubled across the restart
    golden = json.loads((out / "golden.json").read_text())["cases"]
    expected = json.loads((base_out / "golden.json").read_text())["cases"]
    assert np.abs(np.array([c["logits"] for c in golden]) - np.array([c["logits"] for c in expected])).max() < 1e-5
    # Same data, same model: the champion never trained on this run's validation rows, scores
    # exactly the same on them, and the gate calls it a tie (promoted: the newer model).
    metrics = json.loads((out / "metrics.json").read_text())
    # The served graph may be the frozen-embedding baseline (same either way): the fine-tune's own
    # per-epoch validation losses prove the resumed training reached the same weights.
    base_history = json.loads((base_out / "metrics.json").read_text())["history"]
    assert [h["val_loss"] for h in metrics["history"]] == pytest.approx([h["val_loss"] for h in base_history], abs=1e-5)
    assert metrics["baseline"]["served"] == json.loads((base_out / "metrics.json").read_text())["baseline"]["served"]
    gate = metrics["gate"]
    assert gate["rows"] == metrics["split"]["validationRows"]
    assert gate["champion"] == pytest.approx(gate["challenger"]) and gate["difference"] == 0
    assert gate["decision"] == "promote" and gate["reason"].startswith("equal within noise")
    assert metrics["split"]["fingerprint"] == json.loads((base_out / "metrics.json").read_text())["split"]["fingerprint"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["metrics"]["champion_macro_f1"] == pytest.approx(gate["challenger"])


def test_a_finished_run_is_not_trained_again(baseline, tiny_bert, tickets_csv, monkeypatch, capsys):
    from droptune_trainer.__main__ import main

    out, _ = baseline
    before = (out / "manifest.json").read_bytes()
    for key, value in trainer_env("base-1", tickets_csv, out, tiny_params(tiny_bert, **PARAMS)).items():
        monkeypatch.setenv(key, value)
    assert main() == 0
    assert "already has a manifest" in capsys.readouterr().err
    assert (out / "manifest.json").read_bytes() == before
