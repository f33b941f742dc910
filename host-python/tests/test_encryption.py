"""Encryption at rest from Python and the CLI: REMDatabase(path, password=...), a clear error
without the password or with a wrong one, nothing readable in the file or its backup, rekey,
restore of an encrypted backup, and `rem key-gen` / `rem init --password`."""

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

import rem_db
from rem_db import PasswordError, REMDatabase
from test_server import REM

SCHEMA = {
    "type": "object",
    "key_field": "name",
    "indexed_fields": ["tag"],
    "embedding_fields": ["body"],
    "properties": {"name": {"type": "string"}, "tag": {"type": "string"}, "body": {"type": "string"}},
}
MARKERS = [b"PYMARKERKEY", b"PYMARKERTAG", b"PYMARKERBODY", b"PYMARKEREDGE"]


def fill(db: REMDatabase) -> None:
    db.register_schema("vault", SCHEMA)
    ids = db.insert("vault", {"name": "PYMARKERKEY", "tag": "PYMARKERTAG", "body": "PYMARKERBODY note"})
    db.create_edge(ids, ids, "PYMARKEREDGE")


def test_an_encrypted_database_round_trips_and_its_file_holds_no_marker(tmp_path: Path) -> None:
    with REMDatabase(tmp_path / "plain", embedding_model="hash:16") as plain:
        fill(plain)
    raw = (tmp_path / "plain" / "rem.redb").read_bytes()
    assert all(m in raw for m in MARKERS), "the control database holds the markers"
    with REMDatabase(tmp_path / "db", embedding_model="hash:16", password="s3cret pass") as db:
        fill(db)
        assert db.lookup("PYMARKERKEY")[0]["properties"]["tag"] == "PYMARKERTAG"
        assert db.stats()["encrypted"] is True
        db.backup(tmp_path / "bk")
    for f in (tmp_path / "db" / "rem.redb", tmp_path / "bk" / "rem.redb"):
        raw = f.read_bytes()
        assert raw.startswith(b"REMCRYPT") and not any(m in raw for m in MARKERS)
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    with pytest.raises(PasswordError, match="encrypted"):
        REMDatabase(tmp_path / "db", embedding_model="hash:16")
    with pytest.raises(PasswordError, match="wrong password") as info:
        REMDatabase(tmp_path / "db", embedding_model="hash:16", password="nope nope")
    assert "nope nope" not in str(info.value)
    with REMDatabase(tmp_path / "db", embedding_model="hash:16", password="s3cret pass") as db:
        db.rekey("fresh pass")
        assert db.count("vault") == 1
    with pytest.raises(PasswordError):
        REMDatabase(tmp_path / "db", embedding_model="hash:16", password="s3cret pass")
    with REMDatabase(tmp_path / "db", embedding_model="hash:16", password="fresh pass") as db:
        assert db.check()["ok"]
    with pytest.raises(PasswordError):
        rem_db.restore(tmp_path / "bk", tmp_path / "restored")
    rem_db.restore(tmp_path / "bk", tmp_path / "restored", password="s3cret pass")
    with REMDatabase(tmp_path / "restored", embedding_model="hash:16", password="s3cret pass") as back:
        assert back.count("vault") == 1


def test_async_open_with_a_password(tmp_path: Path) -> None:
    import asyncio

    from rem_db.aio import AsyncREMDatabase

    async def main() -> None:
        db = await AsyncREMDatabase.open(tmp_path / "db", embedding_model="hash:8", password="async pass")
        try:
            await db.register_schema("vault", SCHEMA)
            await db.insert("vault", {"name": "a", "tag": "t", "body": "b"})
            await db.rekey("async pass 2")
        finally:
            await db.close()

    asyncio.run(main())
    with REMDatabase(tmp_path / "db", embedding_model="hash:8", password="async pass 2") as db:
        assert db.count("vault") == 1


def test_the_cli_makes_keys_and_encrypted_databases(tmp_path: Path) -> None:
    env = {**os.environ, "P8_HOME": str(tmp_path / "home"), "P8_PASSWORD": "cli password", "P8_DEFAULT_EMBEDDING": "hash:8"}

    def rem(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([REM, *args], env={**env, **extra}, capture_output=True, text=True, stdin=subprocess.DEVNULL)

    out = rem("--format", "json", "key-gen")
    assert out.returncode == 0, out.stderr
    pair = json.loads(out.stdout)
    keys = tmp_path / "home" / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for name in ("rem_ed25519.pub", "rem_ed25519.key"):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600
    sealed = json.loads((keys / "rem_ed25519.key").read_text())
    assert sealed["kdf"] == "argon2id" and sealed["public_key"] == pair["public_key"]
    assert "cli password" not in (keys / "rem_ed25519.key").read_text()
    again = rem("key-gen")
    assert again.returncode != 0 and "--force" in again.stderr

    db = str(tmp_path / "edb")
    out = rem("--path", db, "--password", "init", "--no-core")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "edb" / "rem.redb").read_bytes().startswith(b"REMCRYPT")
    out = rem("--path", db, "count", "resources", P8_PASSWORD="")
    assert out.returncode != 0 and "encrypted" in out.stderr and "P8_PASSWORD" in out.stderr
    out = rem("--path", db, "rekey", P8_NEW_PASSWORD="next password")
    assert out.returncode == 0, out.stderr
    (tmp_path / "pw").write_text("next password\n")
    out = rem("--path", db, "--password-file", str(tmp_path / "pw"), "--format", "json", "stats", P8_PASSWORD="")
    assert out.returncode == 0, out.stderr
    out = rem("--path", db, "check")
    assert out.returncode != 0 and "wrong password" in out.stderr and "cli password" not in out.stderr
