//! A seeded, time-bounded fuzz run on stable Rust: generated and mutated statements (from the
//! query corpus), rows and schemas against the engine with the in-memory store, through
//! `rem_core::fuzzing` (what the cargo-fuzz targets in `fuzz/` run). It checks that nothing
//! panics, every call gives rows or a typed error, and a failed call changes no stored key or
//! value.
//!
//! `REM_FUZZ_SEED` (default 1) picks the inputs, `REM_FUZZ_ITERATIONS` (default 20,000) bounds the
//! run and `REM_FUZZ_SECONDS` (default 20) its time. A failure names the seed to replay it with.

use rem_core::fuzzing::{self, Harness, ROWS, SCHEMA};
use serde_json::{Value, json};

/// Seed used when `REM_FUZZ_SEED` is unset.
const DEFAULT_SEED: u64 = 1;
/// Iterations run when `REM_FUZZ_ITERATIONS` is unset.
const DEFAULT_ITERATIONS: u64 = 20_000;
/// Wall-clock budget when `REM_FUZZ_SECONDS` is unset.
const DEFAULT_SECONDS: u64 = 20;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name} must be a whole number, got {v:?}")),
        Err(_) => default,
    }
}

/// The statements of the query corpus.
fn corpus() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/select.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().iter().map(|c| c["sql"].as_str().unwrap().to_string()).collect()
}

/// Tokens spliced into statements: SQL's own, limits' edges and values that are hard to read.
const SQL_WORDS: &[&str] = &[
    "(",
    ")",
    ",",
    "AND",
    "OR",
    "NOT",
    "=",
    "<>",
    "<",
    ">=",
    "IN",
    "NOT IN",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "IS NULL",
    "NULL",
    "TRUE",
    "'x'",
    "''",
    "'%a_%'",
    "ESCAPE '!'",
    "1",
    "-1",
    "0.5",
    "1e400",
    "-0",
    "9223372036854775808",
    "18446744073709551615",
    "123456789012345678901234567890",
    "*",
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "DISTINCT",
    "COUNT(*)",
    "SUM(age)",
    "LOWER(",
    "ANY(",
    "::int",
    "[",
    "]",
    "?",
    "$1",
    ":x",
    "person",
    "kv",
    "\"order\"",
    "\"person\"",
    "key",
    "age",
    "name",
    "tags",
    "contact.address.city",
    "deleted_at",
    "UNION",
    "JOIN",
    "(SELECT 1)",
    "é",
    "\"",
    "'",
    ";",
    "--",
    "/*",
];

/// A statement: a corpus one mutated, or a generated one that pushes a limit.
fn statement(r: &mut fastrand::Rng, corpus: &[String]) -> String {
    let base = &corpus[r.usize(..corpus.len())];
    match r.u8(0..10) {
        0 => {
            let n = r.usize(1..200);
            format!("SELECT * FROM person WHERE {}age > 1{}", "(".repeat(n), ")".repeat(r.usize(0..n + 2)))
        }
        1 => {
            let ops = ["AND", "OR", "=", "+", "IS NULL AND"];
            let op = ops[r.usize(..ops.len())];
            let terms: Vec<&str> =
                (0..r.usize(1..1_500)).map(|_| ["age > 1", "name = 'x'", "1"][r.usize(0..3)]).collect();
            format!("SELECT name FROM person WHERE {}", terms.join(&format!(" {op} ")))
        }
        2 => format!("SELECT name FROM person WHERE {}age = 30", "NOT ".repeat(r.usize(0..60))),
        3 => {
            let pattern: String = (0..r.usize(0..3_000)).map(|_| ["%", "_", "a", "li", "!"][r.usize(0..5)]).collect();
            format!("SELECT name FROM person WHERE name LIKE '{pattern}' ESCAPE '!'")
        }
        4 => {
            let items: Vec<String> = (0..r.usize(0..3_000))
                .map(|_| match r.u8(0..5) {
                    0 => "NULL".into(),
                    1 => format!("'{}'", r.u8(0..50)),
                    2 => format!("{}.0", r.i8(..)),
                    _ => r.i8(..).to_string(),
                })
                .collect();
            format!("SELECT name FROM person WHERE age {}IN ({})", ["", "NOT "][r.usize(0..2)], items.join(", "))
        }
        _ => {
            // Token-level mutations of a corpus statement.
            let mut words: Vec<String> = base.split(' ').map(str::to_string).collect();
            for _ in 0..r.usize(1..6) {
                let at = r.usize(..=words.len());
                let word = SQL_WORDS[r.usize(..SQL_WORDS.len())].to_string();
                match r.u8(0..5) {
                    0 if at < words.len() => {
                        words.remove(at);
                    }
                    1 if at < words.len() => words[at] = word,
                    2 if at < words.len() => {
                        let w = words[at].clone();
                        words.insert(at, w);
                    }
                    3 if at < words.len() => {
                        // Cut a word, perhaps inside a quoted string.
                        let w = &mut words[at];
                        let cut = w.char_indices().map(|(i, _)| i).nth(r.usize(0..w.chars().count().max(1)));
                        w.truncate(cut.unwrap_or(0));
                    }
                    _ => words.insert(at, word),
                }
            }
            words.join(" ")
        }
    }
}

