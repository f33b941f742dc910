use rem_host::Error;
use rem_tests::{parse, people};
use serde_json::{Value, json};

fn rows(sql: &str) -> Vec<Value> {
    let db = people();
    match parse(&db.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))) {
        Value::Array(r) => r,
        other => panic!("{other}"),
    }
}

fn names(sql: &str) -> Vec<String> {
    rows(sql).iter().map(|r| r["name"].as_str().unwrap_or("?").to_string()).collect()
}

#[test]
fn reference_people_queries() {
    assert_eq!(rows("SELECT COUNT(*) FROM person")[0]["count"], 3);
    assert_eq!(rows("SELECT AVG(age) FROM person")[0]["avg"], 30.0);
    let mm = &rows("SELECT MIN(age), MAX(age) FROM person")[0];
    assert_eq!((mm["min"].clone(), mm["max"].clone()), (json!(25), json!(35)));
    assert_eq!(rows("SELECT SUM(age) AS total FROM person")[0]["total"], 90);
    assert_eq!(names("SELECT name FROM person WHERE age > 30 AND role = 'engineer'"), Vec::<String>::new());
    assert_eq!(names("SELECT name FROM person WHERE age >= 30 AND role = 'engineer'"), vec!["Alice"]);
    assert_eq!(
        names("SELECT name FROM person WHERE age < 26 OR role = 'manager' ORDER BY name"),
        vec!["Bob", "Charlie"]
    );
    let r = &rows("SELECT COUNT(*) AS n, AVG(age) AS a FROM person WHERE role = 'engineer'")[0];
    assert_eq!((r["n"].clone(), r["a"].clone()), (json!(2), json!(27.5)));
}

#[test]
fn projection_paths_system_fields_and_star() {
    let r = rows("SELECT name, contact.address.city AS city, id, entity_type FROM person WHERE name = 'Alice'");
    assert_eq!(r[0]["city"], "Delft");
    assert_eq!(r[0]["id"], "942881f7-a48a-5e6f-bcfb-cc9fc555fded");
    assert_eq!(r[0]["entity_type"], "person");
    let star = rows("SELECT * FROM person WHERE name = 'Bob'");
    assert_eq!(star[0]["entity_type"], "person");
    assert_eq!(star[0]["age"], 25);
    assert!(star[0]["id"].is_string());
    assert_eq!(rows("SELECT created_at FROM person LIMIT 1")[0]["created_at"].as_str().unwrap().len(), 27);
}

#[test]
fn where_constructs() {
    assert_eq!(names("SELECT name FROM person WHERE name IN ('Alice', 'Bob') ORDER BY name"), vec!["Alice", "Bob"]);
    assert_eq!(names("SELECT name FROM person WHERE name NOT IN ('Alice', 'Bob')"), vec!["Charlie"]);
    assert_eq!(names("SELECT name FROM person WHERE age BETWEEN 26 AND 35 ORDER BY age"), vec!["Alice", "Charlie"]);
    assert_eq!(names("SELECT name FROM person WHERE name LIKE 'A%'"), vec!["Alice"]);
    assert_eq!(names("SELECT name FROM person WHERE name LIKE 'a%'"), Vec::<String>::new());
    assert_eq!(names("SELECT name FROM person WHERE name ILIKE 'a%'"), vec!["Alice"]);
    assert_eq!(names("SELECT name FROM person WHERE NOT (name LIKE '%o%') ORDER BY name"), vec!["Alice", "Charlie"]);
    assert_eq!(names("SELECT name FROM person WHERE LOWER(role) = 'manager'"), vec!["Charlie"]);
    assert_eq!(names("SELECT name FROM person WHERE role = 'ENGINEER'"), Vec::<String>::new(), "case-sensitive");
    assert_eq!(names("SELECT name FROM person WHERE 'manager' = ANY(tags)"), vec!["Charlie"]);
    assert_eq!(names("SELECT name FROM person WHERE nickname IS NULL ORDER BY name"), vec!["Alice", "Bob", "Charlie"]);
    assert_eq!(names("SELECT name FROM person WHERE age = 30.0"), vec!["Alice"], "numbers compare numerically");
    assert_eq!(names("SELECT name FROM person WHERE age > 'x'"), Vec::<String>::new(), "cross-type is false");
    assert_eq!(
        names("SELECT name FROM person WHERE NOT (age > 'x')"),
        Vec::<String>::new(),
        "and stays false under NOT"
    );
}

