"""What the Python layer costs: each operation timed through ``rem_db`` and through the
Rust host API (``rem_db._rem.bench_loop``: the same calls with no Python between them),
in one process, on one database, in chunks of ``CHUNK`` calls with Python and Rust
alternating, ``--rounds`` times over; per call is each side's fastest chunk / ``CHUNK``.

Workload: a durable on-disk database; table ``person`` (key ``name``, indexed ``age``
and ``city``); 10,000 single inserts; one ``insert_batch`` of 10,000 rows; 10,000 gets
by id; an indexed query (two equalities, 111 rows) 1,000 times; a top-10 vector search
over 10,000 64-dimensional vectors (stored on write from a fixed formula; the query is
a vector, so no embedding is timed) 1,000 times; a query answering no rows (the fixed
cost of a call) 1,000 times. Then what building results as Python objects costs: the
search's and the query's result text through rem_db's converter and ``json.loads``.

Run: ``make bench-python`` (or ``python host-python/bench/bench.py [--json]`` with the
wheel installed). Overhead per call = (Python - Rust) / calls.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from typing import Any, Callable, Dict, List, Tuple

import rem_db
from rem_db._rem import bench_loop

N = 10_000
REPS = 1_000
DIMS = 64
QUERY = "SELECT name FROM person WHERE city = 'city3' AND age = 43"
EMPTY_QUERY = "SELECT name FROM person WHERE city = 'nowhere'"
CHUNK = 100
SCHEMA = {
    "type": "object",
    "key_field": "name",
    "indexed_fields": ["age", "city"],
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}, "city": {"type": "string"}},
}
NOTES = {
    "type": "object",
    "key_field": "k",
    "embedding_fields": ["text"],
    "properties": {"k": {"type": "string"}, "text": {"type": "string"}},
}


def wave(i: int) -> List[float]:
    """The vector of note ``i``: sin((i + 1)(j + 1) 0.7) for j < 64."""
    return [math.sin((i + 1) * (j + 1) * 0.7) for j in range(DIMS)]


def wave_model(texts: List[str]) -> List[List[float]]:
    """Embedding function for ``note <i>`` texts (other texts get note 0's vector)."""
    return [wave(int(t.split()[-1]) if t.split() and t.split()[-1].isdigit() else 0) for t in texts]


wave_model.model_name = "wave"  # type: ignore[attr-defined]


def person(i: int, prefix: str = "user") -> Dict[str, Any]:
    return {"name": f"{prefix}{i}", "age": i % 90, "city": f"city{i % 10}"}


def clock(f: Callable[[], Any]) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def each(f: Callable[[Any], Any], items: List[Any]) -> None:
    """``f(item)`` for each item, each result dropped at once (as a caller's loop would)."""
    for item in items:
        f(item)


def repeat(f: Callable[[], Any], times: int) -> None:
    """``f()`` ``times`` times, each result dropped at once."""
    for _ in range(times):
        f()


def run(rounds: int) -> Dict[str, Tuple[float, float, int]]:
    """{operation: (python seconds, rust seconds, calls)}, best of ``rounds`` for the repeatable ones."""
    out: Dict[str, Tuple[float, float, int]] = {}
    with tempfile.TemporaryDirectory() as d, rem_db.REMDatabase(d, embedding_model=wave_model) as db:
        native = db._db
        db.register_schema("person", SCHEMA)
        db.register_schema("person_rust", SCHEMA)
        db.register_schema("note", NOTES)

        # Single inserts: 10 chunks of 1,000, Python and Rust alternating, so drift hits both.
        rows = [person(i) for i in range(N)]
        rust_rows = [person(i, "rust") for i in range(N)]
        ids: List[str] = []
        py = rust = 0.0
        chunk = N // 10
        for c in range(0, N, chunk):
            py += clock(lambda: ids.extend(db.insert("person", r) for r in rows[c:c + chunk]))
            rust += bench_loop(native, "insert", "person_rust", rust_rows[c:c + chunk])
        out["single_insert"] = (py, rust, N)

        # Batches: each round into two fresh tables, best of the rounds.
        best_py = best_rust = 1e9
        for r in range(rounds):
            db.register_schema(f"bulk{r}", SCHEMA)
            db.register_schema(f"bulk_rust{r}", SCHEMA)
            best_py = min(best_py, clock(lambda: db.insert_batch(f"bulk{r}", rows)))
            best_rust = min(best_rust, bench_loop(native, "insert_batch", f"bulk_rust{r}", rows))
        out["insert_batch"] = (best_py, best_rust, 1)

        db.insert_batch("note", [{"k": f"n{i}", "text": f"note {i}"} for i in range(N)])
        probe = wave(5)

        # Repeatable operations: chunks of CHUNK calls, Python and Rust alternating, so that a
        # slow spell of the shared machine hits both sides.
        ops: List[Tuple[str, Callable[[int, int], None], Callable[[int, int], float], int]] = [
            ("get", lambda a, b: each(db.get, ids[a:b]), lambda a, b: bench_loop(native, "get", "", ids[a:b]), N),
            ("indexed_query", lambda a, b: repeat(lambda: db.sql(QUERY), b - a),
             lambda a, b: bench_loop(native, "query", "", [QUERY], b - a), REPS),
            ("vector_search", lambda a, b: repeat(lambda: db.search(probe, table="note", limit=10, min_score=-1.0), b - a),
             lambda a, b: bench_loop(native, "search", "note", probe, b - a), REPS),
            ("empty_query", lambda a, b: repeat(lambda: db.sql(EMPTY_QUERY), b - a),
             lambda a, b: bench_loop(native, "query", "", [EMPTY_QUERY], b - a), REPS),
        ]
        for name, py_chunk, rust_chunk, calls in ops:
            py_times: List[float] = []
            rust_times: List[float] = []
            for _ in range(rounds):
                for a in range(0, calls, CHUNK):
                    py_times.append(clock(lambda: py_chunk(a, a + CHUNK)))
                    rust_times.append(rust_chunk(a, a + CHUNK))
            # The fastest chunk of each side, as timeit advises: slower ones were slowed by others.
            out[name] = (min(py_times), min(rust_times), CHUNK)

        # The part of an overhead that is building the result: the same JSON text made into
        # Python objects by rem_db's converter and by json.loads (each result dropped at once).
        def conversion(text: str) -> Tuple[float, float, int]:
            ours = min(bench_loop(native, "loads", "", [text], REPS) for _ in range(rounds))
            stdlib = min(clock(lambda: repeat(lambda: json.loads(text), REPS)) for _ in range(rounds))
            return ours, stdlib, REPS

        out["result_conversion"] = conversion(json.dumps(db.search(probe, table="note", limit=10, min_score=-1.0)))
        out["query_conversion"] = conversion(json.dumps(db.sql(QUERY)))
    return out


LABELS = {
    "single_insert": "single insert (durable commit each), 10,000 calls",
    "insert_batch": "insert_batch of 10,000 rows, 1 call",
    "get": "get by id (10,000 ids, chunks of 100)",
    "indexed_query": "indexed query, 2 equalities, 111 rows (chunks of 100)",
    "vector_search": "vector search top-10 of 10,000, by vector (chunks of 100)",
    "empty_query": "indexed query answering no rows: the fixed cost of a call (chunks of 100)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the repeatable operations (best is kept)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    args = parser.parse_args()
    results = run(args.rounds)
    if args.json:
        print(json.dumps({k: {"python_s": p, "rust_s": r, "calls": n} for k, (p, r, n) in results.items()}, indent=2))
        return
    print("| operation | Python, per call | Rust host, per call | Python overhead per call |")
    print("|---|---:|---:|---:|")
    conversion = results.pop("result_conversion", None)
    query_conversion = results.pop("query_conversion", None)
    for key, (py, rust, calls) in results.items():
        unit, scale = ("ms", 1e3) if calls == 1 else ("µs", 1e6)
        print(f"| {LABELS[key]} | {py * scale / calls:,.1f} {unit} | {rust * scale / calls:,.1f} {unit} "
              f"| {(py - rust) * 1e6 / calls:+,.1f} µs |")
    if conversion:
        ours, stdlib, calls = conversion
        print(f"\nBuilding a top-10 search result (JSON text) as Python objects: {ours * 1e6 / calls:.1f} µs "
              f"with rem_db's converter, {stdlib * 1e6 / calls:.1f} µs with json.loads.")
    if query_conversion:
        ours, stdlib, calls = query_conversion
        print(f"Building the indexed query's 111 rows: {ours * 1e6 / calls:.1f} µs with rem_db's converter "
              f"({ours * 1e6 / calls / 111:.2f} µs a row), {stdlib * 1e6 / calls:.1f} µs with json.loads.")


if __name__ == "__main__":
    main()
