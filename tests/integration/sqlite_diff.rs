//! Differential test: random rows loaded into REM (with secondary indexes)
//! and into SQLite as a JSON column; a generated family of WHERE / ORDER BY /
//! LIMIT / GROUP BY queries, rendered in both dialects, must return the same rows.
//!
//! Semantics pinned to agree: one JSON type per field (REM treats cross-type
//! comparisons as unknown, SQLite orders types), `PRAGMA case_sensitive_like`,
//! explicit `NULLS FIRST|LAST`, and `id` as the last sort key (ties).

use rem_host::Database;
use serde_json::{Value, json};

fn pick<'a>(r: &mut fastrand::Rng, xs: &[&'a str]) -> &'a str {
    xs[r.usize(..xs.len())]
}

const WORDS: &[&str] = &["apple", "Apple", "banana", "band", "cherry", "", "a_b", "100%"];

fn row(r: &mut fastrand::Rng, i: u64) -> Value {
    let mut v = json!({"k": format!("row{i:04}")});
    if r.u64(..6) > 0 {
        v["a"] = json!(r.u64(..40) as i64 - 10);
    }
    if r.u64(..5) > 0 {
        v["b"] = json!(pick(r, WORDS));
    }
    if r.u64(..4) > 0 {
        v["c"] = json!((r.u64(..1000) as f64) / 16.0);
    }
    v
}

/// A predicate rendered for REM and for SQLite.
fn predicate(r: &mut fastrand::Rng, depth: u32) -> (String, String) {
    let col = |f: &str| format!("json_extract(doc, '$.{f}')");
    if depth > 0 && r.u64(..3) == 0 {
        let (l1, s1) = predicate(r, depth - 1);
        let (l2, s2) = predicate(r, depth - 1);
        return match r.u64(..3) {
            0 => (format!("({l1} AND {l2})"), format!("({s1} AND {s2})")),
            1 => (format!("({l1} OR {l2})"), format!("({s1} OR {s2})")),
            _ => (format!("NOT ({l1})"), format!("NOT ({s1})")),
        };
    }
    let op = pick(r, &["=", "!=", "<", "<=", ">", ">="]);
    match r.u64(..8) {
        0 => {
            let n = r.u64(..40) as i64 - 10;
            (format!("a {op} {n}"), format!("{} {op} {n}", col("a")))
        }
        1 => {
            let w = pick(r, WORDS);
            (format!("b {op} '{w}'"), format!("{} {op} '{w}'", col("b")))
        }
        2 => {
            let f = (r.u64(..1000) as f64) / 16.0;
            (format!("c {op} {f}"), format!("{} {op} {f}", col("c")))
        }
        3 => {
            let list: Vec<String> = (0..3).map(|_| (r.u64(..40) as i64 - 10).to_string()).collect();
            let not = if r.u64(..2) == 0 { "NOT " } else { "" };
            (format!("a {not}IN ({})", list.join(", ")), format!("{} {not}IN ({})", col("a"), list.join(", ")))
        }
        4 => {
            let p = pick(r, &["a%", "b%", "%an%", "_pple", "%e", "A%", "a\\_b", "100\\%"]);
            let not = if r.u64(..3) == 0 { "NOT " } else { "" };
            (format!("b {not}LIKE '{p}'"), format!("{} {not}LIKE '{p}' ESCAPE '\\'", col("b")))
        }
        5 => {
            let f = pick(r, &["a", "b", "c"]);
            let not = if r.u64(..2) == 0 { " NOT" } else { "" };
            (format!("{f} IS{not} NULL"), format!("{} IS{not} NULL", col(f)))
        }
        6 => {
            let lo = r.u64(..30) as i64 - 10;
            let hi = lo + r.u64(..15) as i64;
            (format!("a BETWEEN {lo} AND {hi}"), format!("{} BETWEEN {lo} AND {hi}", col("a")))
        }
        _ => {
            let lo = (r.u64(..500) as f64) / 16.0;
            (format!("c >= {lo} AND a < 20"), format!("{} >= {lo} AND {} < 20", col("c"), col("a")))
        }
    }
}

fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef::*;
    match v {
        Null => Value::Null,
        Integer(i) => json!(i),
        Real(f) => json!(f),
        Text(t) => json!(String::from_utf8_lossy(t)),
        Blob(_) => panic!("no blobs here"),
    }
}

