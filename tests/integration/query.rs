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
        ("SELECT * FROM person p FULL JOIN person q ON p.name = q.name", "FULL"),
        (
            "SELECT name FROM person p WHERE age IN (SELECT age FROM person q WHERE q.name = p.name)",
            "cannot name the outer",
        ),
        (
            "SELECT name FROM person p WHERE EXISTS (SELECT 1 AS one FROM person q WHERE q.age > p.age)",
            "correlated subquery",
        ),
        ("SELECT name, ROW_NUMBER() OVER (ORDER BY age) FROM person", "window"),
        ("INSERT INTO person VALUES (1)", "INSERT"),
        ("UPDATE person SET age = 1", "UPDATE"),
        ("DELETE FROM person", "DELETE"),
        ("SELECT name FROM person WHERE name SIMILAR TO 'A%'", "not supported"),
        ("SELECT SOUNDEX(name) FROM person", "the function SOUNDEX() (REM SQL has COALESCE"),
        ("SELECT INTERVAL '1 day' FROM person", "can only be added to or subtracted from a timestamp"),
        ("SELECT name FROM person WHERE created_at > NOW() - INTERVAL 'soon'", "is not an interval"),
        ("SELECT edges FROM person", "edges system field is not readable in SQL yet"),
        ("SELECT ROUND(age, 1, 2) FROM person", "ROUND() takes 1 to 2 arguments, got 3"),
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
    let free = json!({"type": "object", "additionalProperties": true, "properties": {"a": {"type": "string"}}});
    db.register_schema("free", &free.to_string()).unwrap();
    db.insert("free", &json!({"a": "x", "b": 1}).to_string()).unwrap();
    assert_eq!(parse(&db.query("SELECT b FROM free WHERE zzz IS NULL").unwrap())[0]["b"], 1);
    // What Pydantic emits (properties, no additionalProperties) declares its columns too.
    let pydantic = json!({"type": "object", "title": "Book", "properties": {"category": {"type": "string"}}});
    db.register_schema("pbooks", &pydantic.to_string()).unwrap();
    let m = message("SELECT * FROM pbooks WHERE category = \"programming\"");
    assert!(m.contains("Unknown column 'programming' in table 'pbooks'") && m.contains("single quotes"), "{m}");
    assert!(m.contains("additionalProperties: true"), "{m}");
}

