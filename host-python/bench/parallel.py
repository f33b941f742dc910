"""Reads on every core: one ``REMDatabase`` handle answering top-10 searches and indexed
queries from 1, 2 and 4 Python threads, alone and with a batch insert running beside them.

Workload: table ``item`` (20,000 rows; key ``name``, indexed ``group`` with 200 values; a
64-dimensional ``hash:64`` vector of ``text``). Searches are top-10 by a fixed query vector (no
embedding in the loop); queries are ``SELECT name FROM item WHERE group = ?`` (100 rows each).
Each case makes ``--calls`` calls split over the threads, after one warm-up pass; throughput is
calls per second of wall time, and the ratio is against one thread in the same run. With
``--with-writer``, another thread inserts batches of 500 rows into a second table all along.

How it works: a read that finds the handle's engine instance busy runs on a spare instance in
its own read snapshot (``docs/design.md``, "Reads on every core"); the GIL is released during
engine calls. Run: ``python host-python/bench/parallel.py`` with the wheel installed.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from typing import Any, Callable, List

import rem_db

SCHEMA = {
    "type": "object",
    "key_field": "name",
    "indexed_fields": ["group"],
    "embedding_fields": ["text"],
    "properties": {"name": {"type": "string"}, "group": {"type": "integer"}, "text": {"type": "string"}},
}


def rate(calls: int, threads: int, call: Callable[[int], Any]) -> float:
    def work(offset: int) -> None:
        for i in range(offset, calls, threads):
            call(i)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    started = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return calls / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--with-writer", action="store_true", help="a batch insert runs beside the reads")
    args = ap.parse_args()
    rng = random.Random(7)
    vec = [rng.random() for _ in range(64)]
    with tempfile.TemporaryDirectory() as tmp, rem_db.REMDatabase(tmp + "/db", embedding_model="hash:64") as db:
        db.register_schema("item", SCHEMA)
        db.register_schema("log", {**SCHEMA, "embedding_fields": []})
        db.insert_batch("item", [{"name": f"n{i}", "group": i % 200, "text": f"item {i} on topic {i % 97}"}
                                 for i in range(20_000)])
        stop = threading.Event()
        written: List[int] = [0]

        def writer() -> None:
            n = 0
            while not stop.is_set():
                db.insert_batch("log", [{"name": f"l{n + j}", "group": j, "text": ""} for j in range(500)])
                n += 500
            written[0] = n

        w = threading.Thread(target=writer)
        if args.with_writer:
            w.start()
        cases = {
            "top-10 search": lambda i: db.search(vec, table="item", limit=10),
            "indexed query (100 rows)": lambda i: db.sql("SELECT name FROM item WHERE group = ?", params=[i % 200]),
        }
        print("| reads | 1 thread | 2 threads | 4 threads |")
        print("|---|---:|---:|---:|")
        for name, call in cases.items():
            rate(args.calls // 4, 2, call)  # warm-up: both instances
            one = rate(args.calls, 1, call)
            two = rate(args.calls, 2, call)
            four = rate(args.calls, 4, call)
            print(f"| {name} | {one:,.0f}/s | {two:,.0f}/s ({two / one:.2f}x) | {four:,.0f}/s ({four / one:.2f}x) |")
        stop.set()
        if args.with_writer:
            w.join()
            print(f"rows inserted beside the reads: {written[0]:,}")


if __name__ == "__main__":
    main()