/// Numbers compared as f64 (REM may return 30 where SQLite returns 30.0).
fn normalise(rows: &[Value]) -> Vec<Vec<Value>> {
    rows.iter()
        .map(|r| {
            r.as_object()
                .unwrap()
                .values()
                .map(|v| match v {
                    Value::Number(n) => json!((n.as_f64().unwrap() * 1e6).round() / 1e6),
                    other => other.clone(),
                })
                .collect()
        })
        .collect()
}

#[test]
fn rem_sql_agrees_with_sqlite() {
    let mut r = fastrand::Rng::with_seed(0x9E3779B97F4A7C15);
    let rows: Vec<Value> = (0..400).map(|i| row(&mut r, i)).collect();

    let db = Database::in_memory().unwrap();
    let schema = json!({"type": "object", "key_field": "k", "indexed_fields": ["a", "b", "c"],
        "properties": {"k": {"type": "string"}, "a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "number"}}});
    db.register_schema("t", &schema.to_string()).unwrap();
    let texts: Vec<String> = rows.iter().map(|v| v.to_string()).collect();
    let ids = db.insert_batch("t", &texts).unwrap();

    let lite = rusqlite::Connection::open_in_memory().unwrap();
    lite.execute_batch("PRAGMA case_sensitive_like = ON; CREATE TABLE t (id TEXT PRIMARY KEY, doc TEXT NOT NULL);")
        .unwrap();
    for (id, text) in ids.iter().zip(&texts) {
        lite.execute("INSERT INTO t (id, doc) VALUES (?1, ?2)", (id, text)).unwrap();
    }
    let run_lite = |sql: &str| -> Vec<Value> {
        let mut stmt = lite.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        let mut q = stmt.query([]).unwrap();
        while let Some(row) = q.next().unwrap() {
            let mut m = serde_json::Map::new();
            for (i, n) in names.iter().enumerate() {
                m.insert(n.clone(), sqlite_value(row.get_ref(i).unwrap()));
            }
            out.push(Value::Object(m));
        }
        out
    };
    let col = |f: &str| format!("json_extract(doc, '$.{f}')");

    let mut checked = 0;
    let mut rows_compared = 0;
    for n in 0..300 {
        let (rw, sw) = predicate(&mut r, 2);
        let (rem_sql, lite_sql) = match n % 3 {
            0 => {
                let f = pick(&mut r, &["a", "b", "c"]);
                let dir = pick(&mut r, &["ASC", "DESC"]);
                let nulls = pick(&mut r, &["NULLS FIRST", "NULLS LAST"]);
                let limit = r.u64(..30);
                let offset = r.u64(..10);
                (
                    format!(
                        "SELECT k, a, b, c FROM t WHERE {rw} ORDER BY {f} {dir} {nulls}, id LIMIT {limit} OFFSET {offset}"
                    ),
                    format!(
                        "SELECT {} AS k, {} AS a, {} AS b, {} AS c FROM t WHERE {sw} ORDER BY {} {dir} {nulls}, id LIMIT {limit} OFFSET {offset}",
                        col("k"),
                        col("a"),
                        col("b"),
                        col("c"),
                        col(f)
                    ),
                )
            }
            1 => (
                format!("SELECT k FROM t WHERE {rw} ORDER BY id"),
                format!("SELECT {} AS k FROM t WHERE {sw} ORDER BY id", col("k")),
            ),
            _ => (
                format!(
                    "SELECT b, COUNT(*) AS n, COUNT(a) AS na, SUM(a) AS s, MIN(c) AS lo, MAX(a) AS hi FROM t WHERE {rw} GROUP BY b ORDER BY b NULLS FIRST"
                ),
                format!(
                    "SELECT {b} AS b, COUNT(*) AS n, COUNT({a}) AS na, SUM({a}) AS s, MIN({c}) AS lo, MAX({a}) AS hi FROM t WHERE {sw} GROUP BY {b} ORDER BY {b} NULLS FIRST",
                    b = col("b"),
                    a = col("a"),
                    c = col("c")
                ),
            ),
        };
        let got: Value =
            serde_json::from_str(&db.query(&rem_sql).unwrap_or_else(|e| panic!("{rem_sql}: {e}"))).unwrap();
        let want = run_lite(&lite_sql);
        assert_eq!(normalise(got.as_array().unwrap()), normalise(&want), "\nREM:    {rem_sql}\nSQLite: {lite_sql}");
        rows_compared += want.len();
        checked += 1;
    }
    assert_eq!(checked, 300);
    // Guard against a family of queries that all return nothing.
    assert!(rows_compared > 5_000, "only {rows_compared} rows compared");
}
