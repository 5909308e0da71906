"""Shared fixtures: a tiny random BERT (built once per session), small CSVs, a real loopback
HTTP server standing in for the control API's metrics route, and a helper that runs the
trainer as a real child process with a DROPTUNE_* environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training-image"))

from tiny_model import build_tiny_bert, write_synthetic_csv  # noqa: E402

TOKEN = "test-token-123"


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), seed=0)


@pytest.fixture(scope="session")
def tickets_csv(tmp_path_factory) -> Path:
    return write_synthetic_csv(tmp_path_factory.mktemp("data") / "tickets.csv", rows_per_label=40, seed=1)


def tiny_params(tiny_bert: Path, **overrides) -> dict:
    params = {"baseModel": str(tiny_bert), "epochs": 2, "batchSize": 16, "learningRate": 3e-3, "maxLength": 32,
              "seed": 11, "earlyStoppingPatience": 0, "quantize": True, "logEverySteps": 2}
    params.update(overrides)
    return params


def trainer_env(run_id: str, dataset: Path | str, out: Path, params: dict, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROPTUNE_")}
    env.update({
        "DROPTUNE_RUN_ID": run_id,
        "DROPTUNE_DATASET_URI": dataset if isinstance(dataset, str) else f"file://{dataset}",
        "DROPTUNE_OUTPUT_URI": f"file://{out}/",
        "DROPTUNE_PARAMS": json.dumps(params),
        "DROPTUNE_MODEL_NAME": "test-model",
        "DROPTUNE_CACHE_DIR": str(out.parent / "cache"),
        "PYTHONPATH": str(ROOT / "training-image"),
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": "2",
    })
    env.update(extra)
    return env


def run_trainer(env: dict, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "droptune_trainer"], env=env, capture_output=True, text=True, timeout=timeout)


class MetricsServer:
    """A real HTTP server on loopback recording POST /v1/runs/<runId>/metrics bodies."""

    def __init__(self):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": json.loads(body)})
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self.send_response(401)
                    self.end_headers()
                    return
                payload = json.dumps({"accepted": len(json.loads(body)["metrics"])}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def metrics(self) -> list[dict]:
        return [m for r in self.requests if r["auth"] == f"Bearer {TOKEN}" for m in r["body"]["metrics"]]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def metrics_server():
    server = MetricsServer()
    yield server
    server.close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused at once)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"
