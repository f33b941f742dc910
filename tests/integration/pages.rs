//! Reading a `SELECT` page by page in id order (`query-page`, keyset pagination).

use rem_host::{Database, Error};
use rem_tests::parse;
use serde_json::{Value, json};

fn db_with(n: usize) -> Database {
    let db = Database::in_memory().unwrap();
    let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}, "even": {"type": "boolean"}},
                        "key_field": "n", "indexed_fields": ["even"]});
    db.register_schema("t", &schema.to_string()).unwrap();
    let rows: Vec<String> = (0..n).map(|i| json!({"n": i, "even": i % 2 == 0}).to_string()).collect();
    db.insert_batch("t", &rows).unwrap();
    db
}

/// Every page of `sql` (with `params`), and how many pages it took.
fn pages(db: &Database, sql: &str, params: Option<&str>, limit: u32) -> (Vec<Value>, usize) {
    let (mut rows, mut after, mut count) = (Vec::new(), None::<String>, 0);
    loop {
        let page = parse(&db.query_page(sql, params, after.as_deref(), limit).unwrap());
        count += 1;
        rows.extend(page["rows"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => return (rows, count),
        }
    }
}

#[test]
fn pages_in_id_order_give_the_whole_result_once() {
    let db = db_with(2_500);
    let all = parse(&db.query("SELECT * FROM t").unwrap());
    let (rows, n) = pages(&db, "SELECT * FROM t", None, 1000);
    assert_eq!(n, 3);
    assert_eq!(Value::Array(rows), all);
    // A filter through an index, a projection without the id, and parameters.
    let even = parse(&db.query("SELECT n FROM t WHERE even = true").unwrap());
    let (rows, n) = pages(&db, "SELECT n FROM t WHERE even = ?", Some("[true]"), 500);
    assert_eq!((rows.len(), n), (1250, 3), "an exact multiple of the page ends with an empty page");
    assert!(rows.iter().all(|r| r.as_object().unwrap().len() == 1), "the cursor column is not shown");
    assert_eq!(Value::Array(rows), even);
    // A filter on a property (a scan): pages start where the last one ended.
    let (rows, _) = pages(&db, "SELECT n FROM t WHERE n >= 2400", None, 30);
    assert_eq!(rows.len(), 100);
    // A scan after an id starts there: a page reads its own rows, not the ones before it.
    let mid = all[2000]["id"].as_str().unwrap();
    let plan = parse(&db.query(&format!("EXPLAIN SELECT * FROM t WHERE id > '{mid}' LIMIT 5")).unwrap());
    assert_eq!(plan[0]["rows_read"], 6, "the row at the bound and five after it: {plan}");
}

#[test]
fn what_cannot_be_paged_by_id_is_refused_by_name() {
    let db = db_with(10);
    for (sql, word) in [
        ("SELECT * FROM t ORDER BY n", "ORDER BY"),
        ("SELECT count(*) FROM t", "aggregate"),
        ("SELECT * FROM t LIMIT 3", "LIMIT"),
        ("SELECT DISTINCT even FROM t", "DISTINCT"),
        ("LOOKUP '3'", "LOOKUP"),
    ] {
        match db.query_page(sql, None, None, 10) {
            Err(Error::Unsupported(m)) => assert!(m.contains(word), "{sql}: {m}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    assert!(matches!(db.query_page("SELECT * FROM t", None, Some("nope"), 10), Err(Error::InvalidArgument(_))));
    assert!(matches!(db.query_page("SELECT * FROM t", None, None, 0), Err(Error::InvalidArgument(_))));
}
