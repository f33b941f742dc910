"""Threads hammering one database; asyncio; FastAPI."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

import rem_db
from rem_db import AsyncREMDatabase, REMDatabase

from conftest import PEOPLE, PERSON


def test_threads_share_one_handle(db: REMDatabase) -> None:
    db.register_schema("person", PERSON)
    errors: List[BaseException] = []
    n_threads, per_thread = 8, 50

    def work(t: int) -> None:
        try:
            for i in range(per_thread):
                id_ = db.insert("person", {"name": f"t{t}-{i}", "age": i, "bio": f"thread {t} row {i}"})
                got = db.get(id_)
                assert got is not None and got["properties"]["name"] == f"t{t}-{i}"
                if i % 10 == 0:
                    db.sql("SELECT COUNT(*) AS n FROM person WHERE age >= ?", params=[i])
                    db.search("thread row", table="person", limit=3)
        except BaseException as e:  # noqa: BLE001 - surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.count("person") == n_threads * per_thread


def test_the_gil_is_released_during_engine_calls(tmp_path: Path) -> None:
    # A slow embedding-free call (a full scan with LIKE) in one thread must not stop
    # a pure-Python counter in another.
    with REMDatabase(tmp_path, embedding_model="hash:8") as db:
        db.register_schema("t", {"type": "object", "properties": {"s": {"type": "string"}}})
        db.insert_batch("t", [{"s": f"row {i} of a long table"} for i in range(20_000)])
        ticks = 0
        done = threading.Event()

        def count() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                time.sleep(0)

        counter = threading.Thread(target=count)
        counter.start()
        start = time.perf_counter()
        calls = 0
        while time.perf_counter() - start < 0.5:
            db.sql("SELECT COUNT(*) AS n FROM t WHERE s LIKE '%of a%' AND s LIKE '%9%'")
            calls += 1
        done.set()
        counter.join()
        assert calls > 0 and ticks > 100, (calls, ticks)


def test_async_api(tmp_path: Path) -> None:
    async def main() -> None:
        async with await AsyncREMDatabase.open(tmp_path, embedding_model="hash:32") as db:
            await db.register_schema("person", PERSON)
            ids = await db.insert_batch("person", PEOPLE)
            got = await asyncio.gather(*(db.get(i) for i in ids))
            assert [g["properties"]["name"] for g in got if g] == [p["name"] for p in PEOPLE]
            assert await db.count("person") == 4
            rows = await db.sql("SELECT name FROM person WHERE age > ?", params=[35])
            assert rows == [{"name": "Carol"}]
            hits = await db.search("databases", table="person", limit=2)
            assert len(hits) == 2
            await db.create_edge("Alice", "Bob", "knows")
            assert len(await db.traverse("Alice", depth=1)) == 2
            path = await db.shortest_path("Alice", "Bob")
            assert path is not None and path["hops"] == 1
            with pytest.raises(rem_db.SchemaNotFoundError):
                await db.count("nope")

    asyncio.run(main())


def test_fastapi_app(tmp_path: Path) -> None:
    fastapi = pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    db = AsyncREMDatabase(tmp_path, embedding_model="hash:32")
    app = fastapi.FastAPI()

    @app.post("/people")
    async def add(person: Dict[str, Any]) -> Dict[str, str]:
        return {"id": await db.insert("person", person)}

    @app.get("/people/search")
    async def search(q: str) -> List[str]:
        return [h["properties"]["name"] for h in await db.search(q, table="person", limit=2)]

    @app.exception_handler(rem_db.ValidationError)
    async def invalid(_: Any, exc: rem_db.ValidationError) -> Any:
        return fastapi.responses.JSONResponse(status_code=422, content={"detail": exc.errors()})

    asyncio.run(db.register_schema("person", PERSON))
    with TestClient(app) as client:
        for p in PEOPLE:
            assert client.post("/people", json=p).status_code == 200
        assert client.get("/people/search", params={"q": "user interfaces"}).json()[0] == "Bob"
        bad = client.post("/people", json={"name": "X"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["age"]
    asyncio.run(db.close())
