"""Documents of every kind: a corpus written by real producers (python-docx, openpyxl,
python-pptx, reportlab, fpdf2, the standard library's e-mail package), ingested and found
again, each marker in a chunk of the right document at the right page, sheet, slide or heading."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import openpyxl

from corpus import TERMS, broken_share, make_corpus
from rem_db import REMDatabase


def chunk_with(db: REMDatabase, marker: str, table: str = "resources") -> List[Dict[str, Any]]:
    return db.sql(f"SELECT uri, metadata, content_type, content FROM {table} WHERE content LIKE ?", params=[f"%{marker}%"])


def test_every_format_is_read_and_found_where_it_is(db: REMDatabase, tmp_path: Path) -> None:
    root = tmp_path / "deal"
    root.mkdir()
    expect = make_corpus(root)
    summary = db.ingest(root, chunk_size=300, overlap=0)
    assert summary["errors"] == [], summary["errors"]
    assert summary["ingested"] == 15 and summary["files"] == 16, summary
    assert [u["path"].endswith("logo.png") for u in summary["unsupported"]] == [True]
    assert ".png" in summary["unsupported"][0]["reason"]
    assert summary["write_seconds"] > 0

    types = {r["name"]: r["content_type"] for r in db.sql("SELECT name, content_type FROM documents")}
    assert types["memo.docx"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert types["model.xlsx"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert (types["legacy.xls"], types["open.ods"]) == (
        "application/vnd.ms-excel", "application/vnd.oasis.opendocument.spreadsheet")
    assert types["deck.pptx"] == "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    assert (types["prices.csv"], types["prices.tsv"]) == ("text/csv", "text/tab-separated-values")
    assert (types["deal.json"], types["config.yaml"], types["thread.eml"]) == (
        "application/json", "application/yaml", "message/rfc822")

    for marker, want in expect.items():
        rows = chunk_with(db, marker)
        assert len(rows) >= 1, f"{marker} not in any chunk"
        row = rows[0]
        assert row["uri"].endswith("/" + want["file"]), (marker, row["uri"])
        meta = row["metadata"]
        for k, v in want["place"].items():
            assert meta.get(k) == v, (marker, meta)
        if "row" in want:
            first, last = meta["rows"]
            assert first <= want["row"] <= last, (marker, meta)
        # Hybrid search finds it, its keyword (BM25) ranking first (the test's hash vectors
        # carry no meaning, so the fused order is not asserted).
        hits = db.search(f"Marker {marker}", hybrid=True, limit=10)
        best = max(hits, key=lambda h: h.get("_bm25_score") or 0.0)
        assert best["properties"]["uri"] == row["uri"], (marker, best)

    # Table chunks repeat the header so each reads alone.
    sheet = chunk_with(db, "platypussheet")[0]
    assert sheet["content"].startswith("company | note\n"), sheet["content"]
    slide = chunk_with(db, "numbatnotes")[0]["content"]
    assert slide.index("echidnaslide") < slide.index("Notes:") < slide.index("numbatnotes"), slide
    assert "Attachments: terms.pdf" in chunk_with(db, "cassowarymail")[0]["content"]


def test_pdf_text_keeps_words_whole(db: REMDatabase, tmp_path: Path) -> None:
    root = tmp_path / "pdfs"
    root.mkdir()
    make_corpus(root)
    for name in ["terms_reportlab.pdf", "terms_fpdf2.pdf"]:
        db.ingest(root / name, chunk_size=2000, overlap=0)
        rows = db.sql("SELECT content, metadata FROM resources WHERE name LIKE ? ORDER BY chunk_ordinal",
                      params=[f"{name}%"])
        assert [r["metadata"]["page"] for r in rows] == [1, 2, 3]
        for page, row in zip(TERMS, rows):
            share = broken_share(page, row["content"])
            assert share < 0.01, (name, share, row["content"])


def test_second_table_edits_and_unsupported(db: REMDatabase, tmp_path: Path) -> None:
    root = tmp_path / "deal"
    root.mkdir()
    make_corpus(root)
    db.ingest(root / "notes.md", chunk_size=300, overlap=0)
    db.register_schema("archive", db.get_schema("resources"))
    again = db.ingest(root / "notes.md", table="archive", chunk_size=300, overlap=0)
    assert (again["ingested"], again["skipped_unchanged"]) == (1, 0), again
    assert db.count("archive") == db.count("resources") > 0
    assert db.ingest(root / "notes.md", table="archive")["skipped_unchanged"] == 1
    # Edited, then ingested into one table: the other table's chunks are not "unchanged".
    (root / "notes.md").write_text("# Pipeline\n\nMarker dugongedit replaces the text.\n")
    assert db.ingest(root / "notes.md", table="resources")["ingested"] == 1
    assert db.ingest(root / "notes.md", table="archive")["ingested"] == 1
    assert len(chunk_with(db, "dugongedit", table="archive")) == 1 and chunk_with(db, "tuataramd", table="archive") == []

    # An edited workbook replaces exactly its chunks.
    first = db.ingest(root / "model.xlsx", chunk_size=120, overlap=0)
    wb = openpyxl.load_workbook(root / "model.xlsx")
    wb["Model"].delete_rows(10, 30)
    wb.save(root / "model.xlsx")
    edited = db.ingest(root / "model.xlsx", chunk_size=120, overlap=0)
    assert edited["ingested"] == 1 and edited["removed_stale_chunks"] == first["chunks"] - edited["chunks"] > 0
    uri = chunk_with(db, "revenue")[0]["uri"]
    assert db.sql("SELECT COUNT(*) AS n FROM resources WHERE uri = ?", params=[uri])[0]["n"] == edited["chunks"]
    assert chunk_with(db, "platypussheet") == []

    # A file named explicitly that is not text and not a known type: unsupported, with the reason.
    out = db.ingest(root / "logo.png")
    assert out["ingested"] == 0 and "unsupported file type" in out["unsupported"][0]["reason"]
    # A damaged office file fails with its reader's error; the summary names it.
    (root / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    bad = db.ingest(root / "broken.docx")
    assert bad["errors"][0]["path"].endswith("broken.docx") and "cannot read" in bad["errors"][0]["error"]
