//! Join and subquery benchmarks: REM through the component against SQLite with the same
//! indexes on the same JSON data, same queries, same run (issue 29's target: within 2x).
//!
//! Data: 1,000 sessions (a user of 50, a score) and 100,000 messages (100 per session, a
//! role, a token count). REM indexes `messages.session_id`, `messages.role` and
//! `sessions.user`; SQLite stores each row as a JSON document with expression indexes on the
//! same fields (and on `sessions.session_id`, REM's natural key).
//!
//! Each case alternates chunks of 5 REM calls and 5 SQLite calls and reports both medians.
//!
//! Run: `cargo bench -p rem-host --bench join` (`REM_JOIN_MESSAGES` overrides the message count;
//! `REM_JOIN_ONLY=<text>` runs only the cases whose label contains it).

use std::time::{Duration, Instant};

use rem_host::{Database, OpenOptions};
use serde_json::json;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Time `a` and `b` in alternating chunks of 5 calls, `runs` calls each; both medians.
fn time_pair(
    runs: usize,
    mut a: impl FnMut() -> usize,
    mut b: impl FnMut() -> usize,
) -> (Duration, Duration, usize, usize) {
    let (na, nb) = (a(), b());
    let runs = std::env::var("REM_JOIN_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(runs);
    let (mut ta, mut tb) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    while ta.len() < runs {
        for (f, times) in [(&mut a as &mut dyn FnMut() -> usize, &mut ta), (&mut b, &mut tb)] {
            for _ in 0..5.min(runs - times.len()) {
                let t = Instant::now();
                f();
                times.push(t.elapsed());
            }
        }
    }
    (median(ta), median(tb), na, nb)
}

fn main() {
    let n: usize = std::env::var("REM_JOIN_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let sessions: Vec<String> = (0..1000)
        .map(|i| {
            json!({"session_id": format!("s{i:04}"), "user": format!("u{:02}", i % 50), "score": i % 97}).to_string()
        })
        .collect();
    let roles = ["user", "assistant", "tool"];
    let messages: Vec<String> = (0..n)
        .map(|i| {
            json!({"mid": format!("m{i:06}"), "session_id": format!("s{:04}", (i * 7919) % 1000),
                   "role": roles[i % 3], "tokens": (i * 31) % 400})
            .to_string()
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::open(OpenOptions::at(tmp.path().join("rem"))).unwrap();
    let s_schema = json!({"type": "object", "key_field": "session_id", "indexed_fields": ["session_id", "user"],
        "properties": {"session_id": {"type": "string"}, "user": {"type": "string"}, "score": {"type": "integer"}}});
    let m_schema = json!({"type": "object", "key_field": "mid", "indexed_fields": ["session_id", "role"],
        "properties": {"mid": {"type": "string"}, "session_id": {"type": "string"}, "role": {"type": "string"},
                       "tokens": {"type": "integer"}}});
    db.register_schema("sessions", &s_schema.to_string()).unwrap();
    db.register_schema("messages", &m_schema.to_string()).unwrap();
    db.insert_batch_with_progress("sessions", &sessions, 1000, &mut |_| {}).unwrap();
    db.insert_batch_with_progress("messages", &messages, 1000, &mut |_| {}).unwrap();

    let lite = rusqlite::Connection::open(tmp.path().join("lite.db")).unwrap();
    lite.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE sessions (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
         CREATE TABLE messages (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);",
    )
    .unwrap();
    {
        let tx = lite.unchecked_transaction().unwrap();
        for (table, rows) in [("sessions", &sessions), ("messages", &messages)] {
            let mut ins = tx.prepare(&format!("INSERT INTO {table} (doc) VALUES (?1)")).unwrap();
            for r in rows {
                ins.execute([r]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    lite.execute_batch(
        "CREATE INDEX s_id ON sessions (json_extract(doc, '$.session_id'));
         CREATE INDEX s_user ON sessions (json_extract(doc, '$.user'));
         CREATE INDEX m_session ON messages (json_extract(doc, '$.session_id'));
         CREATE INDEX m_role ON messages (json_extract(doc, '$.role')); ANALYZE;",
    )
    .unwrap();
    let lite_count = |sql: &str| -> usize {
        let mut stmt = lite.prepare_cached(sql).unwrap();
        let cols = stmt.column_count();
        let mut q = stmt.query([]).unwrap();
        let mut rows = 0;
        while let Some(row) = q.next().unwrap() {
            for c in 0..cols {
                let _ = row.get_ref(c).unwrap();
            }
            rows += 1;
        }
        rows
    };
    let rem_rows = |sql: &str| -> usize {
        serde_json::from_str::<serde_json::Value>(&db.query(sql).unwrap()).unwrap().as_array().unwrap().len()
    };
    let j = |a: &str, f: &str| format!("json_extract({a}.doc, '$.{f}')");
    let cases = [
        (
            "join, all 100,000 messages to their sessions, grouped by user",
            "SELECT s.user, COUNT(*) AS n, SUM(m.tokens) AS t FROM messages m JOIN sessions s ON m.session_id = s.session_id GROUP BY s.user".to_string(),
            format!("SELECT {u} AS user, COUNT(*) AS n, SUM({t}) AS t FROM messages m JOIN sessions s ON {ms} = {ss} GROUP BY {u}",
                u = j("s", "user"), t = j("m", "tokens"), ms = j("m", "session_id"), ss = j("s", "session_id")),
            10,
        ),
        (
            "join, one user's sessions (20) to their messages (~2,000)",
            "SELECT m.mid, m.tokens, s.score FROM sessions s JOIN messages m ON m.session_id = s.session_id WHERE s.user = 'u07'".to_string(),
            format!("SELECT {} AS mid, {} AS tokens, {} AS score FROM sessions s JOIN messages m ON {} = {} WHERE {} = 'u07'",
                j("m", "mid"), j("m", "tokens"), j("s", "score"), j("m", "session_id"), j("s", "session_id"), j("s", "user")),
            30,
        ),
        (
            "IN (SELECT ...), messages of one user's sessions (~2,000)",
            "SELECT mid FROM messages WHERE session_id IN (SELECT session_id FROM sessions WHERE user = 'u07')".to_string(),
            "SELECT json_extract(doc, '$.mid') FROM messages WHERE json_extract(doc, '$.session_id') IN \
             (SELECT json_extract(doc, '$.session_id') FROM sessions WHERE json_extract(doc, '$.user') = 'u07')".to_string(),
            30,
        ),
    ];
    println!("messages: {n}, sessions: 1000");
    println!("| case | REM | SQLite | REM / SQLite | rows |");
    println!("|---|---|---|---|---|");
    let only = std::env::var("REM_JOIN_ONLY").unwrap_or_default();
    for (label, rem_sql, lite_sql, runs) in cases.into_iter().filter(|c| c.0.contains(only.as_str())) {
        let (tr, tl, nr, nl) = time_pair(runs, || rem_rows(&rem_sql), || lite_count(&lite_sql));
        assert_eq!(nr, nl, "{label}: REM and SQLite return the same number of rows");
        println!(
            "| {label} | {:.1} ms | {:.1} ms | {:.2}x | {nr} |",
            tr.as_secs_f64() * 1e3,
            tl.as_secs_f64() * 1e3,
            tr.as_secs_f64() / tl.as_secs_f64()
        );
    }
}
