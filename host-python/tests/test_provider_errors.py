"""An OpenAI-compatible embedding provider's failures become exceptions a caller can act on:
unreachable (``EmbeddingConnectionError``, a ``ConnectionError``), credentials refused
(``EmbeddingAuthenticationError``, a ``PermissionError``), rate limited
(``EmbeddingRateLimitError`` with ``retry_after``). A local stub stands in for the provider
and checks what it is sent."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, List

import pytest

import rem_db

DOCS = {"type": "object", "properties": {"t": {"type": "string"}}, "embedding_fields": ["t"]}


class Refusing(BaseHTTPRequestHandler):
    """401 for the key ``bad``, 429 with ``Retry-After: 7`` for the key ``busy``."""

    seen: List[str] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        auth = self.headers.get("Authorization", "")
        Refusing.seen.append(f"{self.path} {auth}")
        status = 401 if auth == "Bearer bad" else 429
        data = json.dumps({"error": {"message": "no"}}).encode()
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "7")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Refusing.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def register(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, key: str) -> None:
    monkeypatch.setenv("P8_OPENAI_BASE_URL", url)
    monkeypatch.setenv("P8_OPENAI_API_KEY", key)
    with rem_db.REMDatabase(tmp_path / "db", embedding_model="openai:letters") as db:
        db.register_schema("docs", DOCS)


def test_refused_credentials_are_a_permission_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     stub: str) -> None:
    with pytest.raises(rem_db.EmbeddingAuthenticationError) as info:
        register(tmp_path, monkeypatch, stub, "bad")
    assert isinstance(info.value, PermissionError) and isinstance(info.value, rem_db.EmbeddingError)
    assert "401" in str(info.value) and "bad" not in str(info.value).replace("bad request", "")
    assert Refusing.seen == ["/v1/embeddings Bearer bad"], "a refusal is not retried"


def test_a_rate_limit_says_how_long_to_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stub: str) -> None:
    with pytest.raises(rem_db.EmbeddingRateLimitError) as info:
        register(tmp_path, monkeypatch, stub, "busy")
    assert info.value.retry_after == 7.0
    assert len(Refusing.seen) == 4, "the first try and three retries"


def test_an_unreachable_provider_is_a_connection_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(rem_db.EmbeddingConnectionError) as info:
        register(tmp_path, monkeypatch, f"http://127.0.0.1:{port}/v1", "key")
    assert isinstance(info.value, ConnectionError)
    assert info.value.kind == "embedding"
