"""Document ingest and the core schemas from Python."""

from __future__ import annotations

from pathlib import Path

import pytest

import rem_db
from rem_db import REMDatabase


def test_core_schemas(db: REMDatabase) -> None:
    assert db.register_core_schemas() == ["resources", "documents", "sessions", "messages", "moments"]
    db.insert("sessions", {"session_id": "s1"})
    for i, ts in enumerate(["10:00:03", "10:00:01", "10:00:02"]):
        db.insert("messages", {"message_id": f"m{i}", "session_id": "s1", "role": "user", "content": f"hello {i}",
                               "timestamp": f"2026-11-21T{ts}Z"})
    rows = db.sql("SELECT message_id FROM messages WHERE session_id = ? ORDER BY timestamp", params=["s1"])
    assert [r["message_id"] for r in rows] == ["m1", "m2", "m0"]
    session = db.lookup("s1")[0]["id"]
    assert len(db.get_edges(session, direction="in", rel_type="belongs_to")) == 3
    with pytest.raises(rem_db.ValidationError) as err:
        db.insert("messages", {"message_id": "m9", "session_id": "s404", "role": "user", "content": "c",
                               "timestamp": "2026-11-21T10:00:00Z"})
    assert err.value.errors()[0]["type"] == "reference_missing"
    with pytest.raises(rem_db.ValidationError):
        db.insert("moments", {"name": "x", "summary": "y", "start_time": "now", "end_time": "later",
                              "moment_type": "other"})


def test_ingest_and_reingest(db: REMDatabase, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Tomatoes\n\nWater tomatoes in the morning.\n\n# Roses\n\nPrune roses in spring.\n")
    (docs / "b.html").write_text("<p>Compost needs <b>greens</b> and browns.</p>")
    (docs / "bad.pdf").write_bytes(b"%PDF-1.4 nope")
    summary = db.ingest(docs, chunk_size=60, overlap=0)
    assert (summary["files"], summary["ingested"], len(summary["errors"])) == (3, 2, 1)
    assert summary["errors"][0]["path"].endswith("bad.pdf")
    assert summary["chunks"] == 3 and db.count("resources") == 3 and db.count("documents") == 2
    hit = db.search("compost greens browns", table="resources", limit=1)[0]
    assert hit["properties"]["content_type"] == "text/html" and hit["properties"]["chunk_ordinal"] == 0
    assert db.ingest([docs / "a.md"], chunk_size=60, overlap=0)["skipped_unchanged"] == 1
    (docs / "a.md").write_text("# Tomatoes\n\nWater tomatoes in the morning.\n")
    again = db.ingest(str(docs / "a.md"), chunk_size=60, overlap=0)
    assert (again["ingested"], again["removed_stale_chunks"]) == (1, 1)
    assert db.count("resources") == 2
    with pytest.raises(rem_db.StorageError):
        db.ingest(tmp_path / "missing")
    with pytest.raises(rem_db.InvalidArgumentError):
        db.ingest(docs, chunk_size=10, overlap=10)
