use rem_host::{Database, Error, PathSegment};
use rem_tests::{parse, people, person_schema};
use serde_json::json;

#[test]
fn deterministic_ids_and_upsert_rules() {
    let db = people();
    let alice = parse(&db.get("942881f7-a48a-5e6f-bcfb-cc9fc555fded").unwrap().expect("Alice by reference id"));
    assert_eq!(alice["properties"]["name"], "Alice");
    assert_eq!(alice["entity_type"], "person");
    let created = alice["created_at"].clone();

    // Same key upserts: properties replaced, created_at kept, modified_at bumped.
    std::thread::sleep(std::time::Duration::from_millis(2));
    let again = parse(&db.insert("person", &json!({"name": "Alice", "age": 31}).to_string()).unwrap());
    assert_eq!(again["id"], alice["id"]);
    assert_eq!(again["created_at"], created);
    assert_ne!(again["modified_at"], alice["modified_at"]);
    assert_eq!(again["properties"]["age"], 31);
    assert!(again["properties"].get("contact").is_none(), "upsert replaces properties");
    assert_eq!(again["properties"]["role"], "engineer", "schema default applied");
    assert_eq!(db.count("person").unwrap(), 3);
}

#[test]
fn uri_ids_follow_the_reference() {
    let db = Database::in_memory().unwrap();
    db.register_schema(
        "resources",
        &json!({"type": "object", "properties": {"uri": {"type": "string"}, "chunk_ordinal": {"type": "integer"}}})
            .to_string(),
    )
    .unwrap();
    let r = parse(&db.insert("resources", &json!({"uri": "https://docs.python.org"}).to_string()).unwrap());
    assert_eq!(r["id"], "a9cbc471-edfd-577e-b375-1734246420c2");
    let c1 = parse(
        &db.insert("resources", &json!({"uri": "https://docs.python.org", "chunk_ordinal": 1}).to_string()).unwrap(),
    );
    assert_ne!(c1["id"], r["id"]);
    // Both chunks share the natural key (the uri), which may contain ':'.
    assert_eq!(db.lookup("https://docs.python.org").unwrap().len(), 2);
}

#[test]
fn validation_reports_every_issue_with_loc() {
    let db = people();
    let err = db.insert("person", &json!({"age": -3, "role": "boss", "tags": [1]}).to_string()).unwrap_err();
    let Error::Validation(issues) = err else { panic!("expected validation error, got {err:?}") };
    let got: Vec<(String, String)> = issues.iter().map(|i| (i.loc_string(), i.kind.to_string())).collect();
    for want in [("name", "missing"), ("age", "greater_than_equal"), ("role", "enum"), ("tags.0", "string_type")] {
        assert!(got.contains(&(want.0.into(), want.1.into())), "{want:?} missing from {got:?}");
    }
    assert_eq!(db.count("person").unwrap(), 3, "nothing written");
}

#[test]
fn batch_is_all_or_nothing_and_names_the_row() {
    let db = people();
    let rows: Vec<String> = vec![
        json!({"name": "Dan", "age": 40}).to_string(),
        json!({"name": "Eve", "age": "old"}).to_string(),
        json!({"name": "Fay", "age": 22}).to_string(),
    ];
    let err = db.insert_batch("person", &rows).unwrap_err();
    let Error::Validation(issues) = err else { panic!("{err:?}") };
    assert_eq!(issues[0].loc, vec![PathSegment::Index(1), PathSegment::Field("age".into())]);
    assert_eq!(issues[0].kind, "int_type");
    assert_eq!(db.count("person").unwrap(), 3);
    assert!(db.lookup("Dan").unwrap().is_empty(), "row before the bad one was rolled back");

    // Chunked batches keep row numbers global and stay atomic across chunks.
    let mut many: Vec<String> = (0..25).map(|i| json!({"name": format!("p{i}"), "age": i}).to_string()).collect();
    many[17] = "{not json".into();
    let mut seen = Vec::new();
    let err = db.insert_batch_with_progress("person", &many, 5, &mut |n| seen.push(n)).unwrap_err();
    let Error::Validation(issues) = err else { panic!("{err:?}") };
    assert_eq!(issues[0].loc, vec![PathSegment::Index(17)]);
    assert_eq!(issues[0].kind, "json_invalid");
    assert_eq!(seen, vec![5, 10, 15]);
    assert_eq!(db.count("person").unwrap(), 3, "earlier chunks rolled back too");

    many[17] = json!({"name": "p17", "age": 17}).to_string();
    let ids = db.insert_batch_with_progress("person", &many, 5, &mut |_| {}).unwrap();
    assert_eq!(ids.len(), 25);
    assert_eq!(db.count("person").unwrap(), 28);
}

