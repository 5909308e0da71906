"""Metrics to the control API and to `metrics.jsonl`.

Every record is appended to a local JSON-lines file first (nothing is ever lost), then queued
for `POST $DROPTUNE_API_URL/v1/runs/<runId>/metrics` with `Authorization: Bearer <token>`.
The token is, in the cloud, a Google ID token for the control API's URL from the VM's metadata
server (`MetadataIdToken`; no static secret ever sits in VM metadata), or a static token given
as DROPTUNE_API_TOKEN (a developer pointing a trainer at a local stack by hand).
A background thread sends batches with retries and exponential back-off; when the API stays
down, batches wait in the queue and training goes on. `close()` gives the queue a bounded time
to drain.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import requests

MAX_BATCH = 1000  # the API accepts up to 10,000 per request
REFRESH_MARGIN_S = 300  # Google's clients refresh five minutes before expiry; runs outlast a token


class StaticToken:
    """A bearer token given in the environment; nothing to refresh."""

    def __init__(self, token: str):
        self._header = {"Authorization": f"Bearer {token}"}

    def headers(self) -> dict[str, str]:
        return dict(self._header)

    def invalidate(self) -> bool:
        """False: a static token cannot be refreshed, so a 401 is final."""
        return False


class MetadataIdToken:
    """Google ID tokens for `audience` from the VM's metadata server, cached until shortly before
    they expire (tokens last an hour, runs last hours) and dropped on a 401.

    The server is `$GCE_METADATA_HOST` (the variable Google's libraries honour; the local stack
    points it at its twin), else `metadata.google.internal`.
    """

    def __init__(self, audience: str, host: str | None = None, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time, timeout_s: float = 5.0):
        self.audience = audience
        self.host = host or os.environ.get("GCE_METADATA_HOST") or "metadata.google.internal"
        self._session = session or requests.Session()
        self._clock = clock
        self._timeout_s = timeout_s
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.fetched = 0

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._clock() > self._expires_at - REFRESH_MARGIN_S:
                self._token, self._expires_at = self._fetch()
            return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> bool:
        """Drops the cached token (the API refused it); True: the next call fetches a fresh one."""
        with self._lock:
            self._token = None
        return True

    def _fetch(self) -> tuple[str, float]:
        url = f"http://{self.host}/computeMetadata/v1/instance/service-accounts/default/identity"
        res = self._session.get(url, params={"audience": self.audience, "format": "full"},
                                headers={"Metadata-Flavor": "Google"}, timeout=self._timeout_s)
        if res.status_code != 200:
            raise requests.RequestException(f"metadata server answered HTTP {res.status_code}: {res.text[:200]}")
        token = res.text.strip()
        self.fetched += 1
        return token, float(_jwt_claims(token).get("exp", 0))


def _jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: only to know when our own token expires."""
    try:
        part = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError) as err:
        raise requests.RequestException(f"metadata server returned something that is not a JWT ({err})") from err
    if not isinstance(claims, dict):
        raise requests.RequestException("metadata server returned a JWT whose payload is not a JSON object")
    return claims


def credentials_for(api_url: str | None, token: str | None) -> StaticToken | MetadataIdToken | None:
    """A static token when one is given, else ID tokens for the API's URL from the metadata server."""
    if token:
        return StaticToken(token)
    if api_url:
        return MetadataIdToken(api_url.rstrip("/"))
    return None


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MetricsReporter:
    def __init__(
        self,
        run_id: str,
        jsonl_path: Path,
        api_url: str | None,
        token: str | None,
        credentials: StaticToken | MetadataIdToken | None = None,
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
        self.credentials = credentials or credentials_for(api_url, token)
        self.flush_interval_s = flush_interval_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.request_timeout_s = request_timeout_s
        self.close_timeout_s = close_timeout_s
        self.sent = 0
        self.failed_posts = 0
        self._queue: list[dict[str, Any]] = []
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

    def replace_log(self, restore: Callable[[Path], object]) -> None:
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

    def _post(self, batch: list[dict[str, Any]], deadline: float | None) -> bool:
        delay = self.backoff_s
        refreshed = False
        for attempt in range(1, self.max_attempts + 1):
            try:
                auth = self.credentials.headers() if self.credentials else {}
                res = self._session.post(self.url, json={"metrics": batch}, headers={**self.headers, **auth},
                                         timeout=self.request_timeout_s)
                if res.status_code < 300:
                    return True
                if res.status_code == 401 and not refreshed and self.credentials and self.credentials.invalidate():
                    # An expired or revoked ID token: fetch a fresh one and resend at once.
                    refreshed = True
                    self.failed_posts += 1
                    continue
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