#[test]
fn expressions_in_select_where_and_order_by() {
    let r = rows(
        "SELECT name, age * 2 + 1 AS a, age / 4 AS q, age % 4 AS m, age / 4.0 AS f, name || '!' AS shout, \
         CASE role WHEN 'manager' THEN 'M' ELSE 'E' END AS grade, \
         CASE WHEN age > 28 THEN 'senior' WHEN age > 20 THEN 'junior' END AS band, \
         CAST(age AS TEXT) AS t, COALESCE(NULLIF(role, 'engineer'), LOWER(name)) AS nick, NULLIF(role, 'engineer') AS boss, \
         ROUND(age / 7.0, 2) AS r, SUBSTR(name, 2, 3) AS mid, LENGTH(name) AS len, CARDINALITY(tags) AS ntags, \
         REPLACE(role, 'e', 'E') AS rep, TRIM('  x  ') AS tr, ABS(20 - age) AS dist \
         FROM person ORDER BY age % 10 DESC, name",
    );
    let alice = r.iter().find(|x| x["name"] == "Alice").unwrap();
    assert_eq!(alice["a"], 61);
    assert_eq!((alice["q"].clone(), alice["m"].clone(), alice["f"].clone()), (json!(7), json!(2), json!(7.5)));
    assert_eq!(
        (alice["shout"].clone(), alice["grade"].clone(), alice["band"].clone()),
        (json!("Alice!"), json!("E"), json!("senior"))
    );
    assert_eq!(
        (alice["t"].clone(), alice["nick"].clone(), alice["boss"].clone()),
        (json!("30"), json!("alice"), Value::Null)
    );
    assert_eq!((alice["r"].clone(), alice["mid"].clone(), alice["len"].clone()), (json!(4.29), json!("lic"), json!(5)));
    assert_eq!(
        (alice["ntags"].clone(), alice["rep"].clone(), alice["tr"].clone()),
        (json!(2), json!("EnginEEr"), json!("x"))
    );
    assert_eq!(alice["dist"], 10);
    // ORDER BY an expression: age % 10 is 5 (Bob, Charlie) then 0 (Alice).
    assert_eq!(r.iter().map(|x| x["name"].as_str().unwrap()).collect::<Vec<_>>(), ["Bob", "Charlie", "Alice"]);
    assert_eq!(
        names("SELECT name FROM person WHERE age + 5 > 35 OR name || role = 'Bobengineer' ORDER BY name"),
        ["Bob", "Charlie"]
    );
    assert_eq!(names("SELECT name FROM person WHERE UPPER(SUBSTRING(name FROM 1 FOR 1)) = 'C'"), ["Charlie"]);
    assert_eq!(
        names(
            "SELECT name FROM person WHERE 'staff' = ANY(tags) AND CARDINALITY(tags) = 2 AND age::text LIKE '3%' ORDER BY name"
        ),
        ["Alice", "Charlie"]
    );
    // Grouped: expressions over aggregates and over grouping keys.
    let g = rows(
        "SELECT role, SUM(age) / COUNT(*) AS mean, MAX(age) - MIN(age) AS spread FROM person GROUP BY role ORDER BY role",
    );
    assert_eq!((g[0]["mean"].clone(), g[0]["spread"].clone()), (json!(27), json!(5)));
}

#[test]
fn timestamps_and_json_paths() {
    let db = people();
    let all = |sql: &str| -> Vec<Value> {
        parse(&db.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))).as_array().unwrap().clone()
    };
    // Rows were written just now: inside the last 7 days, none older, none in the future.
    assert_eq!(all("SELECT name FROM person WHERE created_at > NOW() - INTERVAL '7 days'").len(), 3);
    assert_eq!(all("SELECT name FROM person WHERE created_at < NOW() - INTERVAL '1 hour'").len(), 0);
    assert_eq!(all("SELECT name FROM person WHERE created_at <= CURRENT_TIMESTAMP + INTERVAL '1' MINUTE").len(), 3);
    let day = &all("SELECT DATE_TRUNC('day', created_at) AS d, created_at FROM person LIMIT 1")[0];
    let (d, created) = (day["d"].as_str().unwrap(), day["created_at"].as_str().unwrap());
    assert_eq!(d, format!("{}T00:00:00.000000Z", &created[..10]));
    let counts = all(
        "SELECT DATE_TRUNC('month', created_at) AS m, COUNT(*) AS n FROM person GROUP BY DATE_TRUNC('month', created_at)",
    );
    assert_eq!(counts.iter().map(|c| c["n"].as_u64().unwrap()).sum::<u64>(), 3);
    // JSON: dotted paths, -> and ->> (text) reach into nested objects alike.
    let r = all("SELECT name, contact.address.city AS a, contact->'address'->>'city' AS b, tags->0 AS first \
                 FROM person WHERE contact->'address'->>'city' = 'Delft' ORDER BY name");
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0]["a"].clone(), r[0]["b"].clone(), r[0]["first"].clone()),
        (json!("Delft"), json!("Delft"), json!("engineer"))
    );
    // A bad timestamp or unit is an error naming it.
    let err = db.query("SELECT DATE_TRUNC('fortnight', created_at) AS d FROM person").unwrap_err().to_string();
    assert!(err.contains("'fortnight'"), "{err}");
    let err = db
        .query("SELECT name || ' ' AS x FROM person WHERE 'yesterday' + INTERVAL '1 day' > created_at")
        .unwrap_err()
        .to_string();
    assert!(err.contains("'yesterday' is not a timestamp"), "{err}");
}

