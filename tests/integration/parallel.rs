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

#[test]
fn an_instance_never_searches_a_graph_cached_from_an_earlier_build() {
    // Two engine instances on one file (a spare, a server's pooled handle, a for_tenant handle):
    // one caches the graph, the other re-embeds the table with another model, which builds the
    // index anew from generation 0. The first must not take its cached graph for the new one.
    let dir = tempfile::tempdir().unwrap();
    let a = Database::open(OpenOptions::at(dir.path())).unwrap();
    let b = a.for_tenant("default").unwrap();
    let schema = |model: &str| {
        json!({"type": "object", "key_field": "k", "embedding_fields": ["text"], "embedding_provider": model,
               "properties": {"k": {"type": "string"}, "text": {"type": "string"}}})
        .to_string()
    };
    a.register_schema("t", &schema("hash:8")).unwrap();
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
    let rows: Vec<String> = words.iter().map(|w| json!({"k": w, "text": w}).to_string()).collect();
    a.insert_batch("t", &rows).unwrap();
    let top = |db: &Database, text: &str| -> String {
        let hits = parse(
            &db.search(
                "t",
                &rem_host::SearchQuery::Text(text.into()),
                &rem_host::SearchOptions { top_k: 1, ..Default::default() },
            )
            .unwrap(),
        );
        hits[0]["properties"]["k"].as_str().unwrap().to_string()
    };
    assert_eq!(top(&a, "delta"), "delta");
    // The other instance changes a row (generation 2), then re-embeds, which builds the graph
    // anew: generation 1 again, as the first instance's cached graph.
    b.insert("t", &json!({"k": "delta", "text": "zulu"}).to_string()).unwrap();
    b.rebuild_index("t", true).unwrap();
    assert_eq!(top(&a, "zulu"), "delta", "the first instance searches the new build");
}
