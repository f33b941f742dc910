//! Every table name a schema can be registered under is readable by SQL: reserved words
//! quoted with double quotes, and `kv`, which is otherwise the natural-key index.

use rem_core::{Database, Error, MemoryStore};
use serde_json::{Value, json};

fn rows(db: &Database<MemoryStore>, sql: &str) -> Vec<Value> {
    match serde_json::from_str(&db.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))).unwrap() {
        Value::Array(rows) => rows,
        other => panic!("{sql}: {other}"),
    }
}

#[test]
fn awkward_table_names_are_readable_or_refused_at_registration() {
    let names = [
        "kv", "KV", "select", "order", "user", "from", "where", "group", "table", "key", "limit", "values", "lookup",
        "search", "traverse", "null", "true", "_", "_1", "SELECT", "Order", "a1", "x_y",
    ];
    let db = Database::new(MemoryStore::new(), "t").unwrap();
    let schema =
        json!({"type": "object", "key_field": "k", "properties": {"k": {"type": "string"}, "n": {"type": "integer"}}});
    for name in names {
        db.register_schema(name, &schema.to_string()).unwrap_or_else(|e| panic!("{name}: {e}"));
        db.insert(name, &json!({"k": format!("{name}-key"), "n": name.len()}).to_string()).unwrap();
    }
    for name in names {
        let got = rows(&db, &format!("SELECT k, n FROM \"{name}\""));
        assert_eq!(got, vec![json!({"k": format!("{name}-key"), "n": name.len()})], "{name}");
        let counted = rows(&db, &format!("SELECT COUNT(*) AS c FROM \"{name}\" WHERE n = {}", name.len()));
        assert_eq!(counted[0]["c"], 1, "{name}");
    }
    // Unquoted, a name that is not reserved in that position reads the same.
    for name in ["kv", "user", "order", "key", "_", "a1"] {
        assert_eq!(rows(&db, &format!("SELECT k FROM {name}")).len(), 1, "{name}");
    }
    // Names SQL could not spell are refused when the schema is registered.
    for bad in ["", "1a", "a-b", "a b", "a\"b", "a.b", "é", &"x".repeat(129)] {
        let e = db.register_schema(bad, &schema.to_string()).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)) && e.to_string().contains("invalid table name"), "{bad}: {e}");
    }
}

#[test]
fn kv_is_the_natural_key_index_until_a_table_takes_the_name() {
    let db = Database::new(MemoryStore::new(), "t").unwrap();
    let schema = json!({"type": "object", "key_field": "k", "properties": {"k": {"type": "string"}}});
    db.register_schema("people", &schema.to_string()).unwrap();
    db.insert("people", r#"{"k": "alice"}"#).unwrap();
    let by_key = rows(&db, "SELECT * FROM kv WHERE key = 'alice'");
    assert_eq!(by_key[0]["properties"]["k"], "alice");
    assert!(matches!(db.query("SELECT * FROM kv"), Err(Error::Unsupported(_))));

    db.register_schema("kv", &schema.to_string()).unwrap();
    db.insert("kv", r#"{"k": "bob"}"#).unwrap();
    assert_eq!(rows(&db, "SELECT k FROM kv"), vec![json!({"k": "bob"})]);
    assert_eq!(rows(&db, "SELECT k FROM kv WHERE k = 'bob'"), vec![json!({"k": "bob"})]);
    assert!(db.query("EXPLAIN SELECT * FROM kv").unwrap().contains("full scan of kv"));
    // The natural-key index stays reachable with LOOKUP.
    assert_eq!(rows(&db, "LOOKUP 'alice'").len(), 1);
}
