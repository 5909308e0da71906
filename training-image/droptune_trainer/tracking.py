"""Metrics to the control API and to `metrics.jsonl`.

Every record is appended to a local JSON-lines file first (nothing is ever lost), then queued
for `POST $DROPTUNE_API_URL/v1/runs/<runId>/metrics` with `Authorization: Bearer <token>`.
A background thread sends batches with retries and exponential back-off; when the API stays
down, batches wait in the queue and training goes on. `close()` gives the queue a bounded time
to drain.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

MAX_BATCH = 1000  # the API accepts up to 10,000 per request


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MetricsReporter:
    def __init__(
        self,
        run_id: str,
        jsonl_path: Path,
        api_url: str | None,
        token: str | None,
        flush_interval_s: float = 2.0,
        max_attempts: int = 4,
        backoff_s: float = 0.5,
        request_timeout_s: float = 5.0,
        close_timeout_s: float = 10.0,
    ):
        self.run_id = run_id
        self.jsonl_path = jsonl_path
        self.url = f"{api_url.rstrip('/')}/v1/runs/{run_id}/metrics" if api_url else None
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.flush_interval_s = flush_interval_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.request_timeout_s = request_timeout_s
        self.close_timeout_s = close_timeout_s
        self.sent = 0
        self.failed_posts = 0
        self._queue: list[dict] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._session = requests.Session()
        self._file = open(jsonl_path, "a", encoding="utf-8")
        self._thread = threading.Thread(target=self._loop, name="metrics-reporter", daemon=True) if self.url else None
        if self._thread:
            self._thread.start()

    def log(self, key: str, value: float, step: int, epoch: int | None = None) -> None:
        record = {"key": key, "step": int(step), "epoch": epoch, "value": float(value), "time": now_iso()}
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        if self.url:
            with self._lock:
                self._queue.append(record)

    def replace_log(self, restore) -> None:
        """Lets `restore(path)` overwrite metrics.jsonl (a resumed run takes the checkpoint's
        copy, so every step appears exactly once), then appends to it again."""
        self._file.close()
        restore(self.jsonl_path)
        self._file = open(self.jsonl_path, "a", encoding="utf-8")

    def flush_soon(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            self._drain(deadline=None)

    def _drain(self, deadline: float | None) -> bool:
        """Sends queued records in batches; stops at the first batch that fails all attempts."""
        while True:
            with self._lock:
                batch = self._queue[:MAX_BATCH]
            if not batch:
                return True
            if not self._post(batch, deadline):
                return False
            with self._lock:
                del self._queue[: len(batch)]
            self.sent += len(batch)

    def _post(self, batch: list[dict], deadline: float | None) -> bool:
        delay = self.backoff_s
        for attempt in range(1, self.max_attempts + 1):
            try:
                res = self._session.post(self.url, json={"metrics": batch}, headers=self.headers, timeout=self.request_timeout_s)
                if res.status_code < 300:
                    return True
                retryable = res.status_code in (408, 429) or res.status_code >= 500
                reason = f"HTTP {res.status_code}"
            except requests.RequestException as err:
                retryable, reason = True, type(err).__name__
            self.failed_posts += 1
            if not retryable:
                print(f"metrics: API rejected a batch of {len(batch)} ({reason}); kept in metrics.jsonl only", file=sys.stderr, flush=True)
                return True  # drop from the queue: resending cannot succeed
            if attempt == self.max_attempts or (deadline is not None and time.monotonic() + delay > deadline):
                print(f"metrics: API unreachable ({reason}) after {attempt} attempt(s); will retry later, training continues", file=sys.stderr, flush=True)
                return False
            if self._stop.wait(delay) and deadline is None:
                return False  # closing: close() makes the last, bounded attempts
            delay = min(delay * 2, 30.0)
        return False

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def close(self) -> None:
        """Stops the sender, then tries once more to deliver what is left within close_timeout_s."""
        if self._thread:
            self._stop.set()
            self._wake.set()
            self._thread.join()
            self._drain(deadline=time.monotonic() + self.close_timeout_s)
            if self.pending:
                print(f"metrics: {self.pending} record(s) not delivered to the API; all are in {self.jsonl_path.name}", file=sys.stderr, flush=True)
        self._file.close()
