"""Failure cases: fork, Ctrl-C, damaged files, bad settings, private files.

Each test runs the scenario the way an application meets it (a real ``os.fork``, a real
SIGINT, a file damaged on disk) and checks that nothing committed is lost and that every
failure is a :class:`rem_db.RemError` (or ``KeyboardInterrupt``), never a panic.
"""

from __future__ import annotations

import gc
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, List

import pytest

import rem_db
from rem_db import REMDatabase

NOTE = {"type": "object", "properties": {"n": {"type": "integer"}, "t": {"type": "string"}}, "key_field": "t"}

fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def rows(start: int, count: int) -> List[dict]:
    return [{"n": i, "t": f"row {i}"} for i in range(start, start + count)]


def count_in_fresh_process(path: Path) -> int:
    """Open the database in a new interpreter (as a restarted app would) and count its rows."""
    code = "import sys, rem_db; db = rem_db.REMDatabase(sys.argv[1]); print(db.count('note')); db.close()"
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def file_state(path: Path) -> tuple:
    """The database file's bytes (hashed) and modification time."""
    import hashlib

    f = path / "rem.redb"
    return hashlib.blake2b(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns


def in_child(body: Callable[[], int]) -> int:
    """Run ``body`` in a forked child; its return value is the child's exit code."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            code = body()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@fork_only
@pytest.mark.parametrize("scenario", ["child_writes", "both_write", "child_closes", "child_drops"])
def test_fork_never_writes_through_the_parents_handle(tmp_path: Path, scenario: str) -> None:
    path = tmp_path / "db"
    db = REMDatabase(path, embedding_model="hash:16")
    db.register_schema("note", NOTE)
    db.insert_batch("note", rows(0, 100))

    def child() -> int:
        if scenario in ("child_writes", "both_write"):
            try:
                db.insert_batch("note", rows(1000, 50))
            except rem_db.DatabaseForkedError as e:
                return 0 if "fork" in str(e) and e.kind == "forked" else 3
            return 2  # the write went through: the bug this test guards against
        if scenario == "child_closes":
            db.close()
            return 0
        # child_drops: the last reference goes, in the child.
        db.__dict__.pop("_db")
        gc.collect()
        return 0

    if scenario == "both_write":
        # The parent writes while the child tries to.
        result: List[int] = []
        t = threading.Thread(target=lambda: result.append(in_child(child)))
        t.start()
        db.insert_batch("note", rows(100, 50))
        t.join()
        code = result[0]
    else:
        before = file_state(path)
        code = in_child(child)
        # The child wrote nothing to the file, not even on close.
        assert file_state(path) == before
        db.insert_batch("note", rows(100, 50))
    assert code == 0, f"child exit {code}"
    # The parent's handle still works, and every committed row is there after a reopen.
    assert db.count("note") == 150
    db.close()
    assert count_in_fresh_process(path) == 150


@fork_only
def test_a_forked_child_dropping_the_handle_leaves_the_parent_intact(tmp_path: Path) -> None:
    path = tmp_path / "db"
    db = REMDatabase(path, embedding_model="hash:16")
    db.register_schema("note", NOTE)
    db.insert("note", {"n": 1, "t": "one"})

    def child() -> int:
        nonlocal db
        del db
        gc.collect()
        return 0

    before = file_state(path)
    assert in_child(child) == 0
    assert file_state(path) == before
    db.insert("note", {"n": 2, "t": "two"})
    db.close()
    assert count_in_fresh_process(path) == 2


def test_ctrl_c_stops_a_long_call_and_rolls_it_back(tmp_path: Path) -> None:
    armed, signalled = threading.Event(), threading.Event()

    def embed(texts: List[str]) -> List[List[float]]:
        # Called from inside the engine call: once armed, the first call sends a SIGINT 0.2 s later,
        # when the engine is building the vector index (seconds of work for 20,000 rows).
        if armed.is_set() and not signalled.is_set():
            signalled.set()
            threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        return [[float((len(t) + i) % 7) for i in range(16)] for t in texts]

    db = REMDatabase(tmp_path / "db", embedding_model=embed)
    db.register_schema("doc", {"type": "object", "properties": {"t": {"type": "string"}}, "key_field": "t",
                               "embedding_fields": ["t"]})
    armed.set()
    batch = [{"t": f"document number {i} about topic {i % 97}"} for i in range(20_000)]
    with pytest.raises(KeyboardInterrupt):
        db.insert_batch("doc", batch)
    assert signalled.is_set()
    # Nothing of the interrupted batch was kept, and the handle still works.
    assert db.count("doc") == 0
    db.insert_batch("doc", batch[:10])
    assert db.count("doc") == 10


def damage(file: Path, how: str) -> None:
    data = bytearray(file.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 3]
    elif how == "header_zeroed":
        data[:4096] = bytes(4096)
    elif how == "middle_scrambled":
        mid = len(data) // 2
        data[mid : mid + 65536] = bytes((i * 131 + 7) % 256 for i in range(len(data[mid : mid + 65536])))
    elif how == "garbage":
        data = bytearray(b"this is not a database" * 1000)
    file.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "header_zeroed", "middle_scrambled", "garbage"])
def test_a_damaged_file_is_an_error_never_a_panic(tmp_path: Path, how: str) -> None:
    path = tmp_path / "db"
    with REMDatabase(path, embedding_model="hash:16") as db:
        db.register_schema("note", {**NOTE, "indexed_fields": ["n"]})
        for start in range(0, 3000, 500):
            db.insert_batch("note", rows(start, 500))
    damage(path / "rem.redb", how)
    try:
        db = REMDatabase(path, embedding_model="hash:16")
    except rem_db.StorageError as e:
        assert "damaged" in str(e) or "rem.redb" in str(e), str(e)
        return
    # Opened: every call answers or raises a RemError, and the handle stays usable for the next call.
    calls: List[Callable[[], object]] = [
        lambda: db.count("note"),
        lambda: db.sql("SELECT n FROM note WHERE n > 10 ORDER BY n LIMIT 5"),
        lambda: db.list("note", limit=2000),
        lambda: db.insert("note", {"n": 1, "t": "new"}),
        lambda: db.count("note"),
    ]
    for call in calls:
        try:
            call()
        except rem_db.RemError:
            pass
    db.close()


def test_bad_settings_are_refused_by_name(tmp_path: Path) -> None:
    for name, value in [("P8_CALL_TIMEOUT_MS", "-5"), ("P8_MEMORY_LIMIT_MIB", "lots"), ("P8_WRITE_PIPELINE", "maybe")]:
        code = (
            "import sys, rem_db\n"
            "try:\n"
            "    rem_db.REMDatabase(sys.argv[1])\n"
            "except rem_db.InvalidArgumentError as e:\n"
            "    print(e)\n"
            "    sys.exit(0)\n"
            "sys.exit(1)\n"
        )
        env = {**os.environ, name: value}
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "db")], capture_output=True, text=True,
                             env=env, timeout=120)
        assert out.returncode == 0, (name, out.stdout, out.stderr)
        assert name in out.stdout, out.stdout


def test_database_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "a" / "db"
        with REMDatabase(path) as db:
            db.list_schemas()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert stat.S_IMODE((path / "rem.redb").stat().st_mode) == 0o600
