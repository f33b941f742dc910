"""Backup, restore, compaction, stats and check from Python, from the CLI, and through `rem serve`
(where the server writes the backup and compacts its own file)."""

import asyncio
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

import rem_db
from rem_db import REMDatabase
from rem_db.aio import AsyncREMDatabase
from rem_db.errors import DatabaseLockedError, DatabaseNotFoundError, InvalidArgumentError, UnsupportedError
from test_server import REM, serve

SCHEMA = {
    "type": "object",
    "key_field": "k",
    "indexed_fields": ["g"],
    "properties": {"k": {"type": "string"}, "g": {"type": "integer"}, "text": {"type": "string"}},
}


def rows(start: int, n: int) -> list:
    return [{"k": f"k{i:06}", "g": i % 5, "text": "y" * 300} for i in range(start, start + n)]


def test_backup_while_another_thread_writes_then_restore_and_compact(tmp_path: Path) -> None:
    with REMDatabase(tmp_path / "live", embedding_model="hash:8") as db:
        db.register_schema("t", SCHEMA)
        db.insert_batch("t", rows(0, 100))
        stop = threading.Event()

        def write() -> None:
            start = 100
            while not stop.is_set() and start < 3000:
                db.insert_batch("t", rows(start, 100))
                start += 100

        writer = threading.Thread(target=write)
        writer.start()
        try:
            report = db.backup(tmp_path / "b1")
        finally:
            stop.set()
            writer.join()
        assert report["keys"] > 0 and report["file_bytes"] > 0 and report["path"] == str(tmp_path / "b1")
        with REMDatabase(tmp_path / "b1", embedding_model="hash:8") as copy:
            assert copy.count("t") % 100 == 0
            assert copy.get("k000001")["properties"]["g"] == 1
            report = copy.check()
            assert report["ok"] and report["checked"]["rows"] == copy.count("t"), report
        with pytest.raises(InvalidArgumentError, match="force"):
            db.backup(tmp_path / "b1")
        db.backup(tmp_path / "b1", force=True)
        # Compaction gives back what a hard delete freed.
        db.execute("DELETE FROM t WHERE g != 0 HARD")
        sizes = db.compact()
        assert sizes["file_bytes_after"] < sizes["file_bytes_before"]
        assert db.sql("SELECT COUNT(*) AS n FROM t WHERE g = 0")[0]["n"] == db.count("t")
        total = db.count("t")
    restored = rem_db.restore(tmp_path / "b1", tmp_path / "restored")
    assert restored["path"] == str(tmp_path / "restored")
    with REMDatabase(tmp_path / "restored", embedding_model="hash:8") as back:
        assert back.count("t") >= 100
        assert back.check()["ok"]
        with pytest.raises(DatabaseLockedError):
            rem_db.restore(tmp_path / "b1", tmp_path / "restored", force=True)
    with pytest.raises(InvalidArgumentError):
        rem_db.restore(tmp_path / "b1", tmp_path / "restored")
    with pytest.raises(DatabaseNotFoundError):
        rem_db.restore(tmp_path / "nothing", tmp_path / "r2")
    assert total > 0


def test_async_backup_and_compact(tmp_path: Path) -> None:
    async def main() -> None:
        db = await AsyncREMDatabase.open(tmp_path / "db", embedding_model="hash:8")
        try:
            await db.register_schema("t", SCHEMA)
            await db.insert_batch("t", rows(0, 50))
            report = await db.backup(tmp_path / "copy")
            assert report["keys"] > 0
            assert (await db.compact())["file_bytes_after"] is not None
        finally:
            await db.close()

    asyncio.run(main())
    with REMDatabase(tmp_path / "copy", embedding_model="hash:8") as copy:
        assert copy.count("t") == 50


def test_the_cli_backs_up_restores_and_compacts(tmp_path: Path) -> None:
    env = {**os.environ, "P8_DEFAULT_EMBEDDING": "hash:8"}
    with REMDatabase(tmp_path / "db", embedding_model="hash:8") as db:
        db.register_schema("t", SCHEMA)
        db.insert_batch("t", rows(0, 40))

    def rem(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([REM, *args], env=env, capture_output=True, text=True)

    out = rem("--path", str(tmp_path / "db"), "--format", "json", "backup", str(tmp_path / "bk"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["keys"] > 0
    again = rem("--path", str(tmp_path / "db"), "backup", str(tmp_path / "bk"))
    assert again.returncode != 0 and "--force" in again.stderr
    out = rem("--path", str(tmp_path / "new"), "--format", "json", "restore", str(tmp_path / "bk"))
    assert out.returncode == 0, out.stderr
    out = rem("--path", str(tmp_path / "new"), "--format", "json", "compact")
    assert out.returncode == 0, out.stderr
    assert set(json.loads(out.stdout)) == {"file_bytes_before", "file_bytes_after"}
    out = rem("--path", str(tmp_path / "new"), "--format", "json", "check")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["checked"]["rows"] == 40
    with REMDatabase(tmp_path / "new", embedding_model="hash:8") as back:
        assert back.count("t") == 40


def test_through_a_server_backup_and_compact_run_in_the_server(tmp_path: Path) -> None:
    with REMDatabase(tmp_path / "db", embedding_model="hash:8") as db:
        db.register_schema("t", SCHEMA)
        db.insert_batch("t", rows(0, 40))
    with serve(tmp_path / "db") as url:
        with REMDatabase.connect(url) as db:
            report = db.backup(tmp_path / "b")
            assert report["path"] == str(tmp_path / "b") and report["keys"] > 40
            with pytest.raises(InvalidArgumentError, match="already exists"):
                db.backup(tmp_path / "b")
            db.sql("DELETE FROM t HARD", read_only=False)
            sizes = db.compact()
            assert sizes["file_bytes_after"] <= sizes["file_bytes_before"]
            assert db.count("t") == 0
    with REMDatabase(tmp_path / "b", embedding_model="hash:8") as copy:
        assert copy.count("t") == 40 and copy.check()["ok"]


def test_stats_and_check_count_what_the_database_holds_and_find_damage(tmp_path: Path) -> None:
    with REMDatabase(tmp_path / "db", embedding_model="hash:8") as db:
        db.register_schema("t", {**SCHEMA, "embedding_fields": ["text"]})
        ids = db.insert_batch("t", rows(0, 30))
        db.delete(ids[0])
        db.delete(ids[1], hard=True)
        db.create_edge(ids[2], ids[3], "next")
        stats = db.stats()
        t = stats["tables"]["t"]
        assert (t["rows"], t["deleted"], t["stored"]) == (28, 1, 29)
        assert t["index_entries"] == 28 and t["vectors"]["live"] == 28 and t["keyword_documents"] == 28
        assert stats["spaces"]["edges"] == 1 and stats["spaces"]["id_index"] == 29
        assert stats["format_version"] >= 2 and stats["file_bytes"] > stats["bytes"] > 0
        report = db.check(max_problems=5)
        assert report["ok"] and report["problems"] == [] and report["checked"]["edges"] == 1, report
    # The same through a server.
    with serve(tmp_path / "db") as url:
        with REMDatabase.connect(url) as served:
            assert served.stats()["tables"]["t"]["rows"] == 28
            assert served.check()["ok"]


def test_async_check(tmp_path: Path) -> None:
    async def main() -> None:
        db = await AsyncREMDatabase.open(tmp_path / "db", embedding_model="hash:8")
        try:
            await db.register_schema("t", SCHEMA)
            await db.insert_batch("t", rows(0, 10))
            assert (await db.check())["checked"]["rows"] == 10
        finally:
            await db.close()

    asyncio.run(main())
