"""DELETE and UPDATE from Python: execute(), sql(read_only=False), atomicity, and the async API."""

import asyncio
from pathlib import Path

import pytest

from rem_db import REMDatabase
from rem_db.aio import AsyncREMDatabase
from rem_db.errors import InvalidArgumentError, NotFoundError, UnsupportedError, ValidationError

SCHEMA = {
    "type": "object",
    "key_field": "title",
    "indexed_fields": ["status"],
    "properties": {
        "title": {"type": "string"},
        "status": {"type": "string"},
        "views": {"type": "integer", "minimum": 0},
    },
}


def fill(db: REMDatabase) -> None:
    db.register_schema("post", SCHEMA)
    db.insert_batch("post", [{"title": f"p{i}", "status": "draft", "views": i} for i in range(10)])


def test_execute_updates_and_deletes_in_one_transaction(tmp_path: Path) -> None:
    with REMDatabase(tmp_path / "db", embedding_model="hash:8") as db:
        fill(db)
        assert db.execute("UPDATE post SET status = 'live', views = views * 10 WHERE views >= ?", params=[5]) == 5
        assert db.sql("SELECT COUNT(*) AS n FROM post WHERE status = 'live'")[0]["n"] == 5
        assert db.sql("SELECT views FROM post WHERE title = 'p9'") == [{"views": 90}]
        # A row the schema refuses: nothing is written.
        with pytest.raises(ValidationError):
            db.execute("UPDATE post SET views = views - 50")
        assert db.sql("SELECT SUM(views) AS s FROM post")[0]["s"] == 0 + 1 + 2 + 3 + 4 + 350
        # Reads stay read-only unless asked.
        with pytest.raises(UnsupportedError, match="reads only"):
            db.sql("DELETE FROM post")
        assert db.sql("DELETE FROM post WHERE status = 'draft'", read_only=False) == [{"changed": 5}]
        assert db.count("post") == 5
        with pytest.raises(InvalidArgumentError, match="execute runs DELETE and UPDATE"):
            db.execute("SELECT * FROM post")
        # HARD removes the live rows; soft-deleted ones are seen only when the filter names deleted_at.
        assert db.execute("DELETE FROM post HARD") == 5
        every = "SELECT COUNT(*) AS n FROM post WHERE deleted_at IS NOT NULL OR deleted_at IS NULL"
        assert db.sql(every) == [{"n": 5}]
        assert db.execute("DELETE FROM post WHERE deleted_at IS NOT NULL HARD") == 5
        assert db.sql(every) == [{"n": 0}]


def test_async_execute(tmp_path: Path) -> None:
    async def main() -> None:
        db = await AsyncREMDatabase.open(tmp_path / "adb", embedding_model="hash:8")
        try:
            await db.register_schema("post", SCHEMA)
            await db.insert("post", {"title": "a", "status": "draft", "views": 1})
            assert await db.execute("UPDATE post SET views = 7") == 1
            assert await db.sql("SELECT views FROM post") == [{"views": 7}]
            assert await db.sql("DELETE FROM post", read_only=False) == [{"changed": 1}]
        finally:
            await db.close()

    asyncio.run(main())


def test_delete_batch_is_all_or_nothing(tmp_path: Path) -> None:
    with REMDatabase(tmp_path / "db", embedding_model="hash:8") as db:
        fill(db)
        ids = [r["id"] for r in db.sql("SELECT id FROM post WHERE views < 3")]
        with pytest.raises(NotFoundError):
            db.delete_batch([*ids, "00000000-0000-0000-0000-000000000000"])
        assert db.count("post") == 10, "nothing deleted"
        assert db.delete_batch(ids) == 3
        assert db.delete_batch(ids) == 0, "already soft-deleted"
        assert db.count("post") == 7
        assert db.delete_batch(["p9"], hard=True) == 1, "natural keys too"
        assert db.sql("SELECT COUNT(*) AS n FROM post WHERE deleted_at IS NOT NULL OR deleted_at IS NULL") == [{"n": 9}]
