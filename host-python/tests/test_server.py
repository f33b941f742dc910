"""A database served by ``rem serve`` (a real process, real HTTP) through the Python client:
the conformance suite, finding the server from ``REMDatabase(path)``, the same exceptions,
threads in parallel, tokens and connection errors."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

import pytest

import rem_db
from conftest import PEOPLE, PERSON, letters
from test_conformance import SUITE, run_suite

REPO = Path(__file__).resolve().parents[2]
REM = os.environ.get("REM_BIN") or str(REPO / "target" / "release" / "rem")



@contextmanager
def serve(path: Path, env: Optional[Dict[str, str]] = None, args: Sequence[str] = ()) -> Iterator[str]:
    """Run ``rem serve`` on ``path`` (a free loopback port) until the block ends; yields its URL."""
    assert Path(REM).exists(), f"the rem binary is not built ({REM}): `make test-python` builds it, or set REM_BIN"
    full = {k: v for k, v in os.environ.items() if not k.startswith("P8_SERVER")}
    full.update({"P8_DEFAULT_EMBEDDING": "hash:64", **(env or {})})
    log = path.parent / f"serve-{time.monotonic_ns()}.log"
    # Only `rem init` creates a database; on an existing one it changes nothing.
    subprocess.run([REM, "--path", str(path), "init", "--no-core"], env=full, check=True, stdout=subprocess.DEVNULL)
    with open(log, "wb") as err:
        proc = subprocess.Popen([REM, "--path", str(path), "serve", "--listen", "127.0.0.1:0", *args],
                                env=full, stdout=subprocess.DEVNULL, stderr=err)
    try:
        endpoint = path / "rem.server.json"
        deadline = time.monotonic() + 60
        while True:
            try:
                info = json.loads(endpoint.read_text())
                if info["pid"] == proc.pid:
                    break
            except (OSError, ValueError):
                pass
            assert proc.poll() is None, f"rem serve exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"rem serve did not start: {log.read_text()}"
            time.sleep(0.02)
        yield info["url"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()


class EmbeddingStub(BaseHTTPRequestHandler):
    """An OpenAI-compatible ``/v1/embeddings`` answering the suite's letters model; it checks
    the key and the model it is sent."""

    seen: List[Dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        EmbeddingStub.seen.append({"auth": self.headers.get("Authorization"), "model": body.get("model")})
        ok = self.path == "/v1/embeddings" and self.headers.get("Authorization") == "Bearer stub-key" \
            and body.get("model") == "letters"
        reply = {"data": [{"index": i, "embedding": v} for i, v in enumerate(letters(body["input"]))]} if ok \
            else {"error": {"message": f"unexpected request {self.path} {body.get('model')}"}}
        data = json.dumps(reply).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class OnLoop:
    """A synchronous face of an ``AsyncREMDatabase``: each method runs its coroutine on ``loop``."""

    def __init__(self, adb: rem_db.AsyncREMDatabase, loop: asyncio.AbstractEventLoop) -> None:
        self._adb, self._loop = adb, loop

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._adb, name)
        return lambda *a, **k: self._loop.run_until_complete(method(*a, **k))


def test_a_served_database_passes_the_conformance_suite(tmp_path: Path) -> None:
    stub = ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingStub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    # The server cannot call a Python function: the suite's letters model is served to it by an
    # OpenAI-compatible endpoint instead, under the name openai:letters.
    suite = json.loads(json.dumps(SUITE).replace(SUITE["model"], "openai:letters"))
    env = {"P8_DEFAULT_EMBEDDING": "openai:letters", "P8_OPENAI_API_KEY": "stub-key",
           "P8_OPENAI_BASE_URL": f"http://127.0.0.1:{stub.server_address[1]}/v1"}
    try:
        with serve(tmp_path / "db", env) as url:
            with rem_db.REMDatabase.connect(url) as db:
                assert db.server == url
                run_suite(db, suite)
        # The asyncio client, whose calls are its own HTTP requests on the event loop.
        with serve(tmp_path / "db2", env) as url:
            loop = asyncio.new_event_loop()
            adb = loop.run_until_complete(rem_db.AsyncREMDatabase.connect(url))
            assert adb._served is not None, "calls go over async HTTP, not worker threads"
            try:
                run_suite(OnLoop(adb, loop), suite)  # type: ignore[arg-type]
            finally:
                loop.run_until_complete(adb.close())
                loop.close()
    finally:
        stub.shutdown()
    assert EmbeddingStub.seen and all(s == {"auth": "Bearer stub-key", "model": "letters"} for s in EmbeddingStub.seen)


def test_rem_database_finds_the_server_and_raises_the_same_exceptions(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with serve(path) as url:
        with rem_db.REMDatabase(path) as db, rem_db.REMDatabase(path) as other:
            assert db.server == url and other.server == url, "both handles go through the server"
            db.register_schema("person", PERSON)
            ids = db.insert_batch("person", PEOPLE)
            assert other.count("person") == 4
            assert other.get(ids[0])["properties"]["name"] == "Alice"
            assert [h["properties"]["name"] for h in other.search("databases", table="person", limit=2)]
            with pytest.raises(rem_db.ValidationError) as info:
                db.insert("person", {"name": "Eve", "age": -1})
            assert [e["loc"] for e in info.value.errors()] == [("age",)]
            with pytest.raises(rem_db.QueryError) as q:
                db.sql("SELEC name FROM person")
            assert (q.value.line, q.value.column) == (1, 1)
            with pytest.raises(rem_db.SchemaNotFoundError):
                db.count("nobody")
            with pytest.raises(rem_db.NotFoundError):
                db.update("00000000-0000-0000-0000-000000000000", {"age": 1})
            # SQL writes go to the server as one call, under its writer permit.
            assert db.execute("UPDATE person SET age = age + 1 WHERE name = 'Alice'") == 1
            assert other.sql("SELECT age FROM person WHERE name = 'Alice'") == [{"age": 31}]
            with pytest.raises(rem_db.ValidationError):
                db.execute("UPDATE person SET age = -1")
            assert other.sql("SELECT age FROM person WHERE name = 'Alice'") == [{"age": 31}]
            # Threads on one handle run in parallel on the server.
            errors: List[BaseException] = []

            def reader() -> None:
                try:
                    for _ in range(20):
                        assert len(db.sql("SELECT name FROM person WHERE role = 'engineer'")) == 2
                except BaseException as e:  # noqa: BLE001 (reported below)
                    errors.append(e)

            threads = [threading.Thread(target=reader) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors
    # The server is gone: the same path opens the file itself.
    with rem_db.REMDatabase(path, embedding_model="hash:64") as db:
        assert db.server is None and db.count("person") == 4


def test_connect_with_a_token_and_clear_connection_errors(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("py-secret-token")
    with serve(tmp_path / "db", args=["--token-file", str(token)]) as url:
        with pytest.raises(rem_db.UnauthorizedError) as info:
            rem_db.REMDatabase.connect(url)
        assert "py-secret-token" not in str(info.value)
        with rem_db.REMDatabase.connect(url, token="py-secret-token", tenant_id="acme corp/ü") as db:
            db.register_schema("person", PERSON)
            db.insert("person", PEOPLE[0])
            assert db.count("person") == 1 and db.tenant_id == "acme corp/ü"
        # Tenants stay apart on the server, as in process.
        with rem_db.REMDatabase.connect(url, token="py-secret-token") as default:
            assert default.list_schemas() == []
        # The async client takes the token from the environment too.
        os.environ["P8_SERVER_TOKEN"] = "py-secret-token"
        try:
            async def count() -> int:
                async with await rem_db.AsyncREMDatabase.connect(url, tenant_id="acme corp/ü") as adb:
                    return await adb.count("person")

            assert asyncio.run(count()) == 1
        finally:
            del os.environ["P8_SERVER_TOKEN"]
    with pytest.raises(rem_db.ServerConnectionError):
        rem_db.REMDatabase.connect(url)
    with pytest.raises(rem_db.InvalidArgumentError):
        rem_db.REMDatabase.connect("ftp://example")


def test_the_async_client_runs_many_calls_at_once_on_one_thread(tmp_path: Path) -> None:
    async def main(url: str) -> List[int]:
        db = await rem_db.AsyncREMDatabase.connect(url, tenant_id="tenant ü")
        try:
            await db.register_schema("person", PERSON)
            await db.insert_batch("person", PEOPLE)
            threads_before = threading.active_count()
            counts = await asyncio.gather(*(db.count("person") for _ in range(64)))
            assert threading.active_count() == threads_before, "no worker thread per call"
            with pytest.raises(rem_db.ValidationError):
                await db.insert("person", {"name": "Eve", "age": -1})
            assert await db.shortest_path("Alice", "Bob") is None
            assert await db.upsert([]) == []
            alice = (await db.lookup("Alice"))[0]["id"]
            assert [step["id"] for step in await db.traverse("Alice", strategy="DFS")] == [alice]
            return counts
        finally:
            await db.close()
            with pytest.raises(rem_db.InvalidArgumentError):
                await db.count("person")

    with serve(tmp_path / "db") as url:
        assert asyncio.run(main(url)) == [4] * 64
    with pytest.raises(rem_db.ServerConnectionError):
        asyncio.run(rem_db.AsyncREMDatabase.connect(url))


def test_an_embedding_function_of_this_process_is_not_silently_dropped(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with serve(path) as url:
        with pytest.raises(rem_db.UnsupportedError) as info:
            rem_db.REMDatabase(path, embedding_model=letters)
        assert url in str(info.value) and "embedding function" in str(info.value)
