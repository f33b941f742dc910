//! Query benchmarks: REM through the component against SQLite with
//! expression indexes on the same JSON data, same queries, same run.
//!
//! Data: 100,000 generated items (1,000 categories of ~100 items, a price, a
//! quantity, three tags, a short description). REM indexes `category` (a
//! covering field: its index keeps row copies) and `price`; SQLite stores each row as a JSON document with expression indexes
//! on `json_extract(doc, '$.category')` and `json_extract(doc, '$.price')`.
//!
//! Each case alternates chunks of 10 REM calls and 10 SQLite calls and reports both medians.
//!
//! Run: `cargo bench -p rem-host --bench query` (`REM_QUERY_ROWS` overrides the row count).

use std::time::{Duration, Instant};

use rem_host::{Database, OpenOptions};
use serde_json::json;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let n = f(); // warm-up, and the result size
    (
        median(
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect(),
        ),
        n,
    )
}

/// Time `a` and `b` in alternating chunks of [`CHUNK`] calls, `runs` calls each, so that a slow
/// spell of the shared machine hits both sides while each chunk still runs with warm caches;
/// returns both medians (after one warm-up call each).
fn time_pair(runs: usize, mut a: impl FnMut() -> usize, mut b: impl FnMut() -> usize) -> (Duration, Duration) {
    a();
    b();
    let (mut ta, mut tb) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    while ta.len() < runs {
        for (f, times) in [(&mut a as &mut dyn FnMut() -> usize, &mut ta), (&mut b, &mut tb)] {
            for _ in 0..CHUNK.min(runs - times.len()) {
                let t = Instant::now();
                f();
                times.push(t.elapsed());
            }
        }
    }
    (median(ta), median(tb))
}

/// Calls per side before [`time_pair`] switches to the other.
const CHUNK: usize = 10;

