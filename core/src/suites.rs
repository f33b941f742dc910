//! The shared test suites' rules, so that every runner applies the same ones: the
//! conformance suite (`tests/conformance/suite.json`: `expect` matching, `$name`
//! substitution, `save`) and the SQL corpus (`tests/corpus/select.json`: rows, row counts,
//! error kinds and message parts). The runners (natively in `core/tests`, through the
//! component in `tests/integration`) supply only how to call their database.
//! Native only; not the engine's API.

use std::collections::HashMap;

use serde_json::{Value, json};

/// The conformance suite, as the runners read it.
pub const CONFORMANCE: &str = include_str!("../../tests/conformance/suite.json");
/// The SELECT corpus, as the runners read it.
pub const CORPUS: &str = include_str!("../../tests/corpus/select.json");

/// What a step of a runner gave: a result, or an error's `kind` with its validation issues
/// (`[{loc, type, msg}]`) when it has them.
pub type Outcome = Result<Value, (String, Option<Value>)>;

/// The suite's match rule: objects have at least the expected keys with matching values;
/// arrays have the same length and matching elements; numbers are equal within 1e-6.
pub fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av))),
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y)),
        (Value::Number(e), Value::Number(a)) => (e.as_f64().unwrap() - a.as_f64().unwrap()).abs() <= 1e-6,
        (e, a) => e == a,
    }
}

/// `v` with every "$name" string replaced by the saved value.
pub fn substitute(v: &Value, vars: &HashMap<String, Value>) -> Value {
    match v {
        Value::String(s) if s.starts_with('$') => vars.get(&s[1..]).cloned().unwrap_or_else(|| v.clone()),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, vars)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), substitute(x, vars))).collect()),
        other => other.clone(),
    }
}

/// Run every step of the conformance suite through `step(op, args)`, panicking (naming the
/// step) at the first result or error that differs from what the suite expects.
pub fn run_conformance(step: impl FnMut(&str, &Value) -> Outcome) {
    run_suite(CONFORMANCE, step)
}

/// [`run_conformance`] over the suite text `suite` (a copy of the suite a runner had to
/// rewrite, e.g. to name the model a server provides in place of `custom:letters`).
pub fn run_suite(suite: &str, mut step: impl FnMut(&str, &Value) -> Outcome) {
    let suite: Value = serde_json::from_str(suite).expect("the suite is JSON");
    let mut vars: HashMap<String, Value> = HashMap::new();
    for (n, s) in suite["steps"].as_array().expect("steps").iter().enumerate() {
        let op = s["op"].as_str().expect("op");
        let args = substitute(&s["args"], &vars);
        match (s.get("error"), step(op, &args)) {
            (Some(kind), Err((got, issues))) => {
                assert_eq!(got, kind.as_str().unwrap(), "step {n} ({op})");
                if let Some(want) = s.get("issues") {
                    let got = issues.unwrap_or_else(|| panic!("step {n} ({op}): a {got} error has no issues"));
                    let got = json!(
                        got.as_array()
                            .unwrap()
                            .iter()
                            .map(|i| json!({"loc": i["loc"], "type": i["type"]}))
                            .collect::<Vec<_>>()
                    );
                    assert!(matches(want, &got), "step {n} ({op}): issues {got} do not match {want}");
                }
            }
            (Some(kind), Ok(v)) => panic!("step {n} ({op}): expected a {kind} error, got {v}"),
            (None, Err((kind, _))) => panic!("step {n} ({op}) failed with a {kind} error"),
            (None, Ok(v)) => {
                if let Some(want) = s.get("expect") {
                    let want = substitute(want, &vars);
                    assert!(matches(&want, &v), "step {n} ({op}): got {v}, want {want}");
                }
                match s.get("save") {
                    Some(Value::String(name)) => {
                        vars.insert(name.clone(), v["id"].clone());
                    }
                    Some(Value::Array(names)) => {
                        for (name, item) in names.iter().zip(v.as_array().unwrap()) {
                            vars.insert(name.as_str().unwrap().to_string(), item.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The corpus's table: its schema (with `indexed_fields` when `indexed`) and its rows.
pub fn corpus_table(indexed: bool) -> (Value, Vec<String>) {
    let doc: Value = serde_json::from_str(CORPUS).expect("the corpus is JSON");
    let mut schema = doc["schema"].clone();
    if indexed {
        schema["indexed_fields"] = doc["indexed_fields"].clone();
    }
    (schema, doc["rows"].as_array().expect("rows").iter().map(Value::to_string).collect())
}

/// Run every statement of the corpus through `query(sql)` (which gives the rows as JSON text,
/// or the error's kind and message), panicking at the first answer that differs.
pub fn run_corpus(label: &str, mut query: impl FnMut(&str) -> Result<String, (String, String)>) {
    let doc: Value = serde_json::from_str(CORPUS).expect("the corpus is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() > 60);
    for case in cases {
        let sql = case["sql"].as_str().unwrap();
        let ctx = format!("{sql} ({label})");
        let got = query(sql);
        if let Some(want_kind) = case.get("error").and_then(Value::as_str) {
            let (kind, msg) = got.expect_err(&ctx);
            assert_eq!(kind, want_kind, "{ctx}: {msg}");
            assert!(msg.contains(case["contains"].as_str().unwrap()), "{ctx}: {msg}");
            continue;
        }
        let rows: Value = serde_json::from_str(&got.unwrap_or_else(|(k, m)| panic!("{ctx}: {k}: {m}"))).unwrap();
        match case.get("row_count") {
            Some(n) => assert_eq!(rows.as_array().unwrap().len() as u64, n.as_u64().unwrap(), "{ctx}"),
            None => assert_eq!(rows, case["rows"], "{ctx}"),
        }
    }
}
