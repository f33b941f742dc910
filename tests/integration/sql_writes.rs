//! SQL writes keep everything in step (secondary indexes, vectors, edges, counts), and the
//! errors of REM SQL: each with its kind and the name or position it must mention.

use rem_host::{Database, Direction, Error, SearchOptions, SearchQuery};
use rem_tests::{parse, people};
use serde_json::{Value, json};

fn docs() -> Database {
    let db = Database::in_memory().unwrap();
    let schema = json!({"type": "object", "key_field": "title", "indexed_fields": ["topic"],
        "embedding_fields": ["body"], "embedding_provider": "hash:256",
        "properties": {"title": {"type": "string"}, "topic": {"type": "string"}, "body": {"type": "string"}}});
    db.register_schema("docs", &schema.to_string()).unwrap();
    for (t, topic, body) in [
        ("nginx", "web", "fast web server and reverse proxy"),
        ("postgres", "db", "sql database server"),
        ("vim", "editor", "text editor for the terminal"),
    ] {
        db.insert("docs", &json!({"title": t, "topic": topic, "body": body}).to_string()).unwrap();
    }
    db
}

fn titles(db: &Database, text: &str) -> Vec<String> {
    let opts = SearchOptions { top_k: 3, ..Default::default() };
    parse(&db.search("docs", &SearchQuery::Text(text.into()), &opts).unwrap())
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["title"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn update_and_delete_keep_indexes_vectors_edges_and_counts_in_step() {
    let db = docs();
    let changed =
        |sql: &str| parse(&db.execute(sql, None).unwrap_or_else(|e| panic!("{sql}: {e}")))[0]["changed"].clone();
    // An UPDATE of an embedded field re-embeds: the row is found by its new text.
    assert_ne!(titles(&db, "music player audio")[0], "vim");
    assert_eq!(
        changed("UPDATE docs SET body = 'music player for audio files', topic = 'media' WHERE title = 'vim'"),
        1
    );
    assert_eq!(titles(&db, "music player audio")[0], "vim");
    // The secondary index follows: the old value finds nothing, the new one the row.
    assert_eq!(parse(&db.query("SELECT title FROM docs WHERE topic = 'editor'").unwrap()), json!([]));
    assert_eq!(parse(&db.query("SELECT title FROM docs WHERE topic = 'media'").unwrap()), json!([{"title": "vim"}]));
    // Edges survive an UPDATE; a soft DELETE hides the row from search and counts.
    db.add_edge("nginx", "postgres", "uses", None).unwrap();
    assert_eq!(changed("UPDATE docs SET topic = 'www' WHERE title = 'nginx'"), 1);
    let edges = parse(&db.get_edges("nginx", Direction::Outgoing, &[]).unwrap());
    assert_eq!(edges.as_array().unwrap().len(), 1, "{edges}");
    assert_eq!(changed("DELETE FROM docs WHERE topic = 'db'"), 1);
    assert!(!titles(&db, "sql database").contains(&"postgres".to_string()));
    assert_eq!(db.count("docs").unwrap(), 2);
    assert_eq!(parse(&db.query("SELECT COUNT(*) AS n FROM docs WHERE topic = 'db'").unwrap())[0]["n"], 0);
    // HARD removes the row and its index entries; the count and the index agree.
    assert_eq!(changed("DELETE FROM docs WHERE deleted_at IS NOT NULL HARD"), 1);
    assert_eq!(parse(&db.query("SELECT COUNT(*) AS n FROM docs WHERE deleted_at IS NOT NULL").unwrap())[0]["n"], 0);
    let stats = parse(&db.index_stats("docs").unwrap());
    assert_eq!(stats["live"], 2, "{stats}");
}

#[test]
fn errors_have_their_kind_and_say_where() {
    let db = people();
    enum Kind {
        Query,
        Unsupported,
        NoTable,
    }
    let cases: &[(&str, Kind, &str)] = &[
        ("SELECT nmae FROM person", Kind::Query, "did you mean 'name'?"),
        (
            "SELECT name FROM person WHERE role = \"engineer\"",
            Kind::Query,
            "strings take single quotes: write 'engineer'",
        ),
        ("SELECT name FROM persn", Kind::NoTable, "persn"),
        ("SELECT * FROM WHERE age > 1", Kind::Query, "expected a table name after FROM, found the keyword WHERE"),
        ("SELECT name FROM person WHERE age = = 3", Kind::Query, "SQL syntax error"),
        ("SELECT name FROM person WHERE age >> 3", Kind::Unsupported, "the operator >>"),
        ("SELECT name FROM person WHERE age = @x", Kind::Query, "Unknown column '@x'"),
        ("SELECT name FROM person WHERE name = 'open", Kind::Query, "SQL syntax error"),
        ("SELECT name, ROW_NUMBER() OVER () FROM person", Kind::Unsupported, "window function"),
        ("SELECT MEDIAN(age) FROM person", Kind::Unsupported, "MEDIAN"),
        ("SELECT name FROM person p RIGHT JOIN person q ON p.name = q.name", Kind::Unsupported, "RIGHT"),
        ("SELECT age / 0 AS x FROM person", Kind::Query, "division by zero"),
        (
            "SELECT CAST(name AS INTEGER) AS x FROM person WHERE age = 30",
            Kind::Query,
            "cannot cast \"Alice\" to INTEGER",
        ),
        (
            "SELECT name FROM person WHERE created_at > NOW() - INTERVAL 'a while'",
            Kind::Query,
            "'a while' is not an interval",
        ),
        ("DELETE FROM person", Kind::Unsupported, "reads only"),
    ];
    for (sql, kind, needle) in cases {
        let err = db.query(sql).expect_err(sql);
        let ok = matches!(
            (kind, &err),
            (Kind::Query, Error::InvalidQuery { .. })
                | (Kind::Unsupported, Error::Unsupported(_))
                | (Kind::NoTable, Error::SchemaNotFound(_))
        );
        assert!(ok, "{sql}: wrong kind: {err:?}");
        assert!(err.to_string().contains(needle), "{sql}: {err}");
    }
    // Syntax errors carry the line and column of the token.
    match db.query("SELECT name\nFROM person\nWHERE age = = 3") {
        Err(Error::InvalidQuery { line, column, .. }) => assert_eq!((line, column), (3, 13)),
        other => panic!("{other:?}"),
    }
    // A write the schema refuses is a validation error naming the field.
    match db.execute("UPDATE person SET role = 'astronaut' WHERE name = 'Bob'", None) {
        Err(Error::Validation(issues)) => assert!(format!("{issues:?}").contains("role")),
        other => panic!("{other:?}"),
    }
    let _: Value = parse(&db.query("SELECT name FROM person").unwrap());
}