#[test]
fn delete_and_update_statements_write_atomically() {
    let db = people();
    let all = |sql: &str| -> Value { parse(&db.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))) };
    // query stays read-only; execute runs writes, one transaction each.
    let err = db.query("DELETE FROM person WHERE age > 30").unwrap_err().to_string();
    assert!(err.contains("query runs reads only") && err.contains("--write"), "{err}");
    let changed =
        |sql: &str| parse(&db.execute(sql, None).unwrap_or_else(|e| panic!("{sql}: {e}")))[0]["changed"].clone();
    assert_eq!(changed("UPDATE person SET age = age + 1, nickname = LOWER(name) || '!' WHERE role = 'engineer'"), 2);
    let r = all("SELECT name, age, nickname FROM person ORDER BY name");
    assert_eq!(r[0], json!({"name": "Alice", "age": 31, "nickname": "alice!"}));
    assert_eq!(r[2], json!({"name": "Charlie", "age": 35, "nickname": null}));
    // The secondary index on `role` and the natural key follow the rows.
    assert_eq!(changed("UPDATE person SET role = 'designer' WHERE name = 'Bob'"), 1);
    assert_eq!(all("SELECT name FROM person WHERE role = 'designer'"), json!([{"name": "Bob"}]));
    // A row the schema refuses (age below its minimum) fails the whole statement: nothing changes.
    let before = all("SELECT name, age FROM person ORDER BY name");
    match db.execute("UPDATE person SET age = age - 31", None) {
        Err(Error::Validation(issues)) => assert!(format!("{issues:?}").contains("age"), "{issues:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(all("SELECT name, age FROM person ORDER BY name"), before);
    let err = db.execute("UPDATE person SET id = 'x'", None).unwrap_err().to_string();
    assert!(err.contains("system field"), "{err}");
    let err = db.execute("UPDATE person SET agee = 1", None).unwrap_err().to_string();
    assert!(err.contains("Unknown column 'agee'") && err.contains("did you mean 'age'?"), "{err}");
    // DELETE is soft (as delete is), HARD removes; params bind as in query.
    assert_eq!(parse(&db.execute("DELETE FROM person WHERE age > ?", Some("[33]")).unwrap())[0]["changed"], 1);
    assert_eq!(all("SELECT COUNT(*) AS n FROM person")[0]["n"], 2);
    assert_eq!(all("SELECT name FROM person WHERE deleted_at IS NOT NULL"), json!([{"name": "Charlie"}]));
    assert_eq!(changed("DELETE FROM person WHERE deleted_at IS NOT NULL"), 0, "already deleted");
    assert_eq!(changed("DELETE FROM person WHERE name = 'Charlie' OR deleted_at IS NOT NULL HARD"), 1);
    assert_eq!(all("SELECT COUNT(*) AS n FROM person WHERE deleted_at IS NOT NULL OR deleted_at IS NULL")[0]["n"], 2);
    assert_eq!(db.count("person").unwrap(), 2);
    // prepare tells reads from writes.
    let p = parse(&db.prepare("UPDATE person SET age = 1 WHERE name = 'Alice'").unwrap());
    assert_eq!((p["statement"].clone(), p["read_only"].clone()), (json!("update"), json!(false)));
    assert_eq!(parse(&db.prepare("SELECT name FROM person").unwrap())["read_only"], true);
    let err = db.execute("DELETE FROM person WHERE age > 1 RETURNING name", None).unwrap_err().to_string();
    assert!(err.contains("RETURNING"), "{err}");
}

#[test]
fn joins_subqueries_with_and_union() {
    let db = people();
    let team = json!({"type": "object", "key_field": "role", "properties": {"role": {"type": "string"}, "floor": {"type": "integer"}}});
    db.register_schema("team", &team.to_string()).unwrap();
    for (role, floor) in [("engineer", 3), ("manager", 5), ("sales", 1)] {
        db.insert("team", &json!({"role": role, "floor": floor}).to_string()).unwrap();
    }
    let all = |sql: &str| -> Value { parse(&db.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))) };
    let nm = |sql: &str| -> Vec<String> {
        all(sql).as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(
        all("SELECT p.name, t.floor FROM person p JOIN team t ON p.role = t.role WHERE t.floor > 2 ORDER BY p.name"),
        json!([{"name": "Alice", "floor": 3}, {"name": "Bob", "floor": 3}, {"name": "Charlie", "floor": 5}])
    );
    // Unqualified names resolve to the one table that has them; LEFT JOIN keeps unmatched rows.
    assert_eq!(
        all(
            "SELECT team.role, COUNT(name) AS people FROM team LEFT JOIN person ON person.role = team.role GROUP BY team.role ORDER BY team.role"
        ),
        json!([{"role": "engineer", "people": 2}, {"role": "manager", "people": 1}, {"role": "sales", "people": 0}])
    );
    let star = all("SELECT * FROM person p JOIN team t ON p.role = t.role WHERE p.name = 'Charlie'");
    assert_eq!((star[0]["p"]["age"].clone(), star[0]["t"]["floor"].clone()), (json!(35), json!(5)));
    assert_eq!(all("SELECT t.* FROM person p JOIN team t ON p.role = t.role WHERE p.name = 'Bob'")[0]["floor"], 3);
    // Subqueries, WITH, derived tables and UNION.
    assert_eq!(nm("SELECT name FROM person WHERE role IN (SELECT role FROM team WHERE floor >= 5)"), ["Charlie"]);
    assert_eq!(nm("SELECT p.name FROM person p WHERE p.age > 30"), ["Charlie"], "aliases qualify one table too");
    assert_eq!(nm("SELECT name FROM person WHERE age > (SELECT AVG(age) FROM person) ORDER BY name"), ["Charlie"]);
    assert_eq!(
        nm("SELECT name FROM person WHERE NOT EXISTS (SELECT role FROM team WHERE floor > 9) AND age < 26"),
        ["Bob"]
    );
    // Correlated by one equality: decorrelated into IN, run once.
    assert_eq!(
        nm("SELECT t.role AS name FROM team t WHERE NOT EXISTS (SELECT 1 AS one FROM person p WHERE p.role = t.role)"),
        ["sales"]
    );
    assert_eq!(
        nm(
            "SELECT name FROM person p WHERE EXISTS (SELECT 1 AS one FROM team t WHERE t.role = p.role AND t.floor > 4)"
        ),
        ["Charlie"]
    );
    assert_eq!(
        all(
            "WITH senior AS (SELECT name, role FROM person WHERE age >= 30) SELECT s.name, t.floor FROM senior s JOIN team t ON s.role = t.role ORDER BY s.name"
        ),
        json!([{"name": "Alice", "floor": 3}, {"name": "Charlie", "floor": 5}])
    );
    assert_eq!(
        all("SELECT d.role, d.n FROM (SELECT role, COUNT(*) AS n FROM person GROUP BY role) AS d WHERE d.n > 1"),
        json!([{"role": "engineer", "n": 2}])
    );
    assert_eq!(
        all("SELECT role FROM person UNION SELECT role FROM team ORDER BY role"),
        json!([{"role": "engineer"}, {"role": "manager"}, {"role": "sales"}])
    );
    assert_eq!(all("SELECT role FROM person UNION ALL SELECT role FROM team").as_array().unwrap().len(), 6);
    // The graph and search as tables: TRAVERSE(...) and SEARCH(...) in FROM, joinable and in IN.
    let (alice, bob) =
        ("942881f7-a48a-5e6f-bcfb-cc9fc555fded", all("SELECT id FROM person WHERE name = 'Bob'")[0]["id"].clone());
    db.add_edge(alice, bob.as_str().unwrap(), "knows", None).unwrap();
    assert_eq!(
        all("SELECT p.name, t.depth FROM TRAVERSE('Alice', 2) AS t JOIN person p ON p.id = t.id ORDER BY t.depth"),
        json!([{"name": "Alice", "depth": 0}, {"name": "Bob", "depth": 1}])
    );
    assert_eq!(
        nm(
            "SELECT name FROM person WHERE id IN (SELECT id FROM TRAVERSE('Alice', 1, 'out', 'knows') AS t) AND name != 'Alice'"
        ),
        ["Bob"]
    );
    let err = db.query("SELECT * FROM TRAVERSE('Alice') AS t").unwrap_err().to_string();
    assert!(err.contains("TRAVERSE takes 2 to 4 arguments"), "{err}");
    assert_eq!(nm("SELECT person.name FROM person WHERE person.age > 30"), ["Charlie"]);
    // Rows of WITH tables and table functions are tested on their own members (`id` too),
    // also when they are the joined side.
    assert_eq!(
        nm(&format!("WITH x AS (SELECT id, name FROM person) SELECT x.name FROM x WHERE x.id = '{alice}'")),
        ["Alice"]
    );
    assert_eq!(
        nm(
            "SELECT p.name FROM person p JOIN TRAVERSE('Alice', 1) AS t ON t.id = p.id WHERE t.id != 'x' ORDER BY p.name"
        ),
        ["Alice", "Bob"]
    );
    // Columns named alike keep their qualifiers; ORDER BY a position; a parenthesised query's
    // ORDER BY and LIMIT; correlated EXISTS with LIMIT, and with the table named, not aliased.
    assert_eq!(
        all("SELECT p.role, t.role FROM person p JOIN team t ON p.role = t.role WHERE p.name = 'Bob'"),
        json!([{"p.role": "engineer", "t.role": "engineer"}])
    );
    assert_eq!(nm("SELECT name, age FROM person ORDER BY 2 DESC"), ["Charlie", "Alice", "Bob"]);
    assert_eq!(nm("(SELECT name FROM person) ORDER BY name LIMIT 1"), ["Alice"]);
    assert_eq!(
        nm(
            "SELECT name FROM person p WHERE EXISTS (SELECT 1 AS one FROM team t WHERE t.role = p.role LIMIT 1) ORDER BY name"
        ),
        ["Alice", "Bob", "Charlie"]
    );
    assert_eq!(
        nm("SELECT role AS name FROM team WHERE NOT EXISTS (SELECT 1 AS one FROM person p WHERE p.role = team.role)"),
        ["sales"]
    );
    for (sql, needle) in [
        ("WITH t(n) AS (SELECT name FROM person) SELECT n FROM t", "column names after a WITH table"),
        ("SELECT name FROM person ORDER BY 3", "ORDER BY position 3"),
        (
            "SELECT name FROM person p WHERE EXISTS (SELECT MAX(floor) AS m FROM team t WHERE t.role = p.role)",
            "aggregated",
        ),
    ] {
        let err = db.query(sql).expect_err(sql).to_string();
        assert!(err.contains(needle), "{sql}: {err}");
    }
    // EXPLAIN names each table's access path, and the keys the joined table is probed with.
    let plan = all("EXPLAIN SELECT p.name FROM team t JOIN person p ON p.role = t.role WHERE t.floor = 5");
    let steps = plan[0]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["rows"], 1, "{plan}");
    assert_eq!(steps[1]["probe"], "role IN (1 keys of the rows joined so far)", "{plan}");
    assert_eq!(steps[2]["method"], "hash join");
    // prepare checks the tables without reading.
    let p = parse(&db.prepare("SELECT p.name FROM person p JOIN team t ON p.role = t.role").unwrap());
    assert_eq!((p["tables"].clone(), p["read_only"].clone()), (json!(["person", "team"]), json!(true)));
    assert!(db.prepare("SELECT name FROM person WHERE role IN (SELECT role FROM nope)").is_err());
    // Errors name what is wrong.
    for (sql, needle) in [
        ("SELECT role FROM person p JOIN team t ON p.role = t.role", "ambiguous"),
        ("SELECT p.nam FROM person p JOIN team t ON p.role = t.role", "did you mean 'p.name'?"),
        ("SELECT name FROM person p JOIN team t ON p.age > t.floor", "no equality"),
        ("SELECT name FROM person, team", "write JOIN ... ON"),
        ("SELECT name FROM person p RIGHT JOIN team t ON p.role = t.role", "RIGHT JOIN"),
        ("SELECT name FROM person WHERE age = (SELECT age FROM person)", "more than one row"),
        ("SELECT name FROM person WHERE role IN (SELECT role, floor FROM team)", "one column"),
        ("SELECT name FROM (SELECT name FROM person)", "needs an alias"),
        ("SELECT name FROM person p JOIN person p ON p.name = p.name", "more than once"),
        ("WITH RECURSIVE r AS (SELECT name FROM person) SELECT * FROM r", "WITH RECURSIVE"),
        ("SELECT name FROM person EXCEPT SELECT role FROM team", "EXCEPT"),
    ] {
        let err = db.query(sql).expect_err(sql).to_string();
        assert!(err.contains(needle), "{sql}: {err}");
    }
}

