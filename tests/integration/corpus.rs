//! The query corpus (`tests/corpus/*.json`): statements with their expected
//! rows or error, run through the real component against the same data with
//! and without secondary indexes.

use rem_host::{Database, Error};
use serde_json::Value;

fn kind(e: &Error) -> &'static str {
    e.kind()
}

fn load(doc: &Value, indexed: bool) -> Database {
    let db = Database::in_memory().unwrap();
    let mut schema = doc["schema"].clone();
    if indexed {
        schema["indexed_fields"] = doc["indexed_fields"].clone();
    }
    db.register_schema("person", &schema.to_string()).unwrap();
    let rows: Vec<String> = doc["rows"].as_array().unwrap().iter().map(|r| r.to_string()).collect();
    db.insert_batch("person", &rows).unwrap();
    db
}

#[test]
fn select_corpus() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/select.json")).unwrap(),
    )
    .unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() > 60);
    for indexed in [false, true] {
        let db = load(&doc, indexed);
        for case in cases {
            let sql = case["sql"].as_str().unwrap();
            let got = db.query(sql);
            let ctx = format!("{sql} (indexed: {indexed})");
            if let Some(want_kind) = case.get("error").and_then(Value::as_str) {
                let err = got.expect_err(&ctx);
                assert_eq!(kind(&err), want_kind, "{ctx}: {err}");
                let msg = err.to_string();
                assert!(msg.contains(case["contains"].as_str().unwrap()), "{ctx}: {msg}");
                continue;
            }
            let rows: Value = serde_json::from_str(&got.unwrap_or_else(|e| panic!("{ctx}: {e}"))).unwrap();
            if let Some(n) = case.get("row_count") {
                assert_eq!(rows.as_array().unwrap().len() as u64, n.as_u64().unwrap(), "{ctx}");
            } else {
                assert_eq!(rows, case["rows"], "{ctx}");
            }
        }
    }
}
