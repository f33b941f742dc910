//! Values from callers that the engine must not mangle or echo at length: integers beyond 64
//! bits, huge bad values in validation messages, and schema patterns that could backtrack.

use rem_core::{Database, Error, MemoryStore};
use serde_json::{Value, json};

const BIG: &str = "123456789012345678901234567890";

fn db() -> Database<MemoryStore> {
    let db = Database::new(MemoryStore::new(), "t").unwrap();
    let schema = json!({"type": "object", "key_field": "k",
        "properties": {"k": {"type": "string"}, "n": {}, "s": {"type": "string", "maxLength": 5}}});
    db.register_schema("t", &schema.to_string()).unwrap();
    db
}

/// Every key and value in the store.
fn state(db: &Database<MemoryStore>) -> Vec<(Vec<u8>, Vec<u8>)> {
    use rem_core::Storage;
    db.store().scan(&[], None, u32::MAX, false).unwrap().into_kvs()
}

fn issues(e: Error) -> Vec<(String, String, String)> {
    match e {
        Error::Validation(issues) => issues.into_iter().map(|i| (i.loc_string(), i.kind.to_string(), i.msg)).collect(),
        other => panic!("not a validation error: {other:?}"),
    }
}

#[test]
fn integers_beyond_64_bits_are_refused_naming_the_field() {
    let db = db();
    let before = state(&db);
    let got = issues(db.insert("t", &format!(r#"{{"k": "a", "n": {BIG}}}"#)).unwrap_err());
    assert_eq!(got.len(), 1);
    let (loc, kind, msg) = &got[0];
    assert_eq!((loc.as_str(), kind.as_str()), ("n", "int_parsing_size"));
    assert!(msg.contains(BIG) && msg.contains("64 bits") && msg.contains("store it as a string"), "{msg}");
    let nested = issues(db.insert("t", &format!(r#"{{"k": "a", "n": {{"deep": [1, -{BIG}]}}}}"#)).unwrap_err());
    assert_eq!(nested[0].0, "n.deep.1");
    let batch = vec![r#"{"k": "ok"}"#.to_string(), format!(r#"{{"k": "b", "n": [{BIG}]}}"#)];
    let got = issues(db.insert_batch("t", &batch).unwrap_err());
    assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("1.n.0", "int_parsing_size"));
    assert_eq!(state(&db), before, "nothing was written");

    // The extremes of 64 bits are kept exactly, and floats stay floats however written.
    let stored: Value = serde_json::from_str(
        &db.insert("t", r#"{"k": "edge", "n": [18446744073709551615, -9223372036854775808, 1e30, 2.5E-3]}"#).unwrap(),
    )
    .unwrap();
    assert_eq!(stored["properties"]["n"], json!([u64::MAX, i64::MIN, 1e30, 0.0025]));
    assert_eq!(stored["properties"]["n"][0].as_u64(), Some(u64::MAX));

    let id = stored["id"].as_str().unwrap();
    let e = db.update(id, &format!(r#"{{"n": {BIG}}}"#)).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)) && e.to_string().contains("at n: integer"), "{e}");
    let e = db.query_with_params("SELECT k FROM t WHERE n = ?", &format!("[{BIG}]")).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)) && e.to_string().contains("at 0: integer"), "{e}");
    let e = db.register_schema("u", &format!(r#"{{"type": "object", "maximum": {BIG}}}"#)).unwrap_err();
    assert!(matches!(e, Error::InvalidSchema(_)) && e.to_string().contains("at maximum: integer"), "{e}");
}

#[test]
fn sql_integer_literals_are_exact_to_64_bits_and_refused_beyond() {
    let db = db();
    db.insert("t", r#"{"k": "max", "n": 18446744073709551615}"#).unwrap();
    db.insert("t", r#"{"k": "below", "n": 18446744073709551614}"#).unwrap();
    let keys = |sql: &str| db.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(keys("SELECT k FROM t WHERE n = 18446744073709551615"), r#"[{"k":"max"}]"#);
    assert_eq!(keys("SELECT k FROM t WHERE n < 18446744073709551615"), r#"[{"k":"below"}]"#);
    assert_eq!(
        db.query_with_params("SELECT k FROM t WHERE n = ?", "[18446744073709551614]").unwrap(),
        r#"[{"k":"below"}]"#
    );
    let e = db.query(&format!("SELECT k FROM t WHERE n = {BIG}")).unwrap_err();
    assert!(
        matches!(e, Error::InvalidQuery { .. })
            && e.to_string().contains(&format!("integer literal {BIG} does not fit")),
        "{e}"
    );
    // Written as a float, it is one.
    assert_eq!(keys(&format!("SELECT k FROM t WHERE n < {BIG}.0 ORDER BY k")), r#"[{"k":"below"},{"k":"max"}]"#);
}

#[test]
fn a_huge_bad_value_is_quoted_in_a_few_characters() {
    let db = db();
    let before = state(&db);
    let huge = "é".repeat(1 << 19); // 1 MiB of two-byte characters
    let e = db.insert("t", &json!({"k": "a", "s": huge}).to_string()).unwrap_err();
    let text = e.to_string();
    assert!(text.len() < 1024, "{} bytes", text.len());
    let got = issues(e);
    let (loc, kind, msg) = &got[0];
    assert_eq!((loc.as_str(), kind.as_str()), ("s", "string_too_long"));
    assert!(msg.starts_with(&format!("\"{}… (1048578 bytes)", "é".repeat(63))), "{msg}");
    assert!(msg.ends_with("is longer than 5 characters"), "{msg}");
    // A short bad value is quoted whole, as before.
    let short = issues(db.insert("t", r#"{"k": "a", "s": "toolong"}"#).unwrap_err());
    assert_eq!(short[0].2, "\"toolong\" is longer than 5 characters");
    // Values quoted by the engine's own checks are cut the same way.
    let e = db.get_many(&["z".repeat(1 << 20)]).unwrap_err().to_string();
    assert!(e.len() < 1024 && e.contains("is not an entity id"), "{e}");
    assert_eq!(db.get(&"z".repeat(1 << 20)).unwrap(), None, "a key no entity has");
    let e = db.delete(&"z".repeat(1 << 20), false).unwrap_err().to_string();
    assert!(e.len() < 1024 && e.contains("no entity with id or key"), "{e}");
    let edges = json!({"k": "b", "edges": [{"dst": "x".repeat(1 << 20), "rel_type": "r"}]});
    let e = db.insert("t", &edges.to_string()).unwrap_err().to_string();
    assert!(e.len() < 1024 && e.contains("edges.0.dst"), "{e}");
    assert_eq!(state(&db), before, "nothing was written");
    // Many bad values, one of them a huge property name.
    let strict = json!({"type": "object", "additionalProperties": false, "properties": {"a": {"type": "integer"}}});
    db.register_schema("strict", &strict.to_string()).unwrap();
    let row = json!({"a": "x".repeat(1 << 20), "y".repeat(1 << 20): 1});
    let e = db.insert("strict", &row.to_string()).unwrap_err().to_string();
    assert!(e.len() < 2048 && e.contains("a: ") && e.contains("extra_forbidden"), "{e}");
}

#[test]
fn schema_patterns_run_in_linear_time_and_lookaround_is_refused() {
    let db = db();
    let schema = json!({"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}},
        "patternProperties": {"^(x+x+)+y$": {"type": "integer"}}});
    db.register_schema("p", &schema.to_string()).unwrap();
    let evil = format!("{}b", "a".repeat(50_000));
    let got = issues(db.insert("p", &json!({"s": evil}).to_string()).unwrap_err());
    assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("s", "string_pattern_mismatch"));
    assert!(got[0].2.len() < 200, "{}", got[0].2);
    db.insert("p", &json!({"s": "a".repeat(50_000)}).to_string()).unwrap();
    let key = format!("{}z", "x".repeat(50_000));
    db.insert("p", &json!({"s": "a", key: "not checked: the name does not match"}).to_string()).unwrap();
    let got = issues(db.insert("p", &json!({"s": "a", "xxy": "no"}).to_string()).unwrap_err());
    assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("xxy", "int_type"));

    for pattern in ["(?=a)a", "(?<=a)b", "(a)\\1", "^(?!x).*$"] {
        for doc in [
            json!({"type": "object", "properties": {"s": {"type": "string", "pattern": pattern}}}),
            json!({"type": "object", "patternProperties": {pattern: {"type": "string"}}}),
        ] {
            let e = db.register_schema("q", &doc.to_string()).unwrap_err();
            let text = e.to_string();
            assert!(matches!(e, Error::InvalidSchema(_)), "{pattern}: {e:?}");
            assert!(text.contains(&json!(pattern).to_string()) && text.contains("no lookaround"), "{text}");
        }
    }
}
