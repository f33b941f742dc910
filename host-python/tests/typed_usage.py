"""Uses the whole public API with full annotations; `mypy --strict` must pass on it
(test_typing.py), and it runs as a smoke test too."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Tuple

from pydantic import BaseModel

import rem_db
from rem_db import (
    AsyncREMDatabase,
    Edge,
    Entity,
    ErrorDetails,
    GraphPath,
    IndexStats,
    MemoryEngine,
    REMDatabase,
    SearchHit,
    TraversalStep,
)


class Doc(BaseModel):
    title: str
    body: str = ""


def embed(texts: List[str]) -> List[List[float]]:
    return [[float(len(t)), 1.0, float(t.count("a"))] for t in texts]


def sync_api() -> None:
    with REMDatabase(rem_db.MEMORY, tenant_id="t", embedding_model="hash:16", memory_limit=256 << 20,
                     call_timeout=30.0) as db:
        record: Dict[str, Any] = db.register_schema(
            "doc", Doc, key_field="title", indexed_fields=["title"], embedding_fields=["body"]
        )
        assert record["name"] == "doc"
        names: List[str] = db.list_schemas()
        assert names == ["doc"] and db.get_schema("doc")["name"] == "doc"
        first: str = db.insert("doc", {"title": "a", "body": "alpha"})
        ids: List[str] = db.insert_batch("doc", [{"title": "b", "body": "beta"}, Doc(title="c", body="gamma")])
        assert db.upsert([Doc(title="d")]) and db.table_of(Doc) == "doc"
        got: Optional[Entity] = db.get(first)
        assert got is not None and got["properties"]["title"] == "a"
        many: List[Optional[Entity]] = db.get_batch(ids)
        updated: Entity = db.update(first, {"body": "alpha two"})
        assert updated["modified_at"] >= updated["created_at"] and len(many) == 2
        found: List[Entity] = db.lookup("b")
        listed: List[Entity] = db.list("doc", limit=10, offset=0)
        n: int = db.count("doc")
        rows: List[Dict[str, Any]] = db.sql("SELECT title FROM doc WHERE title = ?", params=["a"])
        rows2: List[Dict[str, Any]] = db.query("SELECT title FROM doc WHERE title = :t", params={"t": "b"})
        hits: List[SearchHit] = db.search("alpha", table="doc", limit=2, min_score=-1.0, where="title != 'z'",
                                          hybrid=True, ef_search=32)
        by_vector: List[SearchHit] = db.search([0.5] * 16, table="doc", limit=1, min_score=-1.0)
        score: float = hits[0]["_score"]
        stats: IndexStats = db.index_stats("doc")
        rebuilt: IndexStats = db.rebuild_index("doc", reembed=False)
        edge: Edge = db.create_edge("a", "b", "cites", {"weight": 1.5})
        added: int = db.create_edges([{"src": "b", "dst": "c", "rel_type": "cites"}])
        edges: List[Edge] = db.get_edges("a", direction="out", rel_type="cites")
        steps: List[TraversalStep] = db.traverse("a", direction="out", depth=2, rel_type=["cites"], strategy="bfs",
                                                 limit=10)
        path: Optional[GraphPath] = db.shortest_path("a", "c", direction="out", max_depth=5, weighted=True)
        removed: Edge = db.delete_edge("a", "b", "cites")
        deleted: Entity = db.delete(first, hard=False)
        keep: List[object] = [found, listed, n, rows, rows2, by_vector, score, stats, rebuilt, edge, added, edges,
                               steps, path, removed, deleted]
        assert all(k is not None for k in keep)
        try:
            db.insert("doc", {"title": 1})
        except rem_db.ValidationError as e:
            details: List[ErrorDetails] = e.errors()
            assert details[0]["loc"] == ("title",)
        try:
            db.sql("SELEC")
        except rem_db.QueryError as q:
            pos: Optional[Tuple[int, int]] = q.position
            assert pos is not None and q.kind == "invalid_query"
    with REMDatabase(":memory:", embedding_model="hash:8") as docs:
        core: List[str] = docs.register_core_schemas()
        summary: Dict[str, Any] = docs.ingest([__file__], chunk_size=500, overlap=50, unit="chars", force=False)
        assert core and summary["files"] == 1
    with REMDatabase(":memory:", embedding_model=embed) as custom:
        custom.register_schema("doc", Doc, embedding_fields=["body"])


def engine_api() -> None:
    with MemoryEngine(path=":memory:", embedding_model="hash:16") as mem:
        table: str = mem.register_model(Doc, embedding_fields=["body"], key_field="title")
        doc_id: str = mem.insert(Doc(title="x", body="text"))
        ids: List[str] = mem.insert_many([Doc(title="y")])
        doc: Optional[Doc] = mem.get(Doc, doc_id)
        docs: List[Doc] = mem.query(Doc, "SELECT * FROM doc")
        pairs: List[Tuple[Doc, float]] = mem.search(Doc, "text", 1)
        assert table and ids and doc is not None and docs and pairs


async def async_api() -> None:
    async with await AsyncREMDatabase.open(":memory:", embedding_model="hash:16") as db:
        await db.register_schema("doc", Doc, embedding_fields=["body"])
        doc_id: str = await db.insert("doc", {"title": "a", "body": "alpha"})
        got: Optional[Entity] = await db.get(doc_id)
        hits: List[SearchHit] = await db.search("alpha", table="doc")
        rows: List[Dict[str, Any]] = await db.sql("SELECT title FROM doc")
        n: int = await db.count("doc")
        assert got is not None and hits and rows and n == 1


if __name__ == "__main__":
    sync_api()
    engine_api()
    asyncio.run(async_api())
    print("ok")
