"""Bring-your-own vectors and paged reads from Python (docs/benchmarks.md, "Your own vectors and
paged reads"): insert_batch with an (n x 384) float32 ndarray into a model-less table, get_vectors,
search by vector, and iter_query over 100,000 rows against one sql() call.

Run: target/pyenv/bin/python host-python/bench/vectors_and_pages.py (after make test-python)."""

import time, resource, sys, tempfile, os
import numpy as np
import rem_db
d = tempfile.mkdtemp()
with rem_db.REMDatabase(os.path.join(d, "db"), embedding_model="hash:8") as db:
    db.register_schema("v", {"type": "object", "properties": {"n": {"type": "integer"}}, "key_field": "n",
                             "embedding_provider": "none", "embedding_dims": 384})
    n = 20000
    vec = np.random.default_rng(1).normal(size=(n, 384)).astype(np.float32)
    rows = [{"n": i} for i in range(n)]
    t = time.perf_counter(); ids = db.insert_batch("v", rows, vectors=vec); t1 = time.perf_counter() - t
    print(f"insert_batch {n} rows x 384-d own vectors (ndarray): {t1:.2f} s = {n/t1:,.0f} rows/s")
    t = time.perf_counter(); back = db.get_vectors(ids[:1000]); t2 = time.perf_counter() - t
    print(f"get_vectors 1000 ids: {t2*1000:.1f} ms")
    q = vec[123]
    t = time.perf_counter()
    for i in range(200): db.search(vec[i], table="v", limit=10)
    t3 = (time.perf_counter() - t) / 200
    print(f"search by vector top-10 over {n}: {t3*1e6:.0f} us/query")
    db.register_schema("r", {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string"}}, "key_field": "n"})
    for b in range(10):
        db.insert_batch("r", [{"n": b * 10000 + i, "s": "x" * 200} for i in range(10000)])
    t = time.perf_counter(); cnt = sum(1 for _ in db.iter_query("SELECT n, s FROM r", batch_size=1000)); t4 = time.perf_counter() - t
    print(f"iter_query 100k rows, pages of 1000: {t4:.2f} s ({cnt} rows)")
    t = time.perf_counter(); whole = db.sql("SELECT n, s FROM r"); t5 = time.perf_counter() - t
    print(f"sql() 100k rows whole: {t5:.2f} s ({len(whole)} rows)")
