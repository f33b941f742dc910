//! Differential test of joins, subqueries, `WITH`, derived tables and `UNION` against SQLite:
//! two related tables (messages of sessions, some messages in no session) loaded into both;
//! generated statements (correlated `[NOT] EXISTS` among them) compared row for row.

use rem_host::Database;
use serde_json::{Value, json};

use super::sqlite_diff::{assert_same, normalise, pick, run_lite};

const USERS: &[&str] = &["ann", "bob", "cy", "dee"];
const ROLES: &[&str] = &["user", "assistant", "tool"];

fn fixture(r: &mut fastrand::Rng) -> (Database, rusqlite::Connection) {
    let db = Database::in_memory().unwrap();
    let sessions = json!({"type": "object", "key_field": "session_id", "indexed_fields": ["user"],
        "properties": {"session_id": {"type": "string"}, "user": {"type": "string"}, "score": {"type": "integer"}}});
    let messages = json!({"type": "object", "key_field": "mid", "indexed_fields": ["session_id", "role"],
        "properties": {"mid": {"type": "string"}, "session_id": {"type": "string"}, "role": {"type": "string"},
                       "n": {"type": "integer"}}});
    db.register_schema("sessions", &sessions.to_string()).unwrap();
    db.register_schema("messages", &messages.to_string()).unwrap();
    let lite = rusqlite::Connection::open_in_memory().unwrap();
    lite.execute_batch(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
         CREATE TABLE messages (id TEXT PRIMARY KEY, doc TEXT NOT NULL);",
    )
    .unwrap();
    let load = |table: &str, rows: Vec<Value>| {
        let texts: Vec<String> = rows.iter().map(Value::to_string).collect();
        let ids = db.insert_batch(table, &texts).unwrap();
        for (id, text) in ids.iter().zip(&texts) {
            lite.execute(&format!("INSERT INTO {table} (id, doc) VALUES (?1, ?2)"), (id, text)).unwrap();
        }
    };
    let sessions: Vec<Value> = (0..40)
        .map(|i| {
            let mut s = json!({"session_id": format!("s{i:02}"), "user": pick(r, USERS)});
            if r.u8(..5) > 0 {
                s["score"] = json!(r.i64(0..20));
            }
            s
        })
        .collect();
    load("sessions", sessions);
    let messages: Vec<Value> = (0..600)
        .map(|i| {
            // Sessions s00..s49: the last ten do not exist (LEFT JOIN finds nothing for them).
            let mut m = json!({"mid": format!("m{i:03}"), "session_id": format!("s{:02}", r.u8(..50)),
                               "role": pick(r, ROLES)});
            if r.u8(..6) > 0 {
                m["n"] = json!(r.i64(-5..15));
            }
            m
        })
        .collect();
    load("messages", messages);
    (db, lite)
}

/// `alias.field` for SQLite.
fn j(alias: &str, field: &str) -> String {
    format!("json_extract({alias}.doc, '$.{field}')")
}

/// A predicate on messages `m` and one on sessions `s`, for REM and SQLite.
fn preds(r: &mut fastrand::Rng) -> ((String, String), (String, String)) {
    let k = r.i64(-3..12);
    let op = pick(r, &["<", ">=", "=", "!="]);
    let m = match r.u8(..3) {
        0 => (format!("m.n {op} {k}"), format!("{} {op} {k}", j("m", "n"))),
        1 => {
            let role = pick(r, ROLES);
            (format!("m.role = '{role}'"), format!("{} = '{role}'", j("m", "role")))
        }
        _ => (
            format!("m.n IS NOT NULL AND m.n % 3 = {}", k.rem_euclid(3)),
            format!("{n} IS NOT NULL AND {n} % 3 = {}", k.rem_euclid(3), n = j("m", "n")),
        ),
    };
    let s = match r.u8(..3) {
        0 => (format!("s.score {op} {}", k + 5), format!("{} {op} {}", j("s", "score"), k + 5)),
        1 => {
            let u = pick(r, USERS);
            (format!("s.user = '{u}'"), format!("{} = '{u}'", j("s", "user")))
        }
        _ => (
            "s.score IS NULL OR s.user = 'ann'".into(),
            format!("{} IS NULL OR {} = 'ann'", j("s", "score"), j("s", "user")),
        ),
    };
    (m, s)
}