#[test]
fn batch_follows_the_same_upsert_rules() {
    let db = people();
    let before = parse(&db.lookup("Bob").unwrap()[0]);
    let rows = vec![json!({"name": "Bob", "age": 26}).to_string(), json!({"name": "Bob", "age": 27}).to_string()];
    let ids = db.insert_batch("person", &rows).unwrap();
    assert_eq!(ids[0], ids[1]);
    let after = parse(&db.get(&ids[0]).unwrap().unwrap());
    assert_eq!(after["created_at"], before["created_at"]);
    assert_eq!(after["properties"]["age"], 27, "last row wins");
    assert_eq!(db.count("person").unwrap(), 3);
}

#[test]
fn update_merges_and_revalidates() {
    let db = people();
    let id = parse(&db.lookup("Bob").unwrap()[0])["id"].as_str().unwrap().to_string();
    let updated = parse(&db.update(&id, &json!({"age": 26, "tags": ["x"]}).to_string()).unwrap());
    assert_eq!(updated["properties"]["age"], 26);
    assert_eq!(updated["properties"]["role"], "engineer", "untouched keys kept");
    assert!(matches!(db.update(&id, &json!({"age": -1}).to_string()), Err(Error::Validation(_))));
    assert!(matches!(db.update("942881f7-a48a-5e6f-bcfb-000000000000", "{}"), Err(Error::NotFound(_))));
    assert!(matches!(db.update("not-a-key", "{}"), Err(Error::NotFound(_))));
    assert!(matches!(db.update("", "{}"), Err(Error::InvalidArgument(_))));
    // A natural key names the entity for get, update and delete.
    assert_eq!(parse(&db.update("Bob", &json!({"age": 27}).to_string()).unwrap())["id"], id.as_str());
    assert_eq!(parse(&db.get("Bob").unwrap().unwrap())["properties"]["age"], 27);
    // Renaming the key field moves the key index entry.
    db.update(&id, &json!({"name": "Robert"}).to_string()).unwrap();
    assert!(db.lookup("Bob").unwrap().is_empty());
    assert_eq!(parse(&db.lookup("Robert").unwrap()[0])["id"], id.as_str());
}

#[test]
fn soft_and_hard_delete() {
    let db = people();
    let id = parse(&db.lookup("Charlie").unwrap()[0])["id"].as_str().unwrap().to_string();
    let soft = parse(&db.delete(&id, false).unwrap());
    assert!(soft["deleted_at"].is_string());
    assert_eq!(db.count("person").unwrap(), 2);
    assert_eq!(db.list("person", None, 0).unwrap().len(), 2);
    assert!(db.lookup("Charlie").unwrap().is_empty());
    let got = parse(&db.get(&id).unwrap().expect("soft-deleted rows stay readable by id"));
    assert_eq!(got["deleted_at"], soft["deleted_at"]);
    assert!(matches!(db.update(&id, "{}"), Err(Error::NotFound(_))));

    // Re-inserting resurrects it.
    db.insert("person", &json!({"name": "Charlie", "age": 36}).to_string()).unwrap();
    assert_eq!(db.count("person").unwrap(), 3);
    assert!(parse(&db.get(&id).unwrap().unwrap())["deleted_at"].is_null());

    db.delete(&id, true).unwrap();
    assert!(db.get(&id).unwrap().is_none());
    assert!(db.lookup("Charlie").unwrap().is_empty());
    assert_eq!(db.count("person").unwrap(), 2);
    assert!(matches!(db.delete(&id, true), Err(Error::NotFound(_))));
}

#[test]
fn get_many_keeps_order_and_gaps() {
    let db = people();
    let a = parse(&db.lookup("Alice").unwrap()[0])["id"].as_str().unwrap().to_string();
    let c = parse(&db.lookup("Charlie").unwrap()[0])["id"].as_str().unwrap().to_string();
    let missing = "00000000-0000-4000-8000-000000000000".to_string();
    let got = db.get_many(&[c.clone(), missing, a.clone()]).unwrap();
    assert_eq!(parse(got[0].as_ref().unwrap())["id"], c.as_str());
    assert!(got[1].is_none());
    assert_eq!(parse(got[2].as_ref().unwrap())["id"], a.as_str());
}

