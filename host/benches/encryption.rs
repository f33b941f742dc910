//! Encryption at rest: the Debian catalog's batch insert, get by id, indexed query and vector
//! search on an encrypted database against a plain one, in the same run (target: at most
//! 1.3x; docs/benchmarks.md, "Encryption at rest").
//!
//! Both databases are reopened after the inserts, so the reads start from an empty redb cache
//! and every page they need is read (and, encrypted, authenticated and decrypted) from disk.
//! The reads alternate between the two databases in chunks of 50 calls, so the shared
//! machine's noise falls on both alike.
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

/// Load the catalog into a new database under `root` (`inserts` times, each into a fresh one);
/// the median insert time and the last database's directory.
fn load(root: &Path, encrypted: bool, schema: &str, rows: &[String], inserts: usize) -> (Duration, std::path::PathBuf) {
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
    (median(times), dir)
}

/// Reads per chunk: the two databases take turns, a chunk each, so that the machine's noise
/// falls on both alike.
const CHUNK: usize = 50;

/// Time `f(db, i)` for `i` in `0..n` on both databases, alternating chunks; total per side.
fn alternate(dbs: [&Database; 2], n: usize, f: impl Fn(&Database, usize)) -> [Duration; 2] {
    let mut total = [Duration::ZERO; 2];
    for start in (0..n).step_by(CHUNK) {
        for (side, db) in dbs.iter().enumerate() {
            let t = Instant::now();
            for i in start..(start + CHUNK).min(n) {
                f(db, i);
            }
            total[side] += t.elapsed();
        }
    }
    total
}

/// Per-call times of the reads, `[plain, encrypted]` each.
struct Reads {
    get: [Duration; 2],
    warm: [Duration; 2],
    query: [Duration; 2],
    search: [Duration; 2],
}

fn reads(dirs: [&Path; 2], names: &[String], rounds: usize) -> Reads {
    let mut rng = fastrand::Rng::with_seed(7);
    let picks: Vec<&String> = (0..rounds).map(|_| &names[rng.usize(..names.len())]).collect();
    // The ids are the same in both (BLAKE3 of table and key); found once, in the plain one.
    let ids: Vec<String> = {
        let db = open(dirs[0], false);
        picks
            .iter()
            .map(|n| {
                let hits = db.lookup(n).unwrap();
                let hit: serde_json::Value = serde_json::from_str(&hits[0]).unwrap();
                hit["id"].as_str().unwrap().to_string()
            })
            .collect()
    };
    // Reopened: redb's caches start empty, so each first read of a page reads the file.
    let (plain, sealed) = (open(dirs[0], false), open(dirs[1], true));
    let dbs = [&plain, &sealed];
    let per = |t: [Duration; 2], n: usize| t.map(|d| d / n as u32);
    let get = per(alternate(dbs, rounds, |db, i| drop(db.get(&ids[i]).unwrap().unwrap())), rounds);
    // The same ids again: their pages are in redb's cache now (decrypted once).
    let warm = per(alternate(dbs, rounds, |db, i| drop(db.get(&ids[i]).unwrap().unwrap())), rounds);
    let sections = ["web", "python", "libs", "devel", "utils", "net", "admin", "x11"];
    let q = rounds / 4;
    let query = per(
        alternate(dbs, q, |db, i| {
            let sql = format!("SELECT name, version FROM packages WHERE section = '{}' LIMIT 20", sections[i % 8]);
            db.query(&sql).unwrap();
        }),
        q,
    );
    let search = per(
        alternate(dbs, q, |db, i| {
            let text = SearchQuery::Text(format!("{} library tool", picks[i]));
            db.search("packages", &text, &SearchOptions { top_k: 10, ..Default::default() }).unwrap();
        }),
        q,
    );
    Reads { get, warm, query, search }
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
    let (plain_insert, plain_dir) = load(tmp.path(), false, &schema, &rows, inserts);
    let (sealed_insert, sealed_dir) = load(tmp.path(), true, &schema, &rows, inserts);
    let r = reads([&plain_dir, &sealed_dir], &names, rounds);
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!("| measurement | encrypted | plain, same run | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| batch insert, {} rows (median of {inserts}) | {:.3} s | {:.3} s | {:.2}x |",
        rows.len(),
        sealed_insert.as_secs_f64(),
        plain_insert.as_secs_f64(),
        ratio(sealed_insert, plain_insert)
    );
    for (what, [b, a]) in [
        ("get by id, cold cache (each page read from the file)", r.get),
        ("get by id, the same ids again (pages in redb's cache)", r.warm),
        ("indexed query (`section = ...`, LIMIT 20)", r.query),
        ("vector search top-10 (hash:256)", r.search),
    ] {
        println!(
            "| {what} | {:.1} µs | {:.1} µs | {:.2}x |",
            a.as_secs_f64() * 1e6,
            b.as_secs_f64() * 1e6,
            ratio(a, b)
        );
    }
    let size = |dir: &Path| std::fs::metadata(dir.join("rem.redb")).unwrap().len() as f64;
    println!(
        "| file size | {:.1} MiB | {:.1} MiB | {:.2}x |",
        size(&sealed_dir) / 1048576.0,
        size(&plain_dir) / 1048576.0,
        size(&sealed_dir) / size(&plain_dir)
    );
}
