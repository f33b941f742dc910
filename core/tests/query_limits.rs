//! Statements that are too large or too deep for the engine are refused with an error naming
//! the limit, never by overflowing the guest's 1 MiB stack; long `LIKE` patterns and `IN` lists
//! stay cheap. Everything runs on a thread with the guest's stack size.

mod common;

use common::Letters;
use rem_core::{Database, Error, MemoryStore, SearchOptions, SearchQuery};
use serde_json::{Value, json};

/// Run `f` on a thread with the wasm guest's 1 MiB stack (8 MiB in unoptimised builds, whose
/// frames are several times larger); a stack overflow aborts the test binary.
fn on_guest_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let size = if cfg!(debug_assertions) { 8 << 20 } else { 1 << 20 };
    std::thread::Builder::new().stack_size(size).spawn(f).unwrap().join().unwrap()
}

/// Table `t` with 50 rows `{a: i, s: "row i", text}`, `a` not indexed.
fn db() -> Database<MemoryStore> {
    let db = Database::new(MemoryStore::new(), "t").unwrap().with_embedder(Box::new(Letters));
    let schema = json!({"type": "object", "embedding_fields": ["text"],
        "properties": {"a": {"type": "integer"}, "s": {"type": "string"}, "text": {"type": "string"}}});
    db.register_schema("t", &schema.to_string()).unwrap();
    let rows: Vec<String> =
        (0..50).map(|i| json!({"a": i, "s": format!("row {i}"), "text": "abc"}).to_string()).collect();
    db.insert_batch("t", &rows).unwrap();
    db
}

fn count(db: &Database<MemoryStore>, sql: &str) -> u64 {
    let rows: Value = serde_json::from_str(&db.query(sql).unwrap_or_else(|e| panic!("{e}"))).unwrap();
    rows[0]["n"].as_u64().unwrap()
}

fn refused(db: &Database<MemoryStore>, sql: &str) -> String {
    match db.query(sql) {
        Err(e @ Error::InvalidQuery { .. }) => e.to_string(),
        other => panic!("{}...: {other:?}", &sql[..80.min(sql.len())]),
    }
}

#[test]
fn long_and_deep_expressions_are_refused_naming_the_limit() {
    on_guest_stack(|| {
        let db = db();
        for terms in [3_000, 30_000] {
            let sql = format!("SELECT * FROM t WHERE {}", vec!["a = 1"; terms].join(" AND "));
            let e = refused(&db, &sql);
            assert!(e.contains("more than 1000 operators (the limit)"), "{e}");
        }
        let ors = format!("SELECT id FROM t WHERE {}", vec!["a = 1"; 20_000].join(" OR "));
        assert!(refused(&db, &ors).contains("operators (the limit)"));
        let sum = format!("SELECT * FROM t WHERE a = {}", vec!["1"; 20_000].join(" + "));
        assert!(refused(&db, &sum).contains("operators (the limit)"));
        let deep = "nests deeper than 12 levels (the limit)";
        for n in [13, 500] {
            let parens = format!("SELECT * FROM t WHERE {}a = 1{}", "(".repeat(n), ")".repeat(n));
            assert!(refused(&db, &parens).contains(deep), "{n} parentheses");
            let nots = format!("SELECT * FROM t WHERE {}a = 1", "NOT ".repeat(n));
            assert!(refused(&db, &nots).contains(deep), "{n} NOTs");
            let calls = format!("SELECT * FROM t WHERE {}s{} = 'x'", "LOWER(".repeat(n), ")".repeat(n));
            assert!(refused(&db, &calls).contains(deep), "{n} calls");
            let mixed = format!("SELECT * FROM t WHERE {}a = 1{}", "NOT (- (".repeat(n / 2), "))".repeat(n / 2));
            assert!(refused(&db, &mixed).contains(deep), "{n} mixed");
        }
        // At the limit, parsed (and answered).
        let parens = format!("SELECT * FROM t WHERE {}a = 1{}", "(".repeat(12), ")".repeat(12));
        assert_eq!(db.query(&parens).unwrap().matches("\"id\"").count(), 1);
        let nots = format!("SELECT COUNT(*) AS n FROM t WHERE {}a = 1", "NOT ".repeat(12));
        assert_eq!(count(&db, &nots), 1);
        let calls = format!("SELECT COUNT(*) AS n FROM t WHERE {}s{} = 'row 1'", "LOWER(".repeat(12), ")".repeat(12));
        assert_eq!(count(&db, &calls), 1);
        let nested = format!("SELECT COUNT(*) AS n FROM t WHERE {}a = 1{}", "a = 2 OR (".repeat(6), ")".repeat(6));
        assert_eq!(count(&db, &nested), 2);
        let nested = format!("SELECT COUNT(*) AS n FROM t WHERE {}a = 1{}", "a = 2 OR (".repeat(7), ")".repeat(7));
        assert!(refused(&db, &nested).contains(deep));
        // Subqueries, derived tables and joins nest at great stack cost in the parser: refused
        // (REM runs none of them) without overflowing it.
        for n in [8, 30] {
            for sql in [
                format!("SELECT * FROM {}t{}", "(SELECT * FROM ".repeat(n), ")".repeat(n)),
                format!("SELECT * FROM {}t JOIN t ON 1 = 1{}", "(t JOIN ".repeat(n), " ON 1 = 1)".repeat(n)),
                format!("{}SELECT 1{}", "(SELECT 1 UNION ".repeat(n), ")".repeat(n)),
                format!("SELECT * FROM t WHERE {}1 = 1{}", "EXISTS (SELECT 1 FROM t WHERE ".repeat(n), ")".repeat(n)),
                format!("{}SELECT 1{}", "WITH x AS (".repeat(n), ") SELECT 1".repeat(n)),
            ] {
                assert!(db.query(&sql).is_err(), "{sql}");
            }
        }
        // Within the operator limit, but nested deeper than the compiler takes.
        let compared = format!("SELECT * FROM t WHERE a{}", " = 1".repeat(300));
        assert!(refused(&db, &compared).contains("expression nests deeper than 128 levels (the limit)"));
        let signs = format!("SELECT COUNT(*) AS n FROM t WHERE a = {}1", "- ".repeat(10));
        assert_eq!(count(&db, &signs), 1);
    });
}

