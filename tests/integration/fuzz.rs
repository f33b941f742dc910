//! Seeded fuzzing through the host: mutated SQL statements and JSON rows sent to the real
//! component, as the CLI and Python send them. Only typed errors or results may come back (no
//! trap, no internal error, no panic), a failed write leaves the table exactly as it was, and
//! the handle keeps working. `REM_FUZZ_SEED` picks the seed (printed on failure); the run is
//! bounded by `REM_FUZZ_ITERATIONS` (default 4,000 of each) and 20 seconds of wall clock.
//! (The native fuzz test, `core/tests/fuzz.rs`, and the cargo-fuzz targets go further; this one
//! checks the boundary: error mapping, rollback through redb, the engine restarted or not.)

use std::time::{Duration, Instant};

use rem_host::Database;
use serde_json::{Value, json};

/// Error kinds a bad statement or row may rightly get.
const TYPED: [&str; 6] =
    ["invalid_query", "unsupported", "schema_not_found", "invalid_argument", "validation", "not_found"];

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One random edit of `text`: delete, duplicate or swap a span, insert an operator, a quote, a
/// parenthesis, a huge number or a deep nest.
fn mutate(rng: &mut fastrand::Rng, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len().max(1);
    let (a, b) = {
        let x = rng.usize(0..n);
        let y = rng.usize(x..=n.min(x + 12));
        (x.min(chars.len()), y.min(chars.len()))
    };
    let span: String = chars[a..b].iter().collect();
    let head: String = chars[..a].iter().collect();
    let tail: String = chars[b..].iter().collect();
    let inserts = [
        " AND ",
        " OR ",
        " NOT ",
        "(",
        ")",
        "'",
        "\"",
        " = ",
        " LIKE '%%_%' ",
        " IN (1,2,3) ",
        ",",
        " * ",
        "99999999999999999999999999",
        "-",
        " NULL ",
        " ORDER BY ",
        " GROUP BY ",
        " LIMIT 0 ",
        "\\u0000",
        "[",
        "{",
    ];
    match rng.u8(0..5) {
        0 => format!("{head}{tail}"),
        1 => format!("{head}{span}{span}{tail}"),
        2 => format!("{head}{}{span}{tail}", inserts[rng.usize(0..inserts.len())]),
        3 => {
            let depth = rng.usize(1..200);
            format!("{head}{}{span}{}{tail}", "(".repeat(depth), ")".repeat(depth))
        }
        _ => format!("{head}{}{tail}", " AND x = 1".repeat(rng.usize(1..2000))),
    }
}

fn check(seed: u64, what: &str, input: &str, result: rem_host::Result<impl Sized>) {
    if let Err(e) = result {
        assert!(TYPED.contains(&e.kind()), "seed {seed}: {what} {input:.300} gave {} ({e:.500})", e.kind());
    }
}

#[test]
fn mutated_statements_and_rows_get_typed_answers_and_change_nothing() {
    let seed = env_num("REM_FUZZ_SEED", 7);
    let iterations = env_num("REM_FUZZ_ITERATIONS", 4000);
    let budget = Duration::from_secs(20);
    let mut rng = fastrand::Rng::with_seed(seed);
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/select.json")).unwrap(),
    )
    .unwrap();
    let db = Database::in_memory().unwrap();
    let mut schema = doc["schema"].clone();
    schema["indexed_fields"] = doc["indexed_fields"].clone();
    db.register_schema("person", &schema.to_string()).unwrap();
    let rows: Vec<String> = doc["rows"].as_array().unwrap().iter().map(|r| r.to_string()).collect();
    db.insert_batch("person", &rows).unwrap();
    let snapshot = || db.query("SELECT * FROM person ORDER BY id").unwrap();
    let before = snapshot();
    let statements: Vec<String> =
        doc["cases"].as_array().unwrap().iter().map(|c| c["sql"].as_str().unwrap().to_string()).collect();

    let started = Instant::now();
    for i in 0..iterations {
        if started.elapsed() > budget {
            break;
        }
        // A statement, mutated one to three times.
        let mut sql = statements[rng.usize(0..statements.len())].clone();
        for _ in 0..rng.usize(1..4) {
            sql = mutate(&mut rng, &sql);
        }
        check(seed, "statement", &sql, db.query(&sql));
        // A row, mutated as text: refused whole or written whole.
        let mut row = rows[rng.usize(0..rows.len())].clone();
        for _ in 0..rng.usize(1..3) {
            row = mutate(&mut rng, &row);
        }
        let batch = vec![row.clone(), json!({"name": format!("fuzz-{i}"), "age": 1}).to_string()];
        let written = db.insert_batch("person", &batch);
        let failed = written.is_err();
        check(seed, "row", &row, written);
        if failed {
            assert_eq!(snapshot(), before, "seed {seed}: a failed batch changed the table (row {row:.300})");
        } else {
            // Put the table back as it was, for the next comparison: new rows removed, rows the
            // batch upserted (a mutated row may keep its key) written again as they were.
            for id in written_ids(&db, &before) {
                db.delete(&id, true).unwrap();
            }
            db.insert_batch("person", &rows).unwrap();
            assert_eq!(snapshot(), before, "seed {seed}: cleanup after row {row:.300}");
        }
    }
    // Still usable.
    assert_eq!(db.count("person").unwrap(), rows.len() as u64);
}

/// Ids in the table now that were not in `before`.
fn written_ids(db: &Database, before: &str) -> Vec<String> {
    let before: Vec<Value> = serde_json::from_str(before).unwrap();
    let now: Vec<Value> = serde_json::from_str(&db.query("SELECT * FROM person ORDER BY id").unwrap()).unwrap();
    now.into_iter()
        .filter(|r| !before.iter().any(|b| b["id"] == r["id"]))
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}
