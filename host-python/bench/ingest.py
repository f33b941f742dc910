"""Document ingest of a mixed folder: files/s, chunks/s, and where the time goes.

Workload: ``--sets`` copies (default 8) of the test corpus (``tests/corpus.py``: one file per
format REM reads, written by python-docx, openpyxl, python-pptx, reportlab, fpdf2 and the
e-mail package, plus one PNG REM does not read), each grown with ``--extra`` paragraphs, pages,
slides and 20-row blocks (default 6, plus the copy's number), so 120 documents and 8 unsupported files. Each run ingests
the folder into a fresh database with chunks of 1,000 characters and 100 of overlap.

Runs: ``hash:384`` (embedding costs nothing: the time is extraction, chunking and writing) and
the default model all-MiniLM-L6-v2 (candle, local). Reported per run: wall time, files/s,
chunks/s, and the shares of extraction (workers, summed), chunking (workers, summed) and the
writer (embedding included); the embedding share is the MiniLM writer time less the hash
writer time, over the MiniLM wall time. Workers overlap the writer, so the shares can sum past 1.
Then the same folder again: every file is skipped unchanged (by its BLAKE3 hash, before extraction).

Run: ``make bench-ingest`` (or ``python host-python/bench/ingest.py [--json]`` with the
wheel and the test extras installed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import rem_db  # noqa: E402
from corpus import make_corpus  # noqa: E402


def run(folder: Path, model: str) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        with rem_db.REMDatabase(Path(tmp) / "db", embedding_model=model) as db:
            db.register_core_schemas()
            started = time.perf_counter()
            s = db.ingest(folder, chunk_size=1000, overlap=100)
            wall = time.perf_counter() - started
            started = time.perf_counter()
            again = db.ingest(folder, chunk_size=1000, overlap=100)
            rewall = time.perf_counter() - started
            assert again["skipped_unchanged"] == s["ingested"], again
    assert not s["errors"], s["errors"]
    return {
        "model": model,
        "files": s["ingested"],
        "unsupported": len(s["unsupported"]),
        "chunks": s["chunks"],
        "seconds": round(wall, 3),
        "files_per_s": round(s["ingested"] / wall, 1),
        "chunks_per_s": round(s["chunks"] / wall, 1),
        "extract_s": s["extract_seconds"],
        "chunk_s": s["chunk_seconds"],
        "write_s": s["write_seconds"],
        "reingest_s": round(rewall, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", type=int, default=8, help="copies of the corpus (15 documents and one PNG each)")
    ap.add_argument("--extra", type=int, default=6, help="extra paragraphs/pages/slides/row blocks per file")
    ap.add_argument("--skip-minilm", action="store_true", help="only the hash:384 run")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        for k in range(args.sets):
            (folder / f"set{k}").mkdir(parents=True)
            make_corpus(folder / f"set{k}", extra=args.extra + k)
        runs = [run(folder, "hash:384")]
        if not args.skip_minilm:
            runs.append(run(folder, "all-MiniLM-L6-v2"))
    for r in runs:
        r["share_extract"] = round(r["extract_s"] / r["seconds"], 3)
        r["share_chunk"] = round(r["chunk_s"] / r["seconds"], 3)
        r["share_write"] = round(r["write_s"] / r["seconds"], 3)
    if len(runs) == 2:
        runs[1]["share_embedding"] = round((runs[1]["write_s"] - runs[0]["write_s"]) / runs[1]["seconds"], 3)
    if args.json:
        print(json.dumps(runs, indent=2))
        return
    print("| embedding | files | chunks | time | files/s | chunks/s | extraction | chunking | writer (embedding) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        emb = f" ({r['share_embedding']:.0%})" if "share_embedding" in r else ""
        print(f"| {r['model']} | {r['files']} (+{r['unsupported']} unsupported) | {r['chunks']} | {r['seconds']:.2f} s "
              f"| {r['files_per_s']} | {r['chunks_per_s']} | {r['share_extract']:.1%} | {r['share_chunk']:.1%} "
              f"| {r['share_write']:.1%}{emb} |")
    for r in runs:
        print(f"re-ingest of the unchanged folder ({r['model']}): {r['reingest_s']:.3f} s, all skipped")


if __name__ == "__main__":
    main()