#[test]
fn keys_with_separators_and_any_bytes() {
    let db = Database::in_memory().unwrap();
    db.register_schema("tickets", &json!({"type": "object", "properties": {"key": {"type": "string"}}}).to_string())
        .unwrap();
    for k in ["TAP-1:2", "TAP-1", "TAP-1:", "a\u{0}b", "a"] {
        db.insert("tickets", &json!({"key": k}).to_string()).unwrap();
    }
    for k in ["TAP-1:2", "TAP-1", "TAP-1:", "a\u{0}b", "a"] {
        let hits = db.lookup(k).unwrap();
        assert_eq!(hits.len(), 1, "{k:?}");
        assert_eq!(parse(&hits[0])["properties"]["key"], k);
    }
}

#[test]
fn tenants_never_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    {
        let a = Database::open(rem_host::OpenOptions::at(dir.path()).tenant("acme")).unwrap();
        a.register_schema("person", &person_schema().to_string()).unwrap();
        a.insert("person", &json!({"name": "Alice", "age": 30}).to_string()).unwrap();
    }
    let b = Database::open(rem_host::OpenOptions::at(dir.path()).tenant("globex")).unwrap();
    assert!(matches!(b.count("person"), Err(Error::SchemaNotFound(_))));
    assert!(b.lookup("Alice").unwrap().is_empty());
    assert!(b.get("942881f7-a48a-5e6f-bcfb-cc9fc555fded").unwrap().is_none());
    assert!(b.list_schemas().unwrap().is_empty());
}

#[test]
fn schema_versions() {
    let db = people();
    let mut doc = person_schema();
    doc["version"] = json!("1.4.0");
    db.register_schema("person", &doc.to_string()).unwrap();
    doc["version"] = json!("2.0.0");
    let err = db.register_schema("person", &doc.to_string()).unwrap_err();
    assert!(matches!(err, Error::SchemaConflict(_)), "{err:?}");
    assert_eq!(parse(&db.get_schema("person").unwrap())["version"], "1.4.0");
    assert!(matches!(db.get_schema("nope"), Err(Error::SchemaNotFound(_))));
    assert_eq!(db.list_schemas().unwrap(), vec!["person".to_string()]);
    assert!(matches!(db.register_schema("bad name", "{}"), Err(Error::InvalidArgument(_))));
    assert!(matches!(db.register_schema("t", "{nope"), Err(Error::InvalidSchema(_))));
}

#[test]
fn pydantic_schema_with_defs_refs_and_nested_defaults() {
    // What pydantic 2 emits for nested models, enums, optionals and defaults.
    let doc = json!({
        "$defs": {
            "Address": {"properties": {"city": {"title": "City", "type": "string"}, "country": {"default": "NL", "title": "Country", "type": "string"}},
                        "required": ["city"], "title": "Address", "type": "object"},
            "Level": {"enum": ["low", "high"], "title": "Level", "type": "string"}
        },
        "properties": {
            "title": {"title": "Title", "type": "string"},
            "level": {"$ref": "#/$defs/Level", "default": "low"},
            "home": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}], "default": null},
            "seen": {"format": "date-time", "title": "Seen", "type": "string"}
        },
        "required": ["title", "seen"], "title": "Note", "type": "object",
        "key_field": "title", "version": "1.0.0"
    });
    let db = Database::in_memory().unwrap();
    db.register_schema("note", &doc.to_string()).unwrap();
    let e = parse(
        &db.insert(
            "note",
            &json!({"title": "t", "seen": "2024-01-02T03:04:05Z", "home": {"city": "Delft"}}).to_string(),
        )
        .unwrap(),
    );
    assert_eq!(e["properties"]["level"], "low");
    assert_eq!(e["properties"]["home"]["country"], "NL");
    let err = db.insert("note", &json!({"title": "u", "seen": "yesterday", "level": "mid"}).to_string()).unwrap_err();
    let Error::Validation(issues) = err else { panic!() };
    let kinds: Vec<&str> = issues.iter().map(|i| i.kind.as_str()).collect();
    assert!(kinds.contains(&"date_time_format"), "{kinds:?}");
    assert!(kinds.contains(&"enum"), "{kinds:?}");
}

