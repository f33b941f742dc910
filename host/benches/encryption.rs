//! Encryption at rest: the Debian catalog's batch insert, get by id, indexed query and vector
//! search on an encrypted database against a plain one, in the same run (target: at most
//! 1.3x; docs/benchmarks.md, "Encryption at rest").
//!
//! Each database is reopened after the insert, so the reads start from an empty redb cache
//! and every page they need is read (and, encrypted, authenticated and decrypted) from disk.
//! Embeddings are `hash:256` (no model in the loop: the cost measured is the storage's).
//!
//! Run: `cargo bench -p rem-host --bench encryption`. `APT_LISTS` overrides the catalog
//! location; `REM_BENCH_ROUNDS` the reads per measurement (default 2000); `REM_BENCH_INSERT_ROUNDS`
//! the inserts per database (default 3, median reported).

use std::path::Path;
use std::time::{Duration, Instant};

use rem_host::crypto::Password;
use rem_host::{Database, OpenOptions, SearchOptions, SearchQuery};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn open(dir: &Path, encrypted: bool) -> Database {
    let mut options = OpenOptions::at(dir);
    if encrypted {
        options.password = Some(Password::new("benchmark password").unwrap());
    }
    Database::open(options).unwrap()
}

struct Figures {
    insert: Duration,
    get: Duration,
    warm: Duration,
    query: Duration,
    search: Duration,
    file_bytes: u64,
}

fn run(
    root: &Path,
    encrypted: bool,
    schema: &str,
    rows: &[String],
    names: &[String],
    rounds: usize,
    inserts: usize,
) -> Figures {
    let mut times = Vec::new();
    let mut dir = root.to_path_buf();
    for i in 0..inserts {
        dir = root.join(format!("{}-{i}", if encrypted { "encrypted" } else { "plain" }));
        let db = open(&dir, encrypted);
        db.register_schema("packages", schema).unwrap();
        let t = Instant::now();
        db.insert_batch("packages", rows).unwrap();
        times.push(t.elapsed());
    }
    let db = open(&dir, encrypted);
    let mut rng = fastrand::Rng::with_seed(7);
    let picks: Vec<&String> = (0..rounds).map(|_| &names[rng.usize(..names.len())]).collect();
    let ids: Vec<String> = picks
        .iter()
        .map(|n| {
            let hits = db.lookup(n).unwrap();
            let hit: serde_json::Value = serde_json::from_str(&hits[0]).unwrap();
            hit["id"].as_str().unwrap().to_string()
        })
        .collect();
    drop(db);
    let db = open(&dir, encrypted);
    let t = Instant::now();
    for id in &ids {
        db.get(id).unwrap().unwrap();
    }
    let get = t.elapsed() / rounds as u32;
    // The same ids again: their pages are in redb's cache now (decrypted once).
    let t = Instant::now();
    for id in &ids {
        db.get(id).unwrap().unwrap();
    }
    let warm = t.elapsed() / rounds as u32;
    let sections = ["web", "python", "libs", "devel", "utils", "net", "admin", "x11"];
    let t = Instant::now();
    for i in 0..rounds / 4 {
        let sql =
            format!("SELECT name, version FROM packages WHERE section = '{}' LIMIT 20", sections[i % sections.len()]);
        db.query(&sql).unwrap();
    }
    let query = t.elapsed() / (rounds / 4) as u32;
    let t = Instant::now();
    for n in picks.iter().take(rounds / 4) {
        let q = SearchQuery::Text(format!("{n} library tool"));
        db.search("packages", &q, &SearchOptions { top_k: 10, ..Default::default() }).unwrap();
    }
    let search = t.elapsed() / (rounds / 4) as u32;
    let file_bytes = std::fs::metadata(dir.join("rem.redb")).unwrap().len();
    Figures { insert: median(times), get, warm, query, search, file_bytes }
}

fn main() {
    let lists = std::env::var("APT_LISTS").unwrap_or_else(|_| "/var/lib/apt/lists".into());
    let packages = debian_catalog::load(Path::new(&lists)).expect("load the Debian catalog (run apt-get update first)");
    let rows: Vec<String> = packages.iter().map(|p| serde_json::to_string(p).unwrap()).collect();
    let names: Vec<String> = packages.iter().map(|p| p.name.clone()).collect();
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/debian-catalog/package.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    schema["indexed_fields"] = serde_json::json!(["section"]);
    schema["embedding_fields"] = serde_json::json!(["summary"]);
    schema["embedding_provider"] = serde_json::json!("hash:256");
    let schema = schema.to_string();
    let rounds: usize = std::env::var("REM_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let inserts: usize = std::env::var("REM_BENCH_INSERT_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    println!("catalog: {} packages; {rounds} reads per measurement, {inserts} inserts per database", rows.len());
    let tmp = tempfile::tempdir().unwrap();
    let plain = run(tmp.path(), false, &schema, &rows, &names, rounds, inserts);
    let sealed = run(tmp.path(), true, &schema, &rows, &names, rounds, inserts);
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!("| measurement | encrypted | plain, same run | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| batch insert, {} rows (median of {inserts}) | {:.3} s | {:.3} s | {:.2}x |",
        rows.len(),
        sealed.insert.as_secs_f64(),
        plain.insert.as_secs_f64(),
        ratio(sealed.insert, plain.insert)
    );
    for (what, a, b) in [
        ("get by id, cold cache (each page read from the file)", sealed.get, plain.get),
        ("get by id, the same ids again (pages in redb's cache)", sealed.warm, plain.warm),
        ("indexed query (`section = ...`, LIMIT 20)", sealed.query, plain.query),
        ("vector search top-10 (hash:256)", sealed.search, plain.search),
    ] {
        println!(
            "| {what} | {:.1} µs | {:.1} µs | {:.2}x |",
            a.as_secs_f64() * 1e6,
            b.as_secs_f64() * 1e6,
            ratio(a, b)
        );
    }
    println!(
        "| file size | {:.1} MiB | {:.1} MiB | {:.2}x |",
        sealed.file_bytes as f64 / 1048576.0,
        plain.file_bytes as f64 / 1048576.0,
        sealed.file_bytes as f64 / plain.file_bytes as f64
    );
}