#[test]
fn a_semantic_search_filter_is_held_to_the_same_limits() {
    on_guest_stack(|| {
        let db = db();
        let search = |filter: String| {
            let opts = SearchOptions { top_k: 3, filter: Some(filter), ..Default::default() };
            db.search("t", SearchQuery::Text("abc".into()), &opts)
        };
        let e = search(vec!["a = 1"; 30_000].join(" AND ")).unwrap_err();
        assert!(e.to_string().contains("operators (the limit)"), "{e}");
        assert_eq!(search("a = 1 OR a = 2".into()).unwrap().len(), 2);
    });
}

#[test]
fn long_chains_within_the_limits_run_and_answer_correctly() {
    on_guest_stack(|| {
        let db = db();
        // 450 terms joined by OR (899 operators): one level of nesting, however long.
        let ors: Vec<String> = (0..450).map(|i| format!("a = {}", i % 60)).collect();
        assert_eq!(count(&db, &format!("SELECT COUNT(*) AS n FROM t WHERE {}", ors.join(" OR "))), 50);
        let ands = vec!["a >= 10"; 450].join(" AND ");
        assert_eq!(count(&db, &format!("SELECT COUNT(*) AS n FROM t WHERE {ands}")), 40);
        // A long chain as a select item (named by its text) and nested chains, in parentheses.
        let rows = db.query(&format!("SELECT {ands} AS big FROM t WHERE a = 12")).unwrap();
        assert_eq!(rows, r#"[{"big":true}]"#);
        let nested = format!("{}a = 3{}", "(a = 1 OR (a = 2 AND a = 2) OR ".repeat(5), ")".repeat(5));
        assert_eq!(count(&db, &format!("SELECT COUNT(*) AS n FROM t WHERE {nested}")), 3);
        let explain = db.query(&format!("EXPLAIN SELECT * FROM t WHERE {}", ors.join(" OR "))).unwrap();
        assert!(explain.contains("full scan"), "{explain}");
    });
}

#[test]
fn like_with_thousands_of_wildcards_answers() {
    on_guest_stack(|| {
        let db = db();
        let long = format!("{}b", "a".repeat(10_000));
        db.insert("t", &json!({"a": 100, "s": long}).to_string()).unwrap();
        let pattern = "%a".repeat(5_000);
        assert_eq!(count(&db, &format!("SELECT COUNT(*) AS n FROM t WHERE s LIKE '{pattern}'")), 0);
        assert_eq!(count(&db, &format!("SELECT COUNT(*) AS n FROM t WHERE s LIKE '{pattern}%b'")), 1);
        assert_eq!(count(&db, &format!("SELECT COUNT(*) AS n FROM t WHERE s NOT ILIKE '{pattern}%'")), 50);
        let params = json!([format!("%{}_b", "a".repeat(4_000))]).to_string();
        let rows = db.query_with_params("SELECT a FROM t WHERE s LIKE ?", &params).unwrap();
        assert_eq!(rows, r#"[{"a":100}]"#);
    });
}

#[test]
fn a_long_in_list_answers_as_when_compared_item_by_item() {
    let db = db();
    let mut r = fastrand::Rng::with_seed(5);
    let mut answers = std::collections::HashSet::new();
    for round in 0..40 {
        // Numbers written as integers and floats, strings, NULL and negative numbers.
        let items: Vec<String> = (0..r.usize(8..10_000))
            .map(|_| match r.u8(0..10) {
                0 => format!("{}.0", r.i64(-5..60)),
                1 if round % 2 == 0 => format!("'{}'", r.i64(-5..60)),
                2 if r.u8(0..50) == 0 => "NULL".into(),
                _ => r.i64(-5..60).to_string(),
            })
            .collect();
        let not = if r.bool() { "NOT " } else { "" };
        let hashed = format!("SELECT COUNT(*) AS n FROM t WHERE a {not}IN ({})", items.join(", "));
        // An item that is not a literal keeps the list from being hashed; -(-1000) matches no row.
        let linear = format!("SELECT COUNT(*) AS n FROM t WHERE a {not}IN ({}, -(-1000))", items.join(", "));
        let n = count(&db, &hashed);
        assert_eq!(n, count(&db, &linear), "{not}IN over {} items", items.len());
        answers.insert(n);
    }
    assert!(answers.len() >= 3, "varied answers: {answers:?}");
}