#[test]
fn order_limit_offset_group_having() {
    assert_eq!(names("SELECT name FROM person ORDER BY role DESC, age ASC"), vec!["Charlie", "Bob", "Alice"]);
    assert_eq!(names("SELECT name FROM person ORDER BY age LIMIT 2 OFFSET 1"), vec!["Alice", "Charlie"]);
    let g = rows("SELECT role, COUNT(*) AS n, MAX(age) AS oldest FROM person GROUP BY role ORDER BY n DESC");
    assert_eq!(
        g,
        vec![json!({"role": "engineer", "n": 2, "oldest": 30}), json!({"role": "manager", "n": 1, "oldest": 35})]
    );
    let h = rows("SELECT role FROM person GROUP BY role HAVING COUNT(*) > 1");
    assert_eq!(h, vec![json!({"role": "engineer"})]);
    assert_eq!(rows("SELECT COUNT(DISTINCT role) AS roles FROM person")[0]["roles"], 2);
    assert_eq!(rows("SELECT COUNT(nickname) AS n FROM person")[0]["n"], 0);
}

#[test]
fn soft_deleted_rows_only_when_asked() {
    let db = people();
    let id = parse(&db.lookup("Bob").unwrap()[0])["id"].as_str().unwrap().to_string();
    db.delete(&id, false).unwrap();
    let live = parse(&db.query("SELECT name FROM person ORDER BY name").unwrap());
    assert_eq!(live, json!([{"name": "Alice"}, {"name": "Charlie"}]));
    let gone = parse(&db.query("SELECT name FROM person WHERE deleted_at IS NOT NULL").unwrap());
    assert_eq!(gone, json!([{"name": "Bob"}]));
}

#[test]
fn lookup_and_kv_statements() {
    let db = people();
    let r = parse(&db.query("LOOKUP 'Alice', 'Bob'").unwrap());
    assert_eq!(r.as_array().unwrap().len(), 2);
    let r = parse(&db.query("SELECT * FROM kv WHERE key IN ('Charlie')").unwrap());
    assert_eq!(r[0]["properties"]["name"], "Charlie");
    assert!(matches!(db.query("LOOKUP"), Err(Error::InvalidQuery { .. })));
}

#[test]
fn refusals_are_errors_never_results() {
    let db = people();
    let cases = [
        ("SELECT * FROM nonexistent", "does not exist"),
        ("SELECT * FROM person p JOIN person q ON p.name = q.name", "JOIN"),
        ("SELECT * FROM person WHERE age IN (SELECT age FROM person)", "subquery"),
        ("SELECT name, ROW_NUMBER() OVER (ORDER BY age) FROM person", "window"),
        ("INSERT INTO person VALUES (1)", "INSERT"),
        ("UPDATE person SET age = 1", "UPDATE"),
        ("DELETE FROM person", "DELETE"),
        ("SELECT name FROM person WHERE age + 1 > 3", "not supported"),
        ("SELECT name, COUNT(*) FROM person", "GROUP BY"),
        ("SEARCH 'web server' IN person", "no embedding_fields"),
    ];
    for (sql, want) in cases {
        let err = db.query(sql).expect_err(sql).to_string();
        assert!(err.contains(want), "{sql}: {err}");
    }
    match db.query("SELECT name\nFROM person WHERE") {
        Err(Error::InvalidQuery { line, column, message }) => {
            assert_eq!(line, 2, "{message}");
            assert!(column > 0, "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_columns_in_a_declared_table_are_named_with_a_hint() {
    let db = rem_host::Database::in_memory().unwrap();
    let schema = json!({"type": "object", "additionalProperties": false,
                        "properties": {"category": {"type": "string"}, "title": {"type": "string"}}});
    db.register_schema("books", &schema.to_string()).unwrap();
    db.insert("books", &json!({"category": "programming", "title": "SICP"}).to_string()).unwrap();
    let message = |sql: &str| match db.query(sql) {
        Err(Error::InvalidQuery { message, .. }) => message,
        other => panic!("{sql}: {other:?}"),
    };
    let m = message("SELECT title FROM books WHERE catgory = 'programming'");
    assert!(m.contains("'catgory'") && m.contains("did you mean 'category'?"), "{m}");
    let m = message("SELECT title FROM books WHERE category = \"programming\"");
    assert!(m.contains("strings take single quotes: write 'programming'"), "{m}");
    // A table left out: the keyword after FROM is named, where it stands.
    match db.query("SELECT *\nFROM WHERE") {
        Err(Error::InvalidQuery { message, line, column }) => {
            assert!(message.contains("expected a table name after FROM, found the keyword WHERE"), "{message}");
            assert_eq!((line, column), (2, 6));
        }
        other => panic!("{other:?}"),
    }
    // Declared names, system fields and free-form tables are as before.
    assert_eq!(
        parse(&db.query("SELECT title, id FROM books WHERE category = 'programming'").unwrap())[0]["title"],
        "SICP"
    );
    let free = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    db.register_schema("free", &free.to_string()).unwrap();
    db.insert("free", &json!({"a": "x", "b": 1}).to_string()).unwrap();
    assert_eq!(parse(&db.query("SELECT b FROM free WHERE zzz IS NULL").unwrap())[0]["b"], 1);
}
