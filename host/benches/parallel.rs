//! Reads on every core, from Rust: one `Database` handle answering top-10 vector searches and
//! indexed queries from 1, 2 and 4 threads, alone and beside a batch insert (docs/benchmarks.md,
//! "Reads on every core"; the Python figures come from `host-python/bench/parallel.py`).
//!
//! Workload: 20,000 rows (key `name`, indexed `group` with 200 values, 64-dimensional vectors
//! given by the caller); searches by a fixed vector, queries `SELECT name FROM item WHERE group
//! = <g>` (100 rows). Each case makes `REM_BENCH_CALLS` calls (default 4,000) split over the
//! threads after a warm-up; throughput is calls per second of wall time.
//!
//! Run: `cargo bench -p rem-host --bench parallel`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rem_host::{Database, OpenOptions, SearchOptions, SearchQuery};

fn rate(db: &Arc<Database>, calls: usize, threads: usize, call: fn(&Database, usize)) -> f64 {
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in (t..calls).step_by(threads) {
                    call(&db, i);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    calls as f64 / started.elapsed().as_secs_f64()
}

fn search(db: &Database, _: usize) {
    let v: Vec<f32> = (0..64).map(|i| ((i * 7) % 13) as f32 / 13.0).collect();
    db.search("item", &SearchQuery::Vector(v), &SearchOptions { top_k: 10, ..Default::default() }).unwrap();
}

fn query(db: &Database, i: usize) {
    db.query(&format!("SELECT name FROM item WHERE group = {}", i % 200)).unwrap();
}

fn main() {
    let calls: usize = std::env::var("REM_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(4000);
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::open(OpenOptions::at(dir.path())).unwrap());
    let schema = serde_json::json!({"type": "object", "key_field": "name", "indexed_fields": ["group"],
        "embedding_provider": "none", "embedding_dims": 64,
        "properties": {"name": {"type": "string"}, "group": {"type": "integer"}}});
    db.register_schema("item", &schema.to_string()).unwrap();
    db.register_schema("log", &schema.to_string()).unwrap();
    let rows: Vec<String> = (0..20_000usize)
        .map(|i| {
            let v: Vec<f32> = (0..64).map(|d| (((i * 31 + d * 17) % 101) as f32) / 101.0).collect();
            serde_json::json!({"name": format!("n{i}"), "group": i % 200, "embedding": v}).to_string()
        })
        .collect();
    db.insert_batch("item", &rows).unwrap();
    println!("cores: {}; {calls} calls per case", std::thread::available_parallelism().map_or(1, |n| n.get()));
    for writer in [false, true] {
        let stop = Arc::new(AtomicBool::new(false));
        let w = writer.then(|| {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let batch: Vec<String> = (n..n + 500)
                        .map(|i| {
                            let v = vec![0.5f32; 64];
                            serde_json::json!({"name": format!("l{i}"), "group": 0, "embedding": v}).to_string()
                        })
                        .collect();
                    db.insert_batch("log", &batch).unwrap();
                    n += 500;
                }
                n
            })
        });
        println!("\n{}", if writer { "beside a batch insert:" } else { "alone:" });
        println!("| reads | 1 thread | 2 threads | 4 threads |");
        println!("|---|---:|---:|---:|");
        for (name, call) in [("top-10 search", search as fn(&Database, usize)), ("indexed query (100 rows)", query)] {
            rate(&db, calls / 4, 2, call);
            let one = rate(&db, calls, 1, call);
            let two = rate(&db, calls, 2, call);
            let four = rate(&db, calls, 4, call);
            println!("| {name} | {one:.0}/s | {two:.0}/s ({:.2}x) | {four:.0}/s ({:.2}x) |", two / one, four / one);
        }
        stop.store(true, Ordering::Relaxed);
        if let Some(w) = w {
            println!("rows inserted beside the reads: {}", w.join().unwrap());
        }
    }
    println!("engine instances made for reads: {}", db.read_instances());
}
