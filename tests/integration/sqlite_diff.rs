//! Differential test: random rows loaded into REM (with secondary indexes)
//! and into SQLite as a JSON column; a generated family of WHERE / ORDER BY /
//! LIMIT / GROUP BY queries, rendered in both dialects, must return the same rows.
//!
//! Semantics pinned to agree: one JSON type per field (REM treats cross-type
//! comparisons as unknown, SQLite orders types), `PRAGMA case_sensitive_like`,
//! explicit `NULLS FIRST|LAST`, and `id` as the last sort key (ties).

use rem_host::Database;
use serde_json::{Value, json};

pub(crate) fn pick<'a>(r: &mut fastrand::Rng, xs: &[&'a str]) -> &'a str {
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

pub(crate) fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> Value {
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
pub(crate) fn normalise(rows: &[Value]) -> Vec<Vec<Value>> {
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

/// The same random rows in REM (table `t`, indexed on `a`, `b`, `c`) and in SQLite (`t(id, doc)`).
fn fixture(r: &mut fastrand::Rng) -> (Database, rusqlite::Connection) {
    let rows: Vec<Value> = (0..400).map(|i| row(r, i)).collect();
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
    (db, lite)
}

/// Panic at the first row where REM's answer and SQLite's differ, showing both statements.
pub(crate) fn assert_same(got: Vec<Vec<Value>>, want: Vec<Vec<Value>>, rem_sql: &str, lite_sql: &str) {
    if let Some(i) = (0..got.len().max(want.len())).find(|i| got.get(*i) != want.get(*i)) {
        panic!(
            "row {i} differs: REM {:?}, SQLite {:?} ({} and {} rows)\nREM:    {rem_sql}\nSQLite: {lite_sql}",
            got.get(i),
            want.get(i),
            got.len(),
            want.len()
        );
    }
}

/// Run `sql` in SQLite: rows as JSON objects keyed by column name.
pub(crate) fn run_lite(lite: &rusqlite::Connection, sql: &str) -> Vec<Value> {
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
}

#[test]
fn rem_sql_agrees_with_sqlite() {
    let mut r = fastrand::Rng::with_seed(0x9E3779B97F4A7C15);
    let (db, lite) = fixture(&mut r);
    let run_lite = |sql: &str| run_lite(&lite, sql);
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

/// A random expression over the rows' columns, rendered for REM and for SQLite, of one type
/// (`num`: a number; else text). Divisors go through `NULLIF(.., 0)` (REM raises division by
/// zero, as PostgreSQL does, where SQLite returns NULL); `%` only sees integers (SQLite
/// truncates floats first); magnitudes stay far from 64-bit overflow.
fn value_expr(r: &mut fastrand::Rng, depth: u32, num: bool) -> (String, String, bool) {
    let col = |f: &str| format!("json_extract(doc, '$.{f}')");
    let leaf = depth == 0 || r.u64(..3) == 0;
    if num {
        if leaf {
            return match r.u64(..4) {
                0 => ("a".into(), col("a"), true),
                1 => ("c".into(), col("c"), false),
                2 => {
                    let n = r.i64(-9..10);
                    (n.to_string(), n.to_string(), true)
                }
                _ => {
                    let f = r.i64(-40..40) as f64 / 4.0;
                    (format!("{f:?}"), format!("{f:?}"), false)
                }
            };
        }
        let (l_rem, l_lite, l_int) = value_expr(r, depth - 1, true);
        let (r_rem, r_lite, r_int) = value_expr(r, depth - 1, true);
        let int = l_int && r_int;
        match r.u64(..12) {
            0 | 1 => {
                let op = pick(r, &["+", "-", "*"]);
                (format!("({l_rem} {op} {r_rem})"), format!("({l_lite} {op} {r_lite})"), int)
            }
            2 => (format!("({l_rem} / NULLIF({r_rem}, 0))"), format!("({l_lite} / NULLIF({r_lite}, 0))"), int),
            3 if int => (format!("({l_rem} % NULLIF({r_rem}, 0))"), format!("({l_lite} % NULLIF({r_lite}, 0))"), true),
            4 => (format!("ABS({l_rem})"), format!("ABS({l_lite})"), l_int),
            5 => {
                let d = r.u64(..3);
                (format!("ROUND({l_rem}, {d})"), format!("ROUND({l_lite}, {d})"), false)
            }
            6 => (format!("COALESCE({l_rem}, {r_rem})"), format!("COALESCE({l_lite}, {r_lite})"), int),
            7 => (format!("NULLIF({l_rem}, {r_rem})"), format!("NULLIF({l_lite}, {r_lite})"), l_int),
            8 => {
                let (p_rem, p_lite) = predicate(r, 0);
                (
                    format!("CASE WHEN {p_rem} THEN {l_rem} ELSE {r_rem} END"),
                    format!("CASE WHEN {p_lite} THEN {l_lite} ELSE {r_lite} END"),
                    int,
                )
            }
            9 => {
                let (s_rem, s_lite, _) = value_expr(r, depth - 1, false);
                (format!("LENGTH({s_rem})"), format!("LENGTH({s_lite})"), true)
            }
            10 => (format!("CAST({l_rem} AS REAL)"), format!("CAST({l_lite} AS REAL)"), false),
            _ => (format!("-({l_rem})"), format!("-({l_lite})"), l_int),
        }
    } else {
        if leaf {
            return match r.u64(..3) {
                0 | 1 => ("b".into(), col("b"), false),
                _ => {
                    let w = pick(r, &["x", "apple", "", "a_b"]);
                    (format!("'{w}'"), format!("'{w}'"), false)
                }
            };
        }
        let (l_rem, l_lite, _) = value_expr(r, depth - 1, false);
        match r.u64(..9) {
            0 | 1 => {
                // Text, or an integer (floats are written with other digits by SQLite: %.17g).
                let (r_rem, r_lite) = match r.bool() {
                    true => {
                        let (x, y, _) = value_expr(r, depth - 1, false);
                        (x, y)
                    }
                    false => (0..8)
                        .map(|_| value_expr(r, depth - 1, true))
                        .find(|(.., int)| *int)
                        .map_or(("a".into(), "json_extract(doc, '$.a')".into()), |(x, y, _)| (x, y)),
                };
                (format!("({l_rem} || {r_rem})"), format!("({l_lite} || {r_lite})"), false)
            }
            2 => (format!("UPPER({l_rem})"), format!("UPPER({l_lite})"), false),
            3 => {
                let (start, len) = (r.u64(1..4), r.u64(..4));
                (format!("SUBSTR({l_rem}, {start}, {len})"), format!("SUBSTR({l_lite}, {start}, {len})"), false)
            }
            4 => {
                let (from, to) = (pick(r, &["a", "an", "p"]), pick(r, &["", "A", "xx"]));
                (format!("REPLACE({l_rem}, '{from}', '{to}')"), format!("REPLACE({l_lite}, '{from}', '{to}')"), false)
            }
            5 => (format!("TRIM({l_rem}, 'ae')"), format!("TRIM({l_lite}, 'ae')"), false),
            6 => {
                let (n_rem, n_lite, _) = value_expr(r, depth - 1, true);
                let w = pick(r, &["neg", "zero"]);
                (
                    format!("CASE WHEN {n_rem} < 0 THEN '{w}' WHEN {n_rem} = 0 THEN 'z' ELSE {l_rem} END"),
                    format!("CASE WHEN {n_lite} < 0 THEN '{w}' WHEN {n_lite} = 0 THEN 'z' ELSE {l_lite} END"),
                    false,
                )
            }
            7 => (format!("CAST(a AS TEXT) || {l_rem}"), format!("CAST({} AS TEXT) || {l_lite}", col("a")), false),
            _ => (format!("COALESCE({l_rem}, 'none')"), format!("COALESCE({l_lite}, 'none')"), false),
        }
    }
}

/// Expressions in the select list, in WHERE and in ORDER BY, against SQLite: at least 2,000
/// generated statements, every one compared row for row.
#[test]
fn expressions_agree_with_sqlite() {
    let mut r = fastrand::Rng::with_seed(0x5EED_0029);
    let (db, lite) = fixture(&mut r);
    let (mut statements, mut rows_compared, mut non_null) = (0, 0, 0);
    for n in 0..2_400 {
        let num = n % 2 == 0;
        let (e_rem, e_lite, _) = value_expr(&mut r, 3, num);
        let (rem_sql, lite_sql) = match n % 3 {
            0 => (
                format!("SELECT k, {e_rem} AS v FROM t ORDER BY id"),
                format!("SELECT json_extract(doc, '$.k') AS k, {e_lite} AS v FROM t ORDER BY id"),
            ),
            1 => {
                let (w_rem, w_lite, _) = value_expr(&mut r, 2, num);
                let op = pick(&mut r, &["=", "<", ">=", "!="]);
                (
                    format!("SELECT k FROM t WHERE {e_rem} {op} {w_rem} ORDER BY id"),
                    format!("SELECT json_extract(doc, '$.k') AS k FROM t WHERE {e_lite} {op} {w_lite} ORDER BY id"),
                )
            }
            _ => (
                format!("SELECT k, {e_rem} AS v FROM t ORDER BY v NULLS FIRST, id LIMIT 25"),
                format!(
                    "SELECT json_extract(doc, '$.k') AS k, {e_lite} AS v FROM t ORDER BY v NULLS FIRST, id LIMIT 25"
                ),
            ),
        };
        let got: Value =
            serde_json::from_str(&db.query(&rem_sql).unwrap_or_else(|e| panic!("{rem_sql}: {e}"))).unwrap();
        let want = run_lite(&lite, &lite_sql);
        assert_same(normalise(got.as_array().unwrap()), normalise(&want), &rem_sql, &lite_sql);
        rows_compared += want.len();
        non_null += want.iter().filter(|row| row.get("v").is_some_and(|v| !v.is_null())).count();
        statements += 1;
    }
    assert!(statements >= 2_000);
    assert!(rows_compared > 200_000 && non_null > 100_000, "{rows_compared} rows, {non_null} non-null values");
}

/// What REM decides where SQLite and PostgreSQL differ: division by zero and bad casts fail
/// the query, naming what failed.
#[test]
fn division_by_zero_and_bad_casts_fail_the_query() {
    let mut r = fastrand::Rng::with_seed(1);
    let (db, _) = fixture(&mut r);
    for (sql, needle) in [
        ("SELECT a / 0 AS v FROM t", "division by zero"),
        ("SELECT k FROM t WHERE a % (a - a) = 1", "division by zero"),
        ("SELECT CAST(b AS INTEGER) AS v FROM t WHERE b = 'apple'", "cannot cast \"apple\" to INTEGER"),
        ("SELECT 9223372036854775807 + a AS v FROM t WHERE a > 0", "out of range"),
        ("SELECT SUBSTR(b, 1, -1) AS v FROM t WHERE b IS NOT NULL", "negative substring length"),
    ] {
        let err = db.query(sql).expect_err(sql).to_string();
        assert!(err.contains(needle), "{sql}: {err}");
    }
    // The same query without the failing rows runs.
    assert!(db.query("SELECT a / NULLIF(a, 0) AS v FROM t").is_ok());
}