fn statement(r: &mut fastrand::Rng, n: u32) -> (String, String, bool) {
    let ((pm, lm), (ps, ls)) = preds(r);
    let k = r.i64(0..15);
    let on_rem = "m.session_id = s.session_id";
    let on_lite = format!("{} = {}", j("m", "session_id"), j("s", "session_id"));
    match n % 9 {
        0 => (
            format!(
                "SELECT m.mid, s.user, m.n + s.score AS t FROM messages m JOIN sessions s ON {on_rem} WHERE {pm} AND ({ps}) ORDER BY m.mid"
            ),
            format!(
                "SELECT {} AS mid, {} AS user, {} + {} AS t FROM messages m JOIN sessions s ON {on_lite} WHERE {lm} AND ({ls}) ORDER BY 1",
                j("m", "mid"),
                j("s", "user"),
                j("m", "n"),
                j("s", "score")
            ),
            true,
        ),
        1 => (
            format!(
                "SELECT m.mid, s.user, s.score FROM messages m LEFT JOIN sessions s ON {on_rem} AND s.score > {k} WHERE {pm} ORDER BY m.mid"
            ),
            format!(
                "SELECT {} AS mid, {} AS user, {} AS score FROM messages m LEFT JOIN sessions s ON {on_lite} AND {} > {k} WHERE {lm} ORDER BY 1",
                j("m", "mid"),
                j("s", "user"),
                j("s", "score"),
                j("s", "score")
            ),
            true,
        ),
        2 => (
            format!(
                "SELECT s.user, COUNT(*) AS c, SUM(m.n) AS total, MAX(s.score) AS top FROM messages m JOIN sessions s ON {on_rem} WHERE {pm} GROUP BY s.user ORDER BY s.user"
            ),
            format!(
                "SELECT {u} AS user, COUNT(*) AS c, SUM({}) AS total, MAX({}) AS top FROM messages m JOIN sessions s ON {on_lite} WHERE {lm} GROUP BY {u} ORDER BY 1",
                j("m", "n"),
                j("s", "score"),
                u = j("s", "user")
            ),
            true,
        ),
        3 => {
            let not = if r.bool() { "NOT " } else { "" };
            (
                format!(
                    "SELECT mid FROM messages WHERE session_id {not}IN (SELECT session_id FROM sessions WHERE score > {k}) ORDER BY mid"
                ),
                format!(
                    "SELECT json_extract(doc, '$.mid') AS mid FROM messages WHERE json_extract(doc, '$.session_id') {not}IN (SELECT json_extract(doc, '$.session_id') FROM sessions WHERE json_extract(doc, '$.score') > {k}) ORDER BY 1"
                ),
                true,
            )
        }
        4 => (
            format!(
                "SELECT mid, (SELECT MAX(score) FROM sessions WHERE user = 'bob') AS top FROM messages WHERE n > {k} AND EXISTS (SELECT 1 AS one FROM sessions WHERE score = {k}) ORDER BY mid"
            ),
            format!(
                "SELECT json_extract(doc, '$.mid') AS mid, (SELECT MAX(json_extract(doc, '$.score')) FROM sessions WHERE json_extract(doc, '$.user') = 'bob') AS top FROM messages WHERE json_extract(doc, '$.n') > {k} AND EXISTS (SELECT 1 FROM sessions WHERE json_extract(doc, '$.score') = {k}) ORDER BY 1"
            ),
            true,
        ),
        5 => (
            format!(
                "WITH hot AS (SELECT session_id, score FROM sessions WHERE score > {k}) SELECT m.mid, hot.score FROM messages m JOIN hot ON m.session_id = hot.session_id WHERE {pm} ORDER BY m.mid"
            ),
            format!(
                "WITH hot AS (SELECT json_extract(doc, '$.session_id') AS session_id, json_extract(doc, '$.score') AS score FROM sessions WHERE json_extract(doc, '$.score') > {k}) SELECT {} AS mid, hot.score AS score FROM messages m JOIN hot ON {} = hot.session_id WHERE {lm} ORDER BY 1",
                j("m", "mid"),
                j("m", "session_id")
            ),
            true,
        ),
        6 => {
            let all = if r.bool() { " ALL" } else { "" };
            (
                format!(
                    "SELECT user AS name FROM sessions WHERE score > {k} UNION{all} SELECT role FROM messages WHERE n = {k} ORDER BY name"
                ),
                format!(
                    "SELECT json_extract(doc, '$.user') AS name FROM sessions WHERE json_extract(doc, '$.score') > {k} UNION{all} SELECT json_extract(doc, '$.role') FROM messages WHERE json_extract(doc, '$.n') = {k} ORDER BY 1"
                ),
                false,
            )
        }
        8 => {
            // Correlated [NOT] EXISTS (one equality with the outer row), and a NULL outer key.
            let not = if r.bool() { "NOT " } else { "" };
            (
                format!(
                    "SELECT s.session_id, s.score FROM sessions s WHERE {not}EXISTS (SELECT 1 AS one FROM messages m WHERE m.session_id = s.session_id AND m.n > {k} AND m.role = 'user') ORDER BY s.session_id"
                ),
                format!(
                    "SELECT {} AS session_id, {} AS score FROM sessions s WHERE {not}EXISTS (SELECT 1 FROM messages m WHERE {} = {} AND {} > {k} AND {} = 'user') ORDER BY 1",
                    j("s", "session_id"),
                    j("s", "score"),
                    j("m", "session_id"),
                    j("s", "session_id"),
                    j("m", "n"),
                    j("m", "role")
                ),
                true,
            )
        }
        _ => (
            format!(
                "SELECT d.session_id, d.c FROM (SELECT session_id, COUNT(*) AS c FROM messages WHERE {} GROUP BY session_id) AS d WHERE d.c > {} ORDER BY d.session_id",
                pm.replace("m.", ""),
                k / 3
            ),
            format!(
                "SELECT d.session_id AS session_id, d.c AS c FROM (SELECT json_extract(doc, '$.session_id') AS session_id, COUNT(*) AS c FROM messages m WHERE {lm} GROUP BY 1) AS d WHERE d.c > {} ORDER BY 1",
                k / 3
            ),
            true,
        ),
    }
}