/// A row: one of the harness's, changed at the value or byte level.
fn row(r: &mut fastrand::Rng) -> String {
    let mut value: Value = serde_json::from_str(ROWS[r.usize(..ROWS.len())]).unwrap();
    let fields = ["name", "age", "role", "tags", "nickname", "score", "manager", "contact", "edges", "other"];
    let odd = [
        json!(null),
        json!(-1),
        json!(1e300),
        json!(u64::MAX),
        json!(i64::MIN),
        json!("x".repeat(r.usize(0..300))),
        json!("boss"),
        json!(["a", 1]),
        json!({"address": {"city": 5}}),
        json!([{"dst": "not-an-id", "rel_type": "r"}]),
        json!([{"dst": "942881f7-a48a-5e6f-bcfb-cc9fc555fded", "rel_type": "r"}]),
        json!("Nobody"),
        json!("Bob"),
        json!("bad nick!"),
    ];
    for _ in 0..r.usize(0..3) {
        value[fields[r.usize(..fields.len())]] = odd[r.usize(..odd.len())].clone();
    }
    let mut text = value.to_string();
    match r.u8(0..8) {
        0 => {
            let cut = r.usize(..=text.len());
            text = String::from_utf8_lossy(&text.as_bytes()[..cut]).into_owned();
        }
        1 => {
            let mut bytes = text.into_bytes();
            for _ in 0..r.usize(1..4) {
                let at = r.usize(..bytes.len());
                let set = b"{}[]\",:\\0-e.9 \x00\xff";
                bytes[at] = set[r.usize(..set.len())];
            }
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        2 => {
            let big = ["123456789012345678901234567890", "-99999999999999999999", "1e999", "-0", "1.5e308"];
            text = text.replacen("30", big[r.usize(..big.len())], 1).replacen("25", big[r.usize(..big.len())], 1);
        }
        3 => {
            let n = r.usize(1..300);
            text = format!("{{\"name\": \"deep\", \"age\": 1, \"tags\": {}1{}}}", "[".repeat(n), "]".repeat(n));
        }
        4 => text = text.replacen('{', "{\"name\": \"dup\", ", 1),
        _ => {}
    }
    text
}

/// A schema: the harness's, with some of its settings and keywords replaced.
fn schema(r: &mut fastrand::Rng) -> String {
    let mut doc: Value = serde_json::from_str(SCHEMA).unwrap();
    let props = ["name", "age", "role", "tags", "nickname", "score", "manager", "contact", "new"];
    let keywords = [
        ("type", vec![json!("string"), json!("integer"), json!(["number", "null"]), json!(5), json!("nope")]),
        (
            "pattern",
            vec![
                json!("^(a+)+$"),
                json!("(?=a)"),
                json!("(a)\\1"),
                json!("["),
                json!("^.{0,100000}$"),
                json!("\\p{L}+"),
            ],
        ),
        ("enum", vec![json!([]), json!(["a", 1, null]), json!("a")]),
        ("maxLength", vec![json!(0), json!(-1), json!(1e30), json!("5")]),
        ("minimum", vec![json!(0), json!(1e308), json!(null)]),
        ("format", vec![json!("regex"), json!("date-time"), json!("email"), json!("unknown")]),
        ("$ref", vec![json!("#/$defs/missing"), json!("http://example.com/s.json"), json!("#")]),
        ("items", vec![json!({"type": "string"}), json!(false), json!({"items": {"items": {"type": "integer"}}})]),
    ];
    let settings = [
        ("key_field", vec![json!("name"), json!("missing"), json!(1), json!(null)]),
        ("indexed_fields", vec![json!([]), json!(["nope"]), json!(["contact.address"]), json!("age")]),
        ("covering_fields", vec![json!(["age"]), json!(["role", "role"]), json!([])]),
        ("references", vec![json!({"manager": {"table": "nobody", "rel_type": "r"}}), json!([]), json!({})]),
        ("version", vec![json!("1.1.0"), json!("2.0.0"), json!("x"), json!(3)]),
        ("additionalProperties", vec![json!(false), json!(true), json!({"type": "integer"})]),
        ("patternProperties", vec![json!({"^(x+x+)+y$": {"type": "integer"}}), json!({"(?<=a)b": {}})]),
        ("hnsw_m", vec![json!(1), json!(16)]),
        ("embedding_fields", vec![json!(["name"])]),
    ];
    for _ in 0..r.usize(1..4) {
        if r.bool() {
            let (k, vs) = &keywords[r.usize(..keywords.len())];
            let p = props[r.usize(..props.len())];
            doc["properties"][p][*k] = vs[r.usize(..vs.len())].clone();
        } else {
            let (k, vs) = &settings[r.usize(..settings.len())];
            doc[*k] = vs[r.usize(..vs.len())].clone();
        }
    }
    let mut text = doc.to_string();
    if r.u8(0..8) == 0 {
        let cut = r.usize(..=text.len());
        text.truncate(text.floor_char_boundary(cut));
    }
    text
}

/// Table names to register under: plain, reserved words, `kv`, and invalid ones.
const TABLES: &[&str] = &["person", "kv", "order", "select", "user", "t", "_", "1bad", "a b", ""];

/// One fuzz round: a call of a random kind against `h`, or a fuzz target on a fresh harness.
fn round(r: &mut fastrand::Rng, h: &mut Harness, corpus: &[String]) {
    match r.u8(0..20) {
        0..=6 => {
            let sql = statement(r, corpus);
            let _ = h.sql(&sql);
            // Queries over the tables the run registered, by name.
            let table = TABLES[r.usize(..TABLES.len())];
            let _ = h.sql(&sql.replace("person", &format!("\"{table}\"")));
        }
        7 => fuzzing::sql(statement(r, corpus).as_bytes()),
        8..=10 => {
            let table = if r.u8(0..4) == 0 { TABLES[r.usize(..TABLES.len())] } else { "person" };
            let _ = h.insert(table, &row(r));
        }
        11 => fuzzing::json_row(row(r).as_bytes()),
        12 => fuzzing::check_reader(&row(r)),
        13 => {
            let rows: Vec<String> = (0..r.usize(0..80)).map(|_| row(r)).collect();
            let _ = h.insert_batch("person", &rows);
        }
        14 | 15 => {
            let _ = h.register(TABLES[r.usize(..TABLES.len())], &schema(r));
        }
        16 => {
            let ids = h.sql("SELECT id FROM person").unwrap_or_default();
            let ids: Vec<Value> = serde_json::from_str(&ids).unwrap_or_default();
            if let Some(id) = ids.get(r.usize(..ids.len().max(1))).and_then(|v| v["id"].as_str()) {
                let patch = row(r);
                let _ = h.update(id, &patch);
                if r.u8(0..4) == 0 {
                    let _ = h.delete(id, r.bool());
                }
            }
            let _ = h.update("not-an-id", "{}");
        }
        _ => {
            // Start over now and then, so that runs do not only see a database worn down by them.
            if r.u8(0..3) == 0 {
                *h = Harness::new();
            }
        }
    }
}

#[test]
fn fuzz_the_engine_with_the_in_memory_store() {
    let seed = env_u64("REM_FUZZ_SEED", DEFAULT_SEED);
    let iterations = env_u64("REM_FUZZ_ITERATIONS", DEFAULT_ITERATIONS);
    let budget = std::time::Duration::from_secs(env_u64("REM_FUZZ_SECONDS", DEFAULT_SECONDS));
    println!("fuzz seed {seed}: replay with REM_FUZZ_SEED={seed}");
    // The guest's 1 MiB stack (8 MiB unoptimised, whose frames are several times larger).
    let stack = if cfg!(debug_assertions) { 8 << 20 } else { 1 << 20 };
    let run = std::thread::Builder::new().stack_size(stack).spawn(move || {
        let corpus = corpus();
        let mut r = fastrand::Rng::with_seed(seed);
        let mut h = Harness::new();
        let start = std::time::Instant::now();
        let mut done = 0;
        while done < iterations && start.elapsed() < budget {
            round(&mut r, &mut h, &corpus);
            done += 1;
        }
        done
    });
    match run.unwrap().join() {
        Ok(done) => println!("{done} rounds"),
        Err(_) => panic!("the fuzz run failed (see the panic above); replay with REM_FUZZ_SEED={seed}"),
    }
}
