//! Storage and entity benchmarks (inserts, point reads, start-up), each a ratio measured in
//! one run (see docs/benchmarks.md):
//!
//! 1. batch insert of the Debian catalog through the component, against writing
//!    the same JSON values straight into a redb table in one transaction;
//! 2. get by id and lookup by key through the component, against the same
//!    `rem-core` code built natively over the same redb transaction layer;
//! 3. CLI start-up with a cached compiled component (`rem count packages`).
//!
//! Run: `cargo bench -p rem-host --bench engine` (after `cargo build --release -p rem-cli`).
//! `APT_LISTS` overrides the catalog location; `REM_BENCH_ROUNDS` the lookup count;
//! `REM_BENCH_INSERT_ROUNDS` the batch-insert rounds (default 3).

use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, Instant};

use rem_core::storage::store::{Page, Storage, WriteOp};
use rem_host::kv::{KV, Txn};
use rem_host::{Database, OpenOptions};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// `rem-core` natively over redb, one transaction per engine call like the host.
struct NativeRedb {
    db: redb::Database,
    txn: RefCell<Option<Txn>>,
}

impl NativeRedb {
    fn with<T>(&self, write: bool, f: impl FnOnce() -> T) -> T {
        let t = if write { Txn::write(&self.db) } else { Txn::read(&self.db) }.unwrap();
        *self.txn.borrow_mut() = Some(t);
        let out = f();
        self.txn.borrow_mut().take().unwrap().commit().unwrap();
        out
    }
}

impl Storage for NativeRedb {
    fn get(&self, key: &[u8]) -> rem_core::Result<Option<Vec<u8>>> {
        Ok(self.txn.borrow().as_ref().unwrap().get(key).unwrap())
    }
    fn get_many(&self, keys: &[Vec<u8>]) -> rem_core::Result<Vec<Option<Vec<u8>>>> {
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let (data, ends) = self.txn.borrow().as_ref().unwrap().get_many(&keys).unwrap();
        rem_core::storage::packed::unpack_values(&data, &ends, keys.len())
    }
    fn scan(&self, start: &[u8], end: Option<&[u8]>, limit: u32, reverse: bool) -> rem_core::Result<Page> {
        let (data, ends) = self.txn.borrow_mut().as_mut().unwrap().scan(start, end, limit, reverse).unwrap();
        Page::new(data, ends)
    }
    fn write(&self, ops: Vec<WriteOp>) -> rem_core::Result<()> {
        let (data, key_ends, value_ends) = rem_core::storage::packed::pack_batch(&ops);
        let batch = rem_host::kv::Batch::new(data, key_ends, value_ends).unwrap();
        self.txn.borrow_mut().as_mut().unwrap().apply(batch).unwrap();
        Ok(())
    }
}

