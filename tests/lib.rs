//! Shared fixtures for REM's integration tests.

use rem_host::Database;
use serde_json::{Value, json};

/// The people table used across tests: key `name`, an enum `role`, an age ≥ 0.
pub fn person_schema() -> Value {
    json!({
        "title": "Person",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0},
            "role": {"type": "string", "enum": ["engineer", "manager", "designer"], "default": "engineer"},
            "tags": {"type": "array", "items": {"type": "string"}, "default": []},
            "contact": {"type": "object", "properties": {"address": {"type": "object", "properties": {"city": {"type": "string"}}}}}
        },
        "required": ["name", "age"],
        "key_field": "name",
        "version": "1.0.0"
    })
}

/// A fresh in-memory database with `person` registered and Alice (30, engineer),
/// Bob (25, engineer) and Charlie (35, manager) inserted.
pub fn people() -> Database {
    let db = Database::in_memory().expect("open in-memory database");
    db.register_schema("person", &person_schema().to_string()).expect("register person");
    for (name, age, role, city) in
        [("Alice", 30, "engineer", "Delft"), ("Bob", 25, "engineer", "Leiden"), ("Charlie", 35, "manager", "Delft")]
    {
        let row = json!({"name": name, "age": age, "role": role, "tags": [role, "staff"], "contact": {"address": {"city": city}}});
        db.insert("person", &row.to_string()).expect("insert person");
    }
    db
}

/// Parse engine JSON output.
pub fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("engine returns JSON")
}
