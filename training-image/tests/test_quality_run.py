"""Whole trainer runs (real child processes, tiny random BERT): the champion is scored only on
validation rows outside its training set, and a checkpoint write cut short does not stop the
resumed run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from conftest import run_trainer, tiny_params, trainer_env
from tiny_model import write_synthetic_csv
from droptune_trainer.fingerprint import PREFIX_HEX
from droptune_trainer.text_key import text_key

GATE = {"minAccuracy": 0, "minRows": 5}


def test_the_champion_is_scored_only_on_rows_it_never_trained_on(tmp_path, tiny_bert):
    """v1 held out 10 % of the data; the challenger, on the same rows plus more, holds out 40 %:
    rows v1 trained on are in the challenger's validation set, and must not be used."""
    small = write_synthetic_csv(tmp_path / "small.csv", rows_per_label=40, seed=1)
    big = tmp_path / "big.csv"
    extra = write_synthetic_csv(tmp_path / "extra.csv", rows_per_label=20, seed=2).read_text().splitlines()[1:]
    big.write_text(small.read_text() + "\n".join(extra) + "\n")
    champ_out = tmp_path / "runs" / "champ"
    first = run_trainer(trainer_env("champ", small, champ_out, tiny_params(tiny_bert, epochs=1, validationFraction=0.1, gate=GATE)))
    assert first.returncode == 0, first.stderr[-3000:]
    out = tmp_path / "runs" / "chal"
    second = run_trainer(trainer_env("chal", big, out, tiny_params(tiny_bert, epochs=1, validationFraction=0.4, gate=GATE),
                                     DROPTUNE_CHAMPION_URI=f"file://{champ_out}/"))
    assert second.returncode == 0, second.stderr[-3000:]

    trained_on = set(json.loads((champ_out / "split.json").read_text())["trainKeys"])
    metrics = json.loads((out / "metrics.json").read_text())
    gate = metrics["gate"]
    import csv

    rows = list(csv.DictReader(big.open()))
    val_keys = set(json.loads((out / "split.json").read_text())["validationKeys"])
    unseen = [k for k in val_keys if k not in trained_on]
    assert 0 < gate["rows"] == len(unseen) < metrics["split"]["validationRows"]
    # the keys are the salted text keys: every champion training text is recognised
    assert len(trained_on & {text_key(r["text"], "test-model")[:PREFIX_HEX] for r in rows}) == len(trained_on)
    assert gate["decision"] in ("promote", "hold") and f"on {gate['rows']} rows champion champ never trained on" in gate["reason"]
    assert f"{gate['rows']} of {metrics['split']['validationRows']} validation rows were never in its training set" in second.stderr


def test_a_kill_during_a_checkpoint_write_resumes_and_finishes(tmp_path, tiny_bert, tickets_csv):
    """Preempted at step 2 or 3 (a complete checkpoint); then what a second kill leaves mid-write: the
    next checkpoint's step with a cut-short weights file and no state.json. The resumed run
    checkpoints that same step again (every few ms of training here) and must finish."""
    out = tmp_path / "runs" / "kill-1"
    params = tiny_params(tiny_bert, epochs=2, logEverySteps=2, gate=GATE)
    env = trainer_env("kill-1", tickets_csv, out, params)
    proc = subprocess.Popen([sys.executable, "-m", "droptune_trainer"], env=env, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "[train] epoch 1/2 step 2/" in line:
            proc.send_signal(signal.SIGTERM)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 143, rest
    [complete] = (out / "checkpoints").glob("step-*/state.json")
    stopped_at = int(complete.parent.name.split("-")[1])  # 2, or 3 if the signal landed a step later
    next_save = (stopped_at // 2 + 1) * 2  # the next logging step, where a due checkpoint is written
    weights = (complete.parent / "model.safetensors").read_bytes()
    for leftover in (f"step-{next_save:08d}", f"step-{next_save:08d}-0badf00d"):  # the old naming and another attempt's
        (out / "checkpoints" / leftover).mkdir()
        (out / "checkpoints" / leftover / "model.safetensors").write_bytes(weights[: len(weights) // 2])

    second = run_trainer({**env, "DROPTUNE_CHECKPOINT_EVERY_S": "0.000001"})
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"resuming from {complete.parent.name}" in second.stderr
    assert f"checkpoint step-{next_save:08d}-" in second.stderr  # the step the killed write was at, written fresh
    assert (out / "manifest.json").exists()
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines() if '"train_loss"' in x]
    assert steps == list(range(1, len(steps) + 1))