#[test]
fn reference_fields_become_edges_and_a_missing_target_writes_nothing() {
    let db = Database::in_memory().unwrap();
    db.register_schema(
        "sessions",
        &json!({"type": "object", "key_field": "session_id", "properties": {"session_id": {"type": "string"}}})
            .to_string(),
    )
    .unwrap();
    db.register_schema(
        "messages",
        &json!({
            "type": "object",
            "key_field": "message_id",
            "references": {"session_id": {"table": "sessions", "rel_type": "belongs_to"}},
            "properties": {"message_id": {"type": "string"}, "session_id": {"type": "string"}}
        })
        .to_string(),
    )
    .unwrap();
    let s1 = parse(&db.insert("sessions", r#"{"session_id": "s1"}"#).unwrap())["id"].as_str().unwrap().to_string();
    let rows: Vec<String> =
        (0..3).map(|i| json!({"message_id": format!("m{i}"), "session_id": "s1"}).to_string()).collect();
    db.insert_batch("messages", &rows).unwrap();
    let incoming = parse(&db.get_edges(&s1, rem_host::Direction::Incoming, &["belongs_to".into()]).unwrap());
    assert_eq!(incoming.as_array().unwrap().len(), 3);

    // One row naming a session that does not exist: the whole batch is refused, nothing written.
    let bad = vec![
        json!({"message_id": "m7", "session_id": "s1"}).to_string(),
        json!({"message_id": "m8", "session_id": "s9"}).to_string(),
    ];
    match db.insert_batch("messages", &bad) {
        Err(Error::Validation(issues)) => {
            assert_eq!(issues[0].kind, "reference_missing");
            assert!(issues[0].msg.contains("insert it first"), "{}", issues[0].msg);
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(db.count("messages").unwrap(), 3);
    assert!(db.lookup("m7").unwrap().is_empty());
    let incoming = parse(&db.get_edges(&s1, rem_host::Direction::Incoming, &[]).unwrap());
    assert_eq!(incoming.as_array().unwrap().len(), 3);
}

#[test]
fn an_entity_shows_its_edges_however_they_were_added() {
    let db = people();
    let names = ["Alice", "Bob", "Charlie"];
    let ids: Vec<String> = names
        .iter()
        .map(|n| parse(&db.get(n).unwrap().unwrap_or_else(|| panic!("{n}")))["id"].as_str().unwrap().to_string())
        .collect();
    let edges_of = |who: &str| parse(&db.get(who).unwrap().unwrap())["edges"].clone();
    db.add_edge("Alice", "Bob", "knows", Some(r#"{"weight": 0.5}"#)).unwrap();
    let shown = edges_of("Alice");
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
    assert_eq!((shown[0]["dst"].as_str(), shown[0]["rel_type"].as_str()), (Some(ids[1].as_str()), Some("knows")));
    assert_eq!(shown[0]["properties"]["weight"], 0.5);
    // A batch, and the same edge again with new properties: one entry each, properties replaced.
    let batch = [
        json!({"src": "Alice", "dst": "Charlie", "rel_type": "manages"}).to_string(),
        json!({"src": "Alice", "dst": "Bob", "rel_type": "knows", "properties": {"weight": 0.9}}).to_string(),
        json!({"src": "Bob", "dst": "Charlie", "rel_type": "knows"}).to_string(),
    ];
    db.add_edges_with_progress(&batch, 1000, &mut |_| {}).unwrap();
    let shown = edges_of("Alice");
    assert_eq!(shown.as_array().unwrap().len(), 2, "{shown}");
    assert_eq!(shown[0]["properties"]["weight"], 0.9);
    assert_eq!(edges_of("Bob").as_array().unwrap().len(), 1);
    // Removing an edge takes it out; upserting the row keeps the rest.
    db.delete_edge("Alice", "Bob", "knows").unwrap();
    assert_eq!(edges_of("Alice").as_array().unwrap().len(), 1);
    db.insert("person", &json!({"name": "Alice", "age": 30}).to_string()).unwrap();
    let shown = edges_of("Alice");
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
    assert_eq!(shown[0]["rel_type"], "manages");
    let stored = parse(&db.get_edges("Alice", rem_host::Direction::Outgoing, &[]).unwrap());
    assert_eq!(stored.as_array().unwrap().len(), 1, "the edge records agree: {stored}");
}
