//! Per-call costs of the engine component under wasmtime, the counterpart of
//! `hosts/node/scripts/bench.mjs` (jco in Node); both in docs/benchmarks.md.
//!
//! - empty export call: `Database::engine_version` (no storage access);
//! - storage import call: `get` of a missing id (one export call making two `storage.get`s,
//!   in a redb read transaction): half its difference with the empty call;
//! - instantiation from the cached compiled artifact: `Database::open` in memory.
//!
//! Run: `cargo bench -p rem-host --bench calls`. Prints JSON.

use std::time::{Duration, Instant};

use rem_host::{Database, OpenOptions};

const N: u32 = 20_000;

fn best(rounds: usize, mut f: impl FnMut()) -> Duration {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn main() {
    let t = Instant::now();
    let db = Database::open(OpenOptions::in_memory()).unwrap();
    let first_open = t.elapsed();
    let missing = "00000000-0000-4000-8000-000000000000";
    let version = best(5, || {
        for _ in 0..N {
            db.engine_version().unwrap();
        }
    });
    let get = best(5, || {
        for _ in 0..N {
            assert!(db.get(missing).unwrap().is_none());
        }
    });
    let open = best(10, || {
        Database::open(OpenOptions::in_memory()).unwrap();
    });
    let us = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(N);
    println!(
        "{{\n  \"host\": \"wasmtime (rem-host)\",\n  \"empty_export_call_us\": {:.3},\n  \"get_missing_us\": {:.3},\n  \
         \"storage_import_call_us\": {:.3},\n  \"first_open_ms\": {:.1},\n  \"open_ms_compiled\": {:.2}\n}}",
        us(version),
        us(get),
        (us(get) - us(version)) / 2.0,
        first_open.as_secs_f64() * 1e3,
        open.as_secs_f64() * 1e3
    );
}