#[test]
fn joins_subqueries_ctes_and_unions_agree_with_sqlite() {
    let mut r = fastrand::Rng::with_seed(0x10_1D);
    let (db, lite) = fixture(&mut r);
    let (mut statements, mut rows_compared) = (0, 0);
    for n in 0..900 {
        let (rem_sql, lite_sql, ordered) = statement(&mut r, n);
        let got: Value =
            serde_json::from_str(&db.query(&rem_sql).unwrap_or_else(|e| panic!("{rem_sql}: {e}"))).unwrap();
        let want = run_lite(&lite, &lite_sql);
        let (mut got, mut want_n) = (normalise(got.as_array().unwrap()), normalise(&want));
        if !ordered {
            got.sort_by_key(|r| format!("{r:?}"));
            want_n.sort_by_key(|r| format!("{r:?}"));
        }
        assert_same(got, want_n, &rem_sql, &lite_sql);
        rows_compared += want.len();
        statements += 1;
    }
    assert_eq!(statements, 900);
    // The joined table is read through its index on the join key.
    let plan: Value = serde_json::from_str(
        &db.query("EXPLAIN SELECT m.mid FROM sessions s JOIN messages m ON m.session_id = s.session_id WHERE s.user = 'bob' AND s.score = 3")
            .unwrap(),
    )
    .unwrap();
    let steps = plan[0]["steps"].as_array().unwrap();
    assert!(steps[0]["plan"].as_str().unwrap().contains("index lookup on sessions"), "{plan}");
    assert!(steps[1]["plan"].as_str().unwrap().contains("index lookup on messages"), "{plan}");
    assert!(rows_compared > 20_000, "{rows_compared} rows compared");
}
