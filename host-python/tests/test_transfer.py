"""Export to Parquet, CSV and JSONL read back by real readers (pyarrow, DuckDB), and imported again."""

import csv
import datetime
import json
from pathlib import Path

import pytest

from rem_db import REMDatabase
from rem_db.errors import InvalidArgumentError, ValidationError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")

SCHEMA = {
    "type": "object",
    "key_field": "title",
    "indexed_fields": ["status"],
    "embedding_provider": "none",
    "embedding_dims": 3,
    "properties": {
        "title": {"type": "string"},
        "status": {"type": "string"},
        "views": {"type": "integer"},
        "score": {"type": "number"},
        "done": {"type": "boolean"},
        "due": {"type": "string", "format": "date-time"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "meta": {"type": "object"},
    },
}


def fill(db: REMDatabase, n: int = 1500) -> None:
    db.register_schema("note", SCHEMA)
    rows = [
        {"title": f"n{i:04}", "status": "open" if i % 3 == 0 else "done", "views": i, "score": i / 4,
         "done": i % 2 == 0, "due": "2026-12-07T10:00:00Z", "tags": ["a", f"t{i % 5}"], "meta": {"n": i}}
        for i in range(n)
    ]
    db.insert_batch("note", rows, vectors=[[1.0, float(i), 2.0] for i in range(n)])


def rows_by_title(db: REMDatabase) -> dict:
    return {r["title"]: r for r in db.sql("SELECT * FROM note")}


def test_parquet_is_read_by_pyarrow_and_duckdb_with_its_types_and_imports_back(tmp_path: Path) -> None:
    with REMDatabase(tmp_path / "db", embedding_model="hash:8") as db:
        fill(db)
        report = db.export("note", tmp_path / "note.parquet", with_vectors=True)
        assert (report["rows"], report["format"]) == (1500, "parquet")
        table = pq.read_table(tmp_path / "note.parquet")
        assert table.num_rows == 1500
        types = {f.name: f.type for f in table.schema}
        assert types["views"] == pa.int64() and types["score"] == pa.float64() and types["done"] == pa.bool_()
        assert pa.types.is_timestamp(types["due"]) and pa.types.is_timestamp(types["created_at"])
        assert types["tags"] == pa.list_(pa.string()) and types["meta"] == pa.string()
        assert pa.types.is_fixed_size_list(types["embedding"]) and types["embedding"].list_size == 3
        first = table.slice(0, 1).to_pylist()[0]
        i = int(first["title"][1:])
        assert first["views"] == i and json.loads(first["meta"]) == {"n": i}
        assert first["due"] == datetime.datetime(2026, 12, 7, 10, tzinfo=datetime.timezone.utc)
        assert pq.ParquetFile(tmp_path / "note.parquet").metadata.row_group(0).column(0).compression == "ZSTD"
        # DuckDB reads it as SQL.
        con = duckdb.connect()
        path = str(tmp_path / "note.parquet")
        assert con.execute(f"SELECT COUNT(*), SUM(views) FROM read_parquet('{path}')").fetchone() == (1500, sum(range(1500)))
        assert con.execute(f"SELECT COUNT(*) FROM read_parquet('{path}') WHERE status = 'open'").fetchone()[0] == 500
        before = rows_by_title(db)
        vectors_before = db.get_vectors([before["n0007"]["id"]])[0]
    # Import into an empty database, from the file and from the pyarrow Table.
    for n, source in enumerate((tmp_path / "note.parquet", table)):
        with REMDatabase(tmp_path / f"fresh{n}", embedding_model="hash:8") as fresh:
            fresh.register_schema("note", SCHEMA)
            ids = fresh.insert_batch("note", source)
            assert len(ids) == 1500
            assert rows_by_title(fresh) == before
            got = fresh.get_vectors([before["n0007"]["id"]])[0]
            assert max(abs(a - b) for a, b in zip(got, vectors_before)) < 1e-6


def test_csv_and_jsonl_exports_open_in_the_standard_readers_and_round_trip(tmp_path: Path) -> None:
    with REMDatabase(tmp_path / "db", embedding_model="hash:8") as db:
        fill(db, 300)
        db.export("note", tmp_path / "open.csv", where="status = 'open'")
        with open(tmp_path / "open.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 100 and {r["status"] for r in rows} == {"open"}
        assert json.loads(rows[0]["tags"])[0] == "a"
        con = duckdb.connect()
        assert con.execute(f"SELECT COUNT(*) FROM read_csv_auto('{tmp_path / 'open.csv'}')").fetchone()[0] == 100
        db.export("note", tmp_path / "all.jsonl", with_vectors=True)
        lines = (tmp_path / "all.jsonl").read_text().splitlines()
        assert len(lines) == 300 and len(json.loads(lines[0])["embedding"]) == 3
        before = rows_by_title(db)
    for name, want in (("open.csv", 100), ("all.jsonl", 300)):
        with REMDatabase(tmp_path / f"fresh-{name}", embedding_model="hash:8") as fresh:
            fresh.register_schema("note", SCHEMA)
            assert len(fresh.insert_batch("note", tmp_path / name)) == want
            for title, row in rows_by_title(fresh).items():
                assert row == before[title]


def test_bad_exports_and_imports_say_what_is_wrong_and_change_nothing(tmp_path: Path) -> None:
    with REMDatabase(tmp_path / "db", embedding_model="hash:8") as db:
        fill(db, 10)
        (tmp_path / "taken.parquet").write_text("mine")
        with pytest.raises(InvalidArgumentError, match="force"):
            db.export("note", tmp_path / "taken.parquet")
        assert (tmp_path / "taken.parquet").read_text() == "mine"
        db.export("note", tmp_path / "taken.parquet", force=True)
        assert pq.read_table(tmp_path / "taken.parquet").num_rows == 10
        with pytest.raises(InvalidArgumentError, match="extension"):
            db.export("note", tmp_path / "note.xlsx")
        (tmp_path / "bad.csv").write_text("title,views\nfine,1\nbroken,-3.5x\n")
        with pytest.raises(InvalidArgumentError, match="line 3.*'views'"):
            db.insert_batch("note", tmp_path / "bad.csv")
        (tmp_path / "invalid.jsonl").write_text('{"title": "ok", "views": 1}\n{"title": "bad", "views": "many"}\n')
        with pytest.raises(ValidationError):
            db.insert_batch("note", tmp_path / "invalid.jsonl")
        assert db.count("note") == 10


def test_a_users_own_parquet_file_in_snappy_imports(tmp_path: Path) -> None:
    table = pa.table({"title": ["x", "y"], "views": [1, 2], "tags": [["a"], ["b", "c"]]})
    pq.write_table(table, tmp_path / "mine.parquet")  # pyarrow's default codec: Snappy
    with REMDatabase(tmp_path / "db", embedding_model="hash:8") as db:
        db.register_schema("note", SCHEMA)
        assert len(db.insert_batch("note", tmp_path / "mine.parquet")) == 2
        assert db.sql("SELECT views, tags FROM note WHERE title = 'y'") == [{"views": 2, "tags": ["b", "c"]}]
