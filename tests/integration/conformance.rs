//! The conformance suite (`tests/conformance/suite.json`) through the Rust host. The
//! Python wheel and the Node host run the same file; see its `about` for the rules.

use std::collections::HashMap;
use std::sync::Arc;

use rem_host::embed::CustomEmbedder;
use rem_host::{Database, Direction, Embeddings, OpenOptions, SearchOptions, SearchQuery, Strategy};
use serde_json::{Value, json};

const SUITE: &str = include_str!("../conformance/suite.json");

/// `custom:letters`: counts of a-z per text (case folded), as the suite defines it.
fn letters() -> CustomEmbedder {
    Arc::new(|texts: &[String]| {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0f32; 26];
                for c in t.to_lowercase().chars() {
                    if c.is_ascii_lowercase() {
                        v[(c as u8 - b'a') as usize] += 1.0;
                    }
                }
                v
            })
            .collect())
    })
}

/// The suite's match rule.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av))),
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y)),
        (Value::Number(e), Value::Number(a)) => (e.as_f64().unwrap() - a.as_f64().unwrap()).abs() <= 1e-6,
        (e, a) => e == a,
    }
}

/// `args` with every "$name" string replaced by the saved value.
fn substitute(v: &Value, vars: &HashMap<String, Value>) -> Value {
    match v {
        Value::String(s) if s.starts_with('$') => vars.get(&s[1..]).cloned().unwrap_or_else(|| v.clone()),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, vars)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), substitute(x, vars))).collect()),
        other => other.clone(),
    }
}

fn s<'a>(args: &'a Value, key: &str) -> &'a str {
    args[key].as_str().unwrap_or_else(|| panic!("argument {key} must be a string: {args}"))
}

fn text(args: &Value, key: &str) -> String {
    args[key].to_string()
}

fn strings(args: &Value, key: &str) -> Vec<String> {
    args[key].as_array().map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

fn parse(s: String) -> Value {
    serde_json::from_str(&s).unwrap()
}

fn run(db: &Database, op: &str, a: &Value) -> rem_host::Result<Value> {
    let dir = |a: &Value| a["direction"].as_str().unwrap_or("out").parse::<Direction>();
    Ok(match op {
        "register_schema" => parse(db.register_schema(s(a, "name"), &text(a, "schema"))?),
        "list_schemas" => json!(db.list_schemas()?),
        "get_schema" => parse(db.get_schema(s(a, "name"))?),
        "insert" => parse(db.insert(s(a, "table"), &text(a, "data"))?),
        "insert_batch" => {
            let rows: Vec<String> = a["rows"].as_array().unwrap().iter().map(Value::to_string).collect();
            json!(db.insert_batch(s(a, "table"), &rows)?)
        }
        "get" => db.get(s(a, "id"))?.map(parse).unwrap_or(Value::Null),
        "update" => parse(db.update(s(a, "id"), &text(a, "patch"))?),
        "delete" => parse(db.delete(s(a, "id"), a["hard"].as_bool().unwrap_or(false))?),
        "lookup" => Value::Array(db.lookup(s(a, "key"))?.into_iter().map(parse).collect()),
        "count" => json!(db.count(s(a, "table"))?),
        "query" => match a.get("params") {
            Some(p) => parse(db.query_with_params(s(a, "sql"), &p.to_string())?),
            None => parse(db.query(s(a, "sql"))?),
        },
        "search" => {
            let query = match a.get("text") {
                Some(t) => SearchQuery::Text(t.as_str().unwrap().to_string()),
                None => SearchQuery::Vector(
                    a["vector"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect(),
                ),
            };
            let options = SearchOptions {
                top_k: a["top_k"].as_u64().unwrap_or(10) as u32,
                filter: a["filter"].as_str().map(str::to_string),
                ..SearchOptions::default()
            };
            parse(db.search(s(a, "table"), &query, &options)?)
        }
        "add_edge" => {
            let props = a.get("properties").map(Value::to_string);
            parse(db.add_edge(s(a, "src"), s(a, "dst"), s(a, "rel_type"), props.as_deref())?)
        }
        "traverse" => parse(db.traverse(
            s(a, "start"),
            dir(a)?,
            a["depth"].as_u64().unwrap() as u32,
            &strings(a, "rel_types"),
            Strategy::Bfs,
            None,
        )?),
        "shortest_path" => parse(db.shortest_path(
            s(a, "source"),
            s(a, "target"),
            dir(a)?,
            a["max_depth"].as_u64().unwrap() as u32,
            &strings(a, "rel_types"),
            a["weighted"].as_bool().unwrap(),
        )?),
        other => panic!("the suite uses op {other:?}, which this runner does not know"),
    })
}

#[test]
fn the_rust_host_passes_the_conformance_suite() {
    let suite: Value = serde_json::from_str(SUITE).unwrap();
    let model = suite["model"].as_str().unwrap();
    let embeddings = Embeddings::new(Some(model.into()), None).with_custom(model, letters());
    let db = Database::open(OpenOptions::in_memory().embeddings(embeddings)).unwrap();
    let mut vars: HashMap<String, Value> = HashMap::new();
    for (n, step) in suite["steps"].as_array().unwrap().iter().enumerate() {
        let op = step["op"].as_str().unwrap();
        let args = substitute(&step["args"], &vars);
        let got = run(&db, op, &args);
        match (step.get("error"), got) {
            (Some(kind), Err(e)) => {
                assert_eq!(e.kind(), kind.as_str().unwrap(), "step {n} ({op}): {e}");
                if let Some(want) = step.get("issues") {
                    let rem_host::Error::Validation(issues) = &e else { panic!("step {n}: {e:?} has no issues") };
                    let got = json!(issues.iter().map(|i| json!({"loc": i.loc, "type": i.kind})).collect::<Vec<_>>());
                    assert!(matches(want, &got), "step {n} ({op}): issues {got} do not match {want}");
                }
            }
            (Some(kind), Ok(v)) => panic!("step {n} ({op}): expected a {kind} error, got {v}"),
            (None, Err(e)) => panic!("step {n} ({op}) failed: {e}"),
            (None, Ok(v)) => {
                if let Some(want) = step.get("expect") {
                    let want = substitute(want, &vars);
                    assert!(matches(&want, &v), "step {n} ({op}): got {v}, want {want}");
                }
                match step.get("save") {
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
