use rem_host::{Database, Error, OpenOptions};
use rem_tests::{parse, person_schema};
use serde_json::json;

#[test]
fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open_path(dir.path()).unwrap();
        db.register_schema("person", &person_schema().to_string()).unwrap();
        db.insert("person", &json!({"name": "Alice", "age": 30}).to_string()).unwrap();
    }
    let db = Database::open_path(dir.path()).unwrap();
    assert_eq!(db.count("person").unwrap(), 1);
    assert_eq!(parse(&db.lookup("Alice").unwrap()[0])["properties"]["age"], 30);
}

#[test]
fn second_handle_is_refused_while_open() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Database::open_path(dir.path()).unwrap();
    match Database::open_path(dir.path()) {
        Err(Error::Locked(p)) => assert_eq!(p, dir.path()),
        Err(other) => panic!("expected Locked, got {other:?}"),
        Ok(_) => panic!("a second handle opened a locked database"),
    }
}

#[test]
fn memory_cap_fails_the_call_and_the_database_stays_usable() {
    let db = Database::open(OpenOptions::in_memory().memory_limit(64 * 1024 * 1024)).unwrap();
    db.register_schema(
        "blob",
        &json!({"type": "object", "properties": {"name": {"type": "string"}, "data": {"type": "string"}}}).to_string(),
    )
    .unwrap();
    db.insert("blob", &json!({"name": "small", "data": "x"}).to_string()).unwrap();
    // 48 rows of 1 MiB in one call: the guest needs well over 64 MiB.
    let big = "y".repeat(1024 * 1024);
    let rows: Vec<String> = (0..48).map(|i| json!({"name": format!("b{i}"), "data": big}).to_string()).collect();
    let err = db.insert_batch("blob", &rows).unwrap_err();
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    assert_eq!(db.count("blob").unwrap(), 1, "the failed call wrote nothing");
    db.insert("blob", &json!({"name": "after", "data": "z"}).to_string()).unwrap();
    assert_eq!(db.count("blob").unwrap(), 2);
}

#[test]
fn a_call_past_its_deadline_times_out_and_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let schema = json!({"type": "object", "properties": {"k": {"type": "string"}, "text": {"type": "string"}}, "key_field": "k"});
    let rows: Vec<String> = (0..60_000)
        .map(|i| json!({"k": format!("k{i}"), "text": format!("row {i} of a long table")}).to_string())
        .collect();
    {
        let db = Database::open_path(dir.path()).unwrap();
        db.register_schema("t", &schema.to_string()).unwrap();
        db.insert_batch("t", &rows[..30_000]).unwrap();
    }
    let db =
        Database::open(OpenOptions::at(dir.path()).call_timeout(Some(std::time::Duration::from_millis(10)))).unwrap();
    // A full scan of 30,000 rows with a LIKE takes far longer than 10 ms.
    let err = db.query("SELECT COUNT(*) FROM t WHERE text LIKE '%of a long%' AND text LIKE '%row 1%'").unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert_eq!(err.kind(), "timeout");
    // A write past its deadline keeps nothing.
    let err = db.insert_batch("t", &rows[30_000..]).unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    // The handle keeps working, and the data is what it was.
    assert_eq!(db.count("t").unwrap(), 30_000);
    assert_eq!(db.lookup("k7").unwrap().len(), 1);
    assert!(db.lookup("k40000").unwrap().is_empty());
}

#[test]
fn bad_tenant_is_refused_at_open() {
    assert!(matches!(Database::open(OpenOptions::in_memory().tenant("")), Err(Error::InvalidArgument(_))));
    assert!(matches!(Database::open(OpenOptions::in_memory().tenant("x".repeat(129))), Err(Error::InvalidArgument(_))));
}

#[test]
fn the_write_pipeline_on_or_off_stores_the_same_rows() {
    // Enough rows that each engine call's writes reach the pipeline's threshold, with upserts of
    // rows written by an earlier chunk of the same transaction (read while a batch is in flight).
    let rows: Vec<String> =
        (0..6_000).map(|i| json!({"name": format!("p{}", i % 4_000), "age": i}).to_string()).collect();
    let mut answers = Vec::new();
    for pipeline in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(OpenOptions::at(dir.path()).write_pipeline(pipeline)).unwrap();
        db.register_schema("person", &person_schema().to_string()).unwrap();
        db.insert_batch_with_progress("person", &rows, 1_000, &mut |_| {}).unwrap();
        assert_eq!(db.count("person").unwrap(), 4_000);
        answers.push(db.query("SELECT name, age FROM person ORDER BY name").unwrap());
    }
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].contains(r#"{"name":"p0","age":4000}"#), "the later row of a key wins");
}
