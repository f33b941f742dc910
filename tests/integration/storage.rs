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
fn bad_tenant_is_refused_at_open() {
    assert!(matches!(Database::open(OpenOptions::in_memory().tenant("")), Err(Error::InvalidArgument(_))));
    assert!(matches!(Database::open(OpenOptions::in_memory().tenant("x".repeat(129))), Err(Error::InvalidArgument(_))));
}