fn main() {
    let lists = std::env::var("APT_LISTS").unwrap_or_else(|_| "/var/lib/apt/lists".into());
    let packages = debian_catalog::load(Path::new(&lists)).expect("load the Debian catalog (run apt-get update first)");
    let rows: Vec<String> = packages.iter().map(|p| serde_json::to_string(p).unwrap()).collect();
    let names: Vec<String> = packages.iter().map(|p| p.name.clone()).collect();
    let schema =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/debian-catalog/package.schema.json"))
            .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    println!(
        "catalog: {} packages, {:.1} MiB of JSON",
        rows.len(),
        rows.iter().map(|r| r.len()).sum::<usize>() as f64 / 1048576.0
    );

    // 1. Batch insert: component vs raw redb, same machine, same run. Rounds alternate raw redb,
    // REM with the write pipeline and REM without it, so a slow spell of the machine hits all three;
    // medians are compared.
    let rounds: usize = std::env::var("REM_BENCH_INSERT_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    let (mut raw_t, mut on_t, mut off_t) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let raw_path = tmp.path().join(format!("raw-{round}.redb"));
        let raw = redb::Database::create(&raw_path).unwrap();
        let t0 = Instant::now();
        let w = raw.begin_write().unwrap();
        {
            let mut t = w.open_table(KV).unwrap();
            for (n, r) in names.iter().zip(&rows) {
                t.insert(n.as_bytes(), r.as_bytes()).unwrap();
            }
        }
        w.commit().unwrap();
        raw_t.push(t0.elapsed());
        drop(raw);
        std::fs::remove_file(&raw_path).unwrap();
        for (pipeline, times) in [(true, &mut on_t), (false, &mut off_t)] {
            let dir = tmp.path().join(format!("rem-{round}-{pipeline}"));
            let db = Database::open(OpenOptions::at(&dir).tenant("default").write_pipeline(pipeline)).unwrap();
            db.register_schema("packages", &schema).unwrap();
            let t0 = Instant::now();
            db.insert_batch_with_progress("packages", &rows, rem_host::DEFAULT_BATCH_CHUNK, &mut |_| {}).unwrap();
            times.push(t0.elapsed());
            drop(db);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    println!("\n## batch insert ({} rows, one transaction; medians of {rounds} alternating rounds)", rows.len());
    let runs = |v: &[Duration]| v.iter().map(|d| format!("{:.3}", d.as_secs_f64())).collect::<Vec<_>>().join(", ");
    let raw_secs = median(raw_t.clone()).as_secs_f64();
    println!(
        "raw redb (same JSON values, key = name):  {raw_secs:.3} s  {:>9.0} rows/s  (runs: {} s)",
        rows.len() as f64 / raw_secs,
        runs(&raw_t)
    );
    for (what, times) in [("REM, write pipeline on: ", &on_t), ("REM, write pipeline off:", &off_t)] {
        let secs = median(times.clone()).as_secs_f64();
        println!(
            "{what}                 {secs:.3} s  {:>9.0} rows/s  (runs: {} s)  ratio REM / raw redb: {:.2}x",
            rows.len() as f64 / secs,
            runs(times),
            secs / raw_secs
        );
    }

    // The database the reads below use (loaded with the default settings, untimed).
    let db = Database::open(OpenOptions::at(tmp.path().join("rem")).tenant("default")).unwrap();
    db.register_schema("packages", &schema).unwrap();
    let ids = db.insert_batch_with_progress("packages", &rows, rem_host::DEFAULT_BATCH_CHUNK, &mut |_| {}).unwrap();

    // 2. get / lookup: component vs the same engine code natively over the same redb.
    let rounds: usize = std::env::var("REM_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let mut order: Vec<usize> = (0..ids.len()).collect();
    // Deterministic shuffle (xorshift) so both sides read the same keys in the same order.
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let sample: Vec<usize> = order.into_iter().take(rounds).collect();
    let time = |f: &mut dyn FnMut(usize)| -> Vec<Duration> {
        for &i in sample.iter().take(1000) {
            f(i); // warm-up
        }
        sample
            .iter()
            .map(|&i| {
                let t = Instant::now();
                f(i);
                t.elapsed()
            })
            .collect()
    };
    let comp_get = time(&mut |i| assert!(db.get(&ids[i]).unwrap().is_some()));
    let comp_lookup = time(&mut |i| assert_eq!(db.lookup(&names[i]).unwrap().len(), 1));
    drop(db);

    let native = NativeRedb {
        db: redb::Database::open(tmp.path().join("rem").join(rem_host::config::DB_FILE)).unwrap(),
        txn: RefCell::new(None),
    };
    let engine = rem_core::Database::new(&native, "default").unwrap();
    let nat_get = time(&mut |i| assert!(native.with(false, || engine.get(&ids[i]).unwrap()).is_some()));
    let nat_lookup = time(&mut |i| assert_eq!(native.with(false, || engine.lookup(&names[i]).unwrap()).len(), 1));
    println!("\n## point reads ({rounds} random keys, each its own read transaction)");
    for (what, comp, nat) in [("get by id", comp_get, nat_get), ("lookup by key", comp_lookup, nat_lookup)] {
        let (cm, nm) = (median(comp.clone()), median(nat.clone()));
        println!(
            "{what:<14} component median {:>6.1} µs (p99 {:>6.1})  native median {:>6.1} µs (p99 {:>6.1})  component tax {:.2}x",
            cm.as_secs_f64() * 1e6,
            pct(comp, 0.99).as_secs_f64() * 1e6,
            nm.as_secs_f64() * 1e6,
            pct(nat, 0.99).as_secs_f64() * 1e6,
            cm.as_secs_f64() / nm.as_secs_f64()
        );
    }
    drop(engine);
    drop(native);

    // 3. CLI start-up with the compiled component cached.
    let rem_bin = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/rem");
    if Path::new(rem_bin).exists() {
        let run = || {
            let t = Instant::now();
            let out = std::process::Command::new(rem_bin)
                .arg("--path")
                .arg(tmp.path().join("rem"))
                .args(["count", "packages"])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            t.elapsed()
        };
        run(); // make sure the compiled artifact is cached
        let times: Vec<Duration> = (0..30).map(|_| run()).collect();
        println!("\n## CLI start-up: `rem count packages`, compiled component cached (30 runs)");
        println!(
            "median {:.1} ms, p90 {:.1} ms",
            median(times.clone()).as_secs_f64() * 1e3,
            pct(times, 0.9).as_secs_f64() * 1e3
        );
    } else {
        println!("\n(build the CLI with `cargo build --release -p rem-cli` to measure start-up)");
    }
}
