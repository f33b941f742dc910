//! Reads on every core: one handle answers reads from several threads at once (spare engine
//! instances, each in its own snapshot), beside a writer, and compacts afterwards (issue 32).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rem_host::{Database, OpenOptions};
use rem_tests::parse;
use serde_json::json;

#[test]
fn reads_run_side_by_side_with_each_other_and_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::open(OpenOptions::at(dir.path())).unwrap());
    let schema = json!({"type": "object", "key_field": "k", "indexed_fields": ["g"],
                        "properties": {"k": {"type": "string"}, "g": {"type": "integer"}}});
    db.register_schema("t", &schema.to_string()).unwrap();
    db.register_schema("log", &schema.to_string()).unwrap();
    let rows: Vec<String> = (0..5000).map(|i| json!({"k": format!("k{i}"), "g": i % 10}).to_string()).collect();
    db.insert_batch("t", &rows).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let batch: Vec<String> =
                    (n..n + 100).map(|i| json!({"k": format!("l{i}"), "g": 0}).to_string()).collect();
                db.insert_batch("log", &batch).unwrap();
                n += 100;
            }
            n
        })
    };
    let readers: Vec<_> = (0..4)
        .map(|r| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in 0..150 {
                    let g = (i + r) % 10;
                    let got = parse(&db.query(&format!("SELECT COUNT(*) AS n FROM t WHERE g = {g}")).unwrap());
                    assert_eq!(got[0]["n"], 500, "each read sees whole snapshots");
                    // The writer's table, read mid-write: always whole batches.
                    let logged = parse(&db.query("SELECT COUNT(*) AS n FROM log").unwrap());
                    assert_eq!(logged[0]["n"].as_u64().unwrap() % 100, 0);
                }
            })
        })
        .collect();
    for r in readers {
        r.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores > 1 {
        assert!(db.read_instances() > 1, "reads met a busy instance and used a spare");
    }
    assert!(db.read_instances() <= cores.min(8));
    // Compaction drains the spares (it needs the only reference to the file), then reads go on.
    db.execute("DELETE FROM log HARD", None).unwrap();
    let report = db.compact().unwrap();
    assert!(report.file_bytes_after <= report.file_bytes_before);
    assert_eq!(db.read_instances(), 1);
    assert_eq!(parse(&db.query("SELECT COUNT(*) AS n FROM log").unwrap())[0]["n"], 0);
    assert!(written > 0);
}
