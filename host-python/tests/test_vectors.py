"""Bring your own vectors and read them back: ``insert(..., vector=)``, ``insert_batch(...,
vectors=ndarray)``, tables without a model, ``get_vectors``, ``include_vectors`` and
``SELECT embedding``, in process, served (sync and asyncio clients) and from the CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rem_db
from test_server import REM, serve

POINTS = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "kind": {"type": "string"}},
    "key_field": "name",
    "indexed_fields": ["kind"],
    "embedding_provider": "none",
    "embedding_dims": 4,
}


def unit(v: "np.ndarray[Any, Any]") -> "np.ndarray[Any, Any]":
    out: "np.ndarray[Any, Any]" = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return out


def check_round_trip(db: rem_db.REMDatabase) -> None:
    db.register_schema("points", POINTS)
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(50, 4)).astype(np.float32)
    rows = [{"name": f"p{i}", "kind": "even" if i % 2 == 0 else "odd"} for i in range(50)]
    ids = db.insert_batch("points", rows, vectors=vectors)
    back = db.get_vectors(ids)
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in back)
    np.testing.assert_allclose(np.stack([v for v in back if v is not None]), unit(vectors), atol=1e-6)
    # The nearest row to a row's own vector is that row.
    hits = db.search(vectors[17], table="points", limit=3, include_vectors=True)
    assert hits[0]["properties"]["name"] == "p17"
    np.testing.assert_allclose(hits[0]["embedding"], unit(vectors[17]), atol=1e-6)
    odd = db.search(vectors[17].tolist(), table="points", limit=5, where="kind = 'even'")
    assert len(odd) == 5 and all(h["properties"]["kind"] == "even" for h in odd)
    # One row, and get with its vector.
    one = db.insert("points", {"name": "solo"}, vector=np.array([0, 0, 3, 0], dtype=np.float64))
    got = db.get(one, include_vectors=True)
    assert got is not None
    np.testing.assert_allclose(got["embedding"], [0, 0, 1, 0], atol=1e-7)
    assert "embedding" not in got["properties"]
    many = db.get_batch([one, "00000000-0000-0000-0000-000000000000"], include_vectors=True)
    assert many[1] is None and many[0] is not None and many[0]["embedding"] is not None
    rows_sql = db.sql("SELECT name, embedding FROM points WHERE name = 'solo'")
    assert rows_sql[0]["embedding"] == pytest.approx([0.0, 0.0, 1.0, 0.0])


def test_vectors_in_and_out_in_process(tmp_path: Path) -> None:
    with rem_db.REMDatabase(tmp_path / "db", embedding_model="hash:64") as db:
        check_round_trip(db)


def test_bad_vectors_are_refused_with_the_row_and_nothing_is_written(db: rem_db.REMDatabase) -> None:
    db.register_schema("points", POINTS)
    with pytest.raises(rem_db.InvalidArgumentError, match="3 rows"):
        db.insert_batch("points", [{"name": "a"}, {"name": "b"}, {"name": "c"}], vectors=np.zeros((2, 4)))
    with pytest.raises(rem_db.ValidationError) as info:
        db.insert_batch("points", [{"name": "a"}, {"name": "b"}], vectors=np.ones((2, 3)))
    assert [e["loc"] for e in info.value.errors()] == [(0, "embedding"), (1, "embedding")]
    assert "4-dimensional" in info.value.errors()[0]["msg"]
    with pytest.raises(rem_db.SerializationError, match="NaN"):
        db.insert("points", {"name": "nan"}, vector=[1.0, float("nan"), 0.0, 0.0])
    with pytest.raises(rem_db.ValidationError) as nan:
        db.insert_batch("points", [{"name": "nan"}], vectors=np.array([[1.0, np.nan, 0.0, 0.0]]))
    assert [e["loc"] for e in nan.value.errors()] == [(0, "embedding", 1)]
    assert db.count("points") == 0
    with pytest.raises(rem_db.InvalidArgumentError, match="query vector"):
        db.search("text", table="points")


def test_a_model_table_keeps_a_rows_own_vector(db: rem_db.REMDatabase) -> None:
    db.register_schema("docs", {"type": "object", "properties": {"t": {"type": "string"}},
                                "key_field": "t", "embedding_fields": ["t"]})
    mine = np.zeros(64, dtype=np.float32)
    mine[5] = 1.0
    a = db.insert("docs", {"t": "alpha"}, vector=mine)
    b = db.insert("docs", {"t": "beta"})
    va, vb = db.get_vectors([a, b])
    np.testing.assert_array_equal(va, mine)
    assert vb is not None and vb.shape == (64,) and not np.array_equal(vb, mine)


def test_vectors_through_a_server_with_both_clients(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with serve(path):
        with rem_db.REMDatabase(path) as db:
            assert db.server is not None
            check_round_trip(db)
        loop = asyncio.new_event_loop()
        try:
            adb = loop.run_until_complete(rem_db.AsyncREMDatabase.open(path))
            ids = loop.run_until_complete(
                adb.insert_batch("points", [{"name": "async"}], vectors=np.array([[1, 2, 3, 4]]))
            )
            got = loop.run_until_complete(adb.get(ids[0], include_vectors=True))
            assert got is not None
            np.testing.assert_allclose(got["embedding"], unit(np.array([1, 2, 3, 4.0])), atol=1e-6)

            async def names() -> "list[str]":
                return [r["name"] async for r in adb.iter("points", batch_size=7)]

            assert sorted(loop.run_until_complete(names())) == sorted([f"p{i}" for i in range(50)] + ["solo", "async"])
            page = loop.run_until_complete(adb.list("points", limit=5, after=ids[0]))
            assert len(page) == 5 and all(e["id"] > ids[0] for e in page)
            loop.run_until_complete(adb.close())
        finally:
            loop.close()


def test_the_cli_takes_an_embedding_member_and_shows_vectors(tmp_path: Path) -> None:
    path = tmp_path / "db"
    subprocess.run([REM, "--path", str(path), "init", "--no-core"], check=True, capture_output=True)
    schema = tmp_path / "points.json"
    schema.write_text(json.dumps(POINTS))
    rem = [REM, "--path", str(path)]
    subprocess.run([*rem, "schema", "add", str(schema), "--name", "points"], check=True, capture_output=True)
    row = json.dumps({"name": "cli", "embedding": [0, 2, 0, 0]})
    subprocess.run([*rem, "insert", "points", row], check=True, capture_output=True)
    out = subprocess.run([*rem, "get", "cli", "--include-vectors"], check=True, capture_output=True, text=True)
    assert json.loads(out.stdout)["embedding"] == [0.0, 1.0, 0.0, 0.0]
    out = subprocess.run([*rem, "search", "--vector", "[0,1,0,0]", "--table", "points", "--format", "json"],
                         check=True, capture_output=True, text=True)
    assert json.loads(out.stdout)[0]["properties"]["name"] == "cli"


def test_iter_query_streams_pages_in_id_order(db: rem_db.REMDatabase) -> None:
    db.register_schema("n", {"type": "object", "properties": {"i": {"type": "integer"}}, "key_field": "i",
                             "indexed_fields": ["i"]})
    db.insert_batch("n", [{"i": i} for i in range(2345)])
    whole = db.sql("SELECT i FROM n")
    it = db.iter_query("SELECT i FROM n", batch_size=500)
    assert next(it) == whole[0], "the first row comes before the rest is read"
    assert [whole[0], *it] == whole
    big = list(db.iter("n", where="i >= 2000", batch_size=64))
    assert sorted(r["i"] for r in big) == list(range(2000, 2345))
    assert sorted(r["i"] for r in db.iter_query("SELECT i FROM n WHERE i < ?", params=[10])) == list(range(10))
    with pytest.raises(rem_db.UnsupportedError, match="ORDER BY"):
        next(db.iter_query("SELECT i FROM n ORDER BY i"))
    # list with a cursor: pages of entities that join up.
    first = db.list("n", limit=1000)
    second = db.list("n", limit=1000, after=first[-1]["id"])
    assert [e["id"] for e in first + second] == [e["id"] for e in db.list("n", limit=2000)]
    with pytest.raises(rem_db.InvalidArgumentError):
        db.list("n", after="not-an-id")


def test_the_cli_streams_jsonl_pages(tmp_path: Path) -> None:
    path = tmp_path / "db"
    rem = [REM, "--path", str(path)]
    subprocess.run([*rem, "init", "--no-core"], check=True, capture_output=True)
    schema = tmp_path / "n.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"i": {"type": "integer"}}, "key_field": "i"}))
    subprocess.run([*rem, "schema", "add", str(schema), "--name", "n"], check=True, capture_output=True)
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"i": i}) + "\n" for i in range(2500)))
    subprocess.run([*rem, "insert", "n", "--batch", str(rows)], check=True, capture_output=True)
    out = subprocess.run([*rem, "--format", "jsonl", "query", "SELECT i FROM n"], check=True, capture_output=True,
                         text=True)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert sorted(r["i"] for r in lines) == list(range(2500))
    # A statement that cannot be paged still prints, whole.
    out = subprocess.run([*rem, "--format", "jsonl", "query", "SELECT i FROM n ORDER BY i DESC LIMIT 2"],
                         check=True, capture_output=True, text=True)
    assert [json.loads(x)["i"] for x in out.stdout.splitlines()] == [2499, 2498]
    page = subprocess.run([*rem, "list", "n", "--limit", "3"], check=True, capture_output=True, text=True)
    first = json.loads(page.stdout)
    after = subprocess.run([*rem, "list", "n", "--limit", "3", "--after", first[-1]["id"]], check=True,
                           capture_output=True, text=True)
    assert len(json.loads(after.stdout)) == 3 and json.loads(after.stdout)[0]["id"] > first[-1]["id"]


def test_a_second_model_is_searched_with_vector_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_ALT_EMBEDDING", "hash:16")
    with rem_db.REMDatabase(tmp_path / "db", embedding_model="hash:64") as db:
        record = db.register_schema("docs", {"type": "object", "properties": {"t": {"type": "string"}},
                                             "key_field": "t", "embedding_fields": ["t"]})
        assert (record["embedding_provider_alt"], record["embedding_dims_alt"]) == ("hash:16", 16)
        db.insert_batch("docs", [{"t": "green tea"}, {"t": "rust borrow checker"}])
        hits = db.search("tea", table="docs", limit=1, vector_field="embedding_alt")
        assert hits[0]["properties"]["t"] == "green tea"
        assert db.index_stats("docs")["alt"]["live"] == 2
        with pytest.raises(rem_db.InvalidArgumentError, match="16-dimensional"):
            db.search([1.0] * 64, table="docs", vector_field="embedding_alt")
