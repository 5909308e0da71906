"""The trainer's credentials for the control API in the cloud: Google ID tokens from the VM's
metadata server, found through GCE_METADATA_HOST, refreshed before they expire and after a 401.
The metadata server here is a real loopback HTTP server answering the documented identity path;
the TypeScript suite (functions/api/identity.test.ts) runs the same client against the control
API's real verifier and the metadata-server twin."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from droptune_trainer.tracking import MetadataIdToken, MetricsReporter, StaticToken, credentials_for

IDENTITY = "/computeMetadata/v1/instance/service-accounts/default/identity"


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def metadata():
    """Answers the identity path like the metadata server: Metadata-Flavor required, audience required."""
    state = {"requests": [], "clock": Clock(), "ttl": 3600}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            url = urlparse(self.path)
            query = parse_qs(url.query)
            state["requests"].append({"path": url.path, "query": query, "flavor": self.headers.get("Metadata-Flavor")})
            if self.headers.get("Metadata-Flavor") != "Google" or url.path != IDENTITY or not query.get("audience"):
                self.send_response(403 if self.headers.get("Metadata-Flavor") != "Google" else 400)
                self.end_headers()
                return
            now = state["clock"]()
            body = f"{_b64({'alg': 'RS256'})}.{_b64({'aud': query['audience'][0], 'exp': now + state['ttl'], 'n': len(state['requests'])})}.sig"
            self.send_response(200)
            self.send_header("Metadata-Flavor", "Google")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["host"] = f"127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()


def test_fetches_an_id_token_for_the_api_url_from_gce_metadata_host(metadata, monkeypatch):
    monkeypatch.setenv("GCE_METADATA_HOST", metadata["host"])
    creds = credentials_for("https://control-api-xyz.a.run.app/", None)
    assert isinstance(creds, MetadataIdToken)
    header = creds.headers()["Authorization"]
    assert header.startswith("Bearer ")
    (req,) = metadata["requests"]
    assert req["path"] == IDENTITY and req["flavor"] == "Google"
    assert req["query"] == {"audience": ["https://control-api-xyz.a.run.app"], "format": ["full"]}


def test_reuses_the_token_and_refreshes_it_five_minutes_before_expiry(metadata):
    clock = metadata["clock"]
    creds = MetadataIdToken("https://api", host=metadata["host"], clock=clock)
    first = creds.headers()
    clock.now += 3600 - 301
    assert creds.headers() == first and creds.fetched == 1
    clock.now += 2  # now inside the five-minute margin
    assert creds.headers() != first and creds.fetched == 2


def test_a_401_drops_the_token_and_the_batch_is_resent_with_a_fresh_one(tmp_path, metadata):
    refused: list[str] = []
    accepted: list[str] = []

    class Api(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            auth = self.headers.get("Authorization")
            first = not refused
            (refused if first else accepted).append(auth)
            self.send_response(401 if first else 200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_):
            pass

    api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{api.server_address[1]}"
    creds = MetadataIdToken(url, host=metadata["host"])
    rep = MetricsReporter("run-1", tmp_path / "m.jsonl", url, None, credentials=creds, flush_interval_s=0.05)
    rep.log("train_loss", 0.5, 1, 1)
    rep.close()
    api.shutdown()
    assert rep.sent == 1 and rep.pending == 0
    assert len(refused) == 1 and len(accepted) == 1 and refused[0] != accepted[0]
    assert creds.fetched == 2


def test_a_static_token_is_used_as_given_and_never_refreshed():
    creds = credentials_for("http://api", "tok-123")
    assert isinstance(creds, StaticToken)
    assert creds.headers() == {"Authorization": "Bearer tok-123"} and creds.invalidate() is False
    assert credentials_for(None, None) is None