fn main() {
    let n: usize = std::env::var("REM_QUERY_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let colours = ["red", "green", "blue", "black", "white", "silver", "gold"];
    let rows: Vec<String> = (0..n)
        .map(|i| {
            json!({
                "name": format!("item-{i:06}"),
                "category": format!("cat-{:04}", (i * 7919) % 1000),
                "price": ((i * 2654435761) % 100_000) as f64 / 100.0,
                "qty": (i * 31) % 500,
                "tags": [colours[i % 7], colours[(i / 7) % 7], format!("batch-{}", i % 13)],
                "description": format!("A {} widget from batch {} with {} parts", colours[(i / 3) % 7], i % 13, i % 17)
            })
            .to_string()
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();

    let db = Database::open(OpenOptions::at(tmp.path().join("rem"))).unwrap();
    let schema = json!({
        "type": "object", "key_field": "name", "indexed_fields": ["category", "price"], "covering_fields": ["category"],
        "properties": {"name": {"type": "string"}, "category": {"type": "string"}, "price": {"type": "number"},
                       "qty": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}},
                       "description": {"type": "string"}}
    });
    db.register_schema("items", &schema.to_string()).unwrap();
    let t = Instant::now();
    db.insert_batch_with_progress("items", &rows, 1000, &mut |_| {}).unwrap();
    let rem_load = t.elapsed();

    let lite = rusqlite::Connection::open(tmp.path().join("lite.db")).unwrap();
    lite.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE items (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);")
        .unwrap();
    let t = Instant::now();
    {
        let tx = lite.unchecked_transaction().unwrap();
        {
            let mut ins = tx.prepare("INSERT INTO items (doc) VALUES (?1)").unwrap();
            for r in &rows {
                ins.execute([r]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    lite.execute_batch(
        "CREATE INDEX items_category ON items (json_extract(doc, '$.category'));
         CREATE INDEX items_price ON items (json_extract(doc, '$.price')); ANALYZE;",
    )
    .unwrap();
    let lite_load = t.elapsed();
    println!(
        "rows: {n}; load: REM {:.2} s (validated, indexed), SQLite {:.2} s (insert + index build)",
        rem_load.as_secs_f64(),
        lite_load.as_secs_f64()
    );
    // Blocks allocated on disk (redb grows its file in sparse regions, so the length says less).
    let mib = |p: std::path::PathBuf| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).map_or(0.0, |m| (m.blocks() * 512) as f64 / 1048576.0)
    };
    println!(
        "on disk: REM {:.1} MiB (rows, indexes and their row copies), SQLite {:.1} MiB (+ {:.1} MiB WAL)",
        mib(tmp.path().join("rem").join(rem_host::config::DB_FILE)),
        mib(tmp.path().join("lite.db")),
        mib(tmp.path().join("lite.db-wal"))
    );
    // The same rows in a table whose indexes keep no row copies, for the ordinary lookup.
    let mut plain_schema = schema.clone();
    plain_schema.as_object_mut().unwrap().remove("covering_fields");
    db.register_schema("items_plain", &plain_schema.to_string()).unwrap();
    db.insert_batch_with_progress("items_plain", &rows, 1000, &mut |_| {}).unwrap();

    let lite_count = |sql: &str| -> usize {
        let mut stmt = lite.prepare_cached(sql).unwrap();
        let cols = stmt.column_count();
        let mut q = stmt.query([]).unwrap();
        let mut n = 0;
        while let Some(row) = q.next().unwrap() {
            for c in 0..cols {
                let _ = row.get_ref(c).unwrap();
            }
            n += 1;
        }
        n
    };
    // Timed: the query returning its JSON text (as SQLite's side reads its values); counted once, untimed.
    let rem_rows = |sql: &str| -> usize {
        serde_json::from_str::<serde_json::Value>(&db.query(sql).unwrap()).unwrap().as_array().unwrap().len()
    };
    let rem_query = |sql: &str| -> usize { db.query(sql).unwrap().len() };
    let cases = [
        (
            "indexed equality (~100 rows)",
            "SELECT * FROM items WHERE category = 'cat-0042'",
            "SELECT id, doc FROM items WHERE json_extract(doc, '$.category') = 'cat-0042'",
            200,
        ),
        (
            "  ↳ the same in a table without covering_fields (ordinary lookup)",
            "SELECT * FROM items_plain WHERE category = 'cat-0042'",
            "SELECT id, doc FROM items WHERE json_extract(doc, '$.category') = 'cat-0042'",
            200,
        ),
        (
            "  ↳ the same plus a second condition (ordinary lookup, no row copies)",
            "SELECT * FROM items WHERE category = 'cat-0042' AND qty >= 0",
            "SELECT id, doc FROM items WHERE json_extract(doc, '$.category') = 'cat-0042' AND json_extract(doc, '$.qty') >= 0",
            200,
        ),
        (
            "range + ORDER BY ... LIMIT 10",
            "SELECT name, price FROM items WHERE price > 500 ORDER BY price LIMIT 10",
            "SELECT json_extract(doc, '$.name'), json_extract(doc, '$.price') FROM items WHERE json_extract(doc, '$.price') > 500 ORDER BY json_extract(doc, '$.price') LIMIT 10",
            200,
        ),
        (
            "COUNT(*) GROUP BY indexed field",
            "SELECT category, COUNT(*) AS n FROM items GROUP BY category",
            "SELECT json_extract(doc, '$.category'), COUNT(*) FROM items GROUP BY json_extract(doc, '$.category')",
            20,
        ),
        (
            "full-scan filter (LIKE on a non-indexed field)",
            "SELECT COUNT(*) AS n FROM items WHERE description LIKE '%gold widget%'",
            "SELECT COUNT(*) FROM items WHERE json_extract(doc, '$.description') LIKE '%gold widget%'",
            5,
        ),
    ];
    println!("\n| query | REM median | SQLite median | REM / SQLite | rows returned |");
    println!("|---|---|---|---|---|");
    for (what, rem_sql, lite_sql, runs) in cases {
        let (r, l) = time_pair(runs, || rem_query(rem_sql), || lite_count(lite_sql));
        let (rn, ln) = (rem_rows(rem_sql), lite_count(lite_sql));
        assert_eq!(rn, ln, "{what}: REM returned {rn} rows, SQLite {ln}");
        println!(
            "| {what} | {:.3} ms | {:.3} ms | {:.2}x | {rn} |",
            r.as_secs_f64() * 1e3,
            l.as_secs_f64() * 1e3,
            r.as_secs_f64() / l.as_secs_f64()
        );
        if what.starts_with("full-scan") {
            println!(
                "|  ↳ full-scan rate | {:.0} rows/s | {:.0} rows/s | | |",
                n as f64 / r.as_secs_f64(),
                n as f64 / l.as_secs_f64()
            );
        }
    }
    // Diagnostics: the fixed cost of a query, and a scan that decodes one small field.
    for (what, sql) in [
        ("fixed cost: indexed equality matching nothing", "SELECT name FROM items WHERE category = 'none'"),
        ("full scan reading only `qty`", "SELECT COUNT(*) AS n FROM items WHERE qty = -1"),
    ] {
        let (t, _) = time(5, || rem_query(sql));
        println!("| {what} | {:.3} ms | | | |", t.as_secs_f64() * 1e3);
    }
    for (_, sql, _, _) in cases {
        println!("EXPLAIN {sql}\n  {}", db.query(&format!("EXPLAIN {sql}")).unwrap());
    }
}
