//! The served API against the in-process call, in one run (docs/benchmarks.md, "Served"):
//!
//! - per-call latency, one client, median and p99: `get` by id, an indexed `SELECT`
//!   (`WHERE section = ?`, 50 rows of 10,000), a top-10 `search` (hash:64 vectors, HNSW);
//! - reads/s with 1, 2, 4 and 8 client threads (indexed query), alone and with one writer
//!   inserting 100-row batches beside them (its rows/s too).
//!
//! The server runs in this process (`rem_server::serve_until`, real HTTP on loopback); the
//! clients are `rem_host::remote::Remote`. Run: `cargo bench -p rem-server --bench served`.
//! Prints JSON.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rem_host::remote::Remote;
use rem_host::{Api, Database, Embeddings, OpenOptions, SearchOptions, SearchQuery};
use serde_json::json;

const ROWS: usize = 10_000;
const SECTIONS: usize = 200;
const CALLS: usize = 3_000;

fn options(dir: &std::path::Path) -> OpenOptions {
    OpenOptions::at(dir).embeddings(Embeddings::new(Some("hash:64".into()), None)).call_timeout(None)
}

fn fill(db: &Database) -> Vec<String> {
    let schema = json!({"type": "object", "key_field": "name", "indexed_fields": ["section"],
        "embedding_fields": ["text"],
        "properties": {"name": {"type": "string"}, "section": {"type": "string"}, "text": {"type": "string"}}});
    db.register_schema("item", &schema.to_string()).unwrap();
    let rows: Vec<String> = (0..ROWS)
        .map(|i| {
            json!({"name": format!("item-{i}"), "section": format!("s{}", i % SECTIONS),
                   "text": format!("item {i} about topic {} and {}", i % 37, i % 91)})
            .to_string()
        })
        .collect();
    db.insert_batch("item", &rows).unwrap()
}

/// Median and p99 of `f` over CALLS calls, in microseconds.
fn latency(mut f: impl FnMut(usize)) -> (f64, f64) {
    for i in 0..100 {
        f(i);
    }
    let mut t: Vec<f64> = (0..CALLS)
        .map(|i| {
            let s = Instant::now();
            f(i);
            s.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[t.len() / 2], t[t.len() * 99 / 100])
}

fn ops(db: &dyn Api, ids: &[String]) -> serde_json::Value {
    let sql = "SELECT name FROM item WHERE section = ?";
    let get = latency(|i| assert!(db.get(&ids[i * 7919 % ids.len()]).unwrap().is_some()));
    let query = latency(|i| {
        db.query_with_params(sql, &json!([format!("s{}", i % SECTIONS)]).to_string()).unwrap();
    });
    let search = latency(|i| {
        let q = SearchQuery::Text(format!("topic {}", i % 37));
        db.search("item", &q, &SearchOptions::default()).unwrap();
    });
    json!({"get_us": {"median": get.0, "p99": get.1}, "indexed_query_us": {"median": query.0, "p99": query.1},
           "search_top10_us": {"median": search.0, "p99": search.1}})
}

/// Reads/s from `readers` threads (each its own client) for `secs`, with a writer beside them
/// when `writer`; (reads/s, written rows/s).
fn throughput(url: &str, readers: usize, writer: bool, secs: f64) -> (f64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let written = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for r in 0..readers {
        let (stop, reads, url) = (stop.clone(), reads.clone(), url.to_string());
        threads.push(std::thread::spawn(move || {
            let c = Remote::connect(&url, None, "default").unwrap();
            let mut i = r;
            while !stop.load(Ordering::Relaxed) {
                let params = json!([format!("s{}", i % SECTIONS)]).to_string();
                c.query_with_params("SELECT name FROM item WHERE section = ?", &params).unwrap();
                reads.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    if writer {
        let (stop, written, url) = (stop.clone(), written.clone(), url.to_string());
        threads.push(std::thread::spawn(move || {
            let c = Remote::connect(&url, None, "default").unwrap();
            let mut b = 0;
            while !stop.load(Ordering::Relaxed) {
                let rows: Vec<String> = (0..100)
                    .map(|i| {
                        json!({"name": format!("w-{b}-{i}"), "section": "w", "text": format!("written {i}")})
                            .to_string()
                    })
                    .collect();
                c.insert_batch("item", &rows).unwrap();
                written.fetch_add(100, Ordering::Relaxed);
                b += 1;
            }
        }));
    }
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    (reads.load(Ordering::Relaxed) as f64 / secs, written.load(Ordering::Relaxed) as f64 / secs)
}

/// Median and p99 of one request `req` written by hand to a kept-alive socket (no HTTP
/// client library): the server's share of a call, in microseconds.
fn raw_http(url: &str, req: &str) -> (f64, f64) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    s.set_nodelay(true).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    latency(|_| {
        s.write_all(req.as_bytes()).unwrap();
        let mut got = 0;
        loop {
            got += s.read(&mut buf[got..]).unwrap();
            let text = std::str::from_utf8(&buf[..got]).unwrap();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap();
                if body.len() >= len {
                    break;
                }
            }
        }
    })
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let db = Database::open(options(&path)).unwrap();
    let ids = fill(&db);
    let in_process = ops(&db, &ids);
    drop(db);

    let server =
        rem_server::spawn(rem_server::ServeOptions::loopback(options(&path), rem_server::default_readers())).unwrap();
    let url = server.url.clone();
    let remote = Remote::connect(&url, None, "default").unwrap();
    let served = ops(&remote, &ids);
    let health = latency(|_| {
        remote.health().unwrap();
    });
    let body = json!({"id": ids[0]}).to_string();
    let raw_health = raw_http(&url, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
    let raw_get = raw_http(
        &url,
        &format!(
            "POST /v1/get HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    let transport = json!({
        "health_us": {"median": health.0, "p99": health.1},
        "health_raw_socket_us": {"median": raw_health.0, "p99": raw_health.1},
        "get_raw_socket_us": {"median": raw_get.0, "p99": raw_get.1},
    });
    let mut scaling = Vec::new();
    // REM_BENCH_QUICK=1: the per-call figures only.
    let counts: &[usize] = if std::env::var("REM_BENCH_QUICK").is_ok() { &[] } else { &[1, 2, 4, 8] };
    for &readers in counts {
        let (alone, _) = throughput(&url, readers, false, 3.0);
        let (beside, rows) = throughput(&url, readers, true, 3.0);
        scaling.push(json!({"readers": readers, "reads_per_s": alone.round(),
            "reads_per_s_with_writer": beside.round(), "writer_rows_per_s": rows.round()}));
    }
    server.stop().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({"rows": ROWS, "cores": cores, "in_process": in_process,
            "served": served, "transport": transport, "served_throughput": scaling}))
        .unwrap()
    );
}
