import json
import time

from conftest import TOKEN, closed_port_url

from droptune_trainer.tracking import MetricsReporter


def test_metrics_reach_the_api_with_the_bearer_token(tmp_path, metrics_server):
    rep = MetricsReporter("run-1", tmp_path / "m.jsonl", metrics_server.url, TOKEN, flush_interval_s=0.05)
    for step in range(1, 26):
        rep.log("train_loss", 1.0 / step, step, 1)
    rep.log("val_accuracy", 0.5, 25, 1)
    rep.close()
    got = metrics_server.metrics()
    assert {r["path"] for r in metrics_server.requests} == {"/v1/runs/run-1/metrics"}
    assert [m["step"] for m in got if m["key"] == "train_loss"] == list(range(1, 26))
    assert set(got[0]) == {"key", "step", "epoch", "value", "time"}
    assert got[-1]["key"] == "val_accuracy" and got[-1]["epoch"] == 1
    assert len((tmp_path / "m.jsonl").read_text().splitlines()) == 26


def test_api_down_keeps_every_record_in_jsonl_and_does_not_hang(tmp_path):
    rep = MetricsReporter("run-2", tmp_path / "m.jsonl", closed_port_url(), TOKEN, flush_interval_s=0.05,
                          max_attempts=2, backoff_s=0.01, close_timeout_s=0.5)
    started = time.monotonic()
    for step in range(1, 51):
        rep.log("train_loss", 0.1, step, 1)
    rep.close()
    assert time.monotonic() - started < 5
    lines = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == list(range(1, 51))
    assert rep.pending == 50 and rep.sent == 0 and rep.failed_posts >= 2


def test_a_rejected_batch_is_not_retried_forever(tmp_path, metrics_server):
    rep = MetricsReporter("run-3", tmp_path / "m.jsonl", metrics_server.url, "wrong-token", flush_interval_s=0.05)
    rep.log("train_loss", 0.3, 1, 1)
    rep.close()
    assert len(metrics_server.requests) == 1 and metrics_server.requests[0]["auth"] == "Bearer wrong-token"
    assert rep.pending == 0
    assert len((tmp_path / "m.jsonl").read_text().splitlines()) == 1