#[test]
fn joins_check_on_clauses_resolve_with_tables_and_read_deleted_rows_when_tested() {
    let db = people();
    let team = json!({"type": "object", "key_field": "role", "properties": {"role": {"type": "string"}, "floor": {"type": "integer"}}});
    db.register_schema("team", &team.to_string()).unwrap();
    db.register_schema("notes", &json!({"type": "object"}).to_string()).unwrap();
    for (role, floor) in [("engineer", 3), ("manager", 5)] {
        db.insert("team", &json!({"role": role, "floor": floor}).to_string()).unwrap();
    }
    db.insert("notes", &json!({"role": "engineer", "text": "n1"}).to_string()).unwrap();
    let all = |sql: &str| -> Value { parse(&db.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))) };
    // An ON naming a table joined after it is an error, not a join that matches nothing.
    let err = db
        .query("SELECT p.name FROM person p LEFT JOIN team t ON t.role = n.role JOIN notes n ON n.role = p.role")
        .unwrap_err()
        .to_string();
    assert!(err.contains("names 'n', which is joined after it"), "{err}");
    // An unqualified name goes to the WITH table that has it, not to a free-form table (whose
    // columns are unknown).
    assert_eq!(
        all(
            "WITH f AS (SELECT role AS floor_role, floor FROM team) SELECT floor_role FROM notes n JOIN f ON f.floor_role = n.role"
        ),
        json!([{"floor_role": "engineer"}])
    );
    assert_eq!(
        all("WITH f AS (SELECT role FROM team) SELECT role FROM notes n LEFT JOIN f ON f.role = n.text"),
        json!([{"role": null}])
    );
    // prepare lists the tables of subqueries in expressions of a join too.
    let p = parse(
        &db.prepare(
            "SELECT p.name FROM person p JOIN team t ON p.role = t.role WHERE p.role IN (SELECT role FROM notes)",
        )
        .unwrap(),
    );
    assert_eq!(p["tables"], json!(["person", "team", "notes"]));
    assert!(
        db.prepare("SELECT p.name FROM person p JOIN team t ON p.role = t.role WHERE EXISTS (SELECT 1 AS x FROM nope)")
            .is_err()
    );
    // A joined table's soft-deleted rows are read when the query tests its deleted_at.
    db.execute("DELETE FROM team WHERE role = 'manager'", None).unwrap();
    assert_eq!(
        all("SELECT p.name FROM person p JOIN team t ON p.role = t.role WHERE t.deleted_at IS NOT NULL"),
        json!([{"name": "Charlie"}])
    );
    assert_eq!(all("SELECT COUNT(*) AS n FROM person p JOIN team t ON p.role = t.role")[0]["n"], 2);
}
