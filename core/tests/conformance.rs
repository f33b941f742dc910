//! The conformance suite (`tests/conformance/suite.json`) natively: the steps every host runs
//! (`tests/integration/conformance.rs` through the Rust host, the Python wheel, Node through
//! jco), here against the engine over the in-memory store, so an engine change is checked
//! against the suite without building the component. See the suite's `about` for the rules.

use std::collections::HashMap;

use rem_core::graph::{DEFAULT_LIMIT, Direction, TraverseOptions};
use rem_core::{Database, Embedder, MemoryStore, SearchOptions, SearchQuery};
use serde_json::{Value, json};

const SUITE: &str = include_str!("../../tests/conformance/suite.json");

/// The suite's `custom:letters` model: counts of a-z per text (case folded), 26 dimensions.
struct SuiteLetters(String);

impl Embedder for SuiteLetters {
    fn embed(&self, _model: &str, texts: &[String]) -> rem_core::Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0f32; 26];
                for c in t.to_lowercase().chars().filter(char::is_ascii_lowercase) {
                    v[(c as u8 - b'a') as usize] += 1.0;
                }
                v
            })
            .collect())
    }
    fn default_model(&self) -> String {
        self.0.clone()
    }
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

fn strings(args: &Value, key: &str) -> Vec<String> {
    args[key].as_array().map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

fn parse(s: String) -> Value {
    serde_json::from_str(&s).unwrap()
}

/// The traversal options a host builds from the WIT arguments (`depth`: hops, BFS, default limit).
fn walk(a: &Value, depth: &str) -> rem_core::Result<TraverseOptions> {
    Ok(TraverseOptions {
        direction: a["direction"].as_str().unwrap_or("out").parse::<Direction>()?,
        depth: a[depth].as_u64().unwrap() as u32,
        rel_types: strings(a, "rel_types"),
        dfs: false,
        limit: DEFAULT_LIMIT,
        include_deleted: false,
    })
}

fn run(db: &Database<&MemoryStore>, op: &str, a: &Value) -> rem_core::Result<Value> {
    Ok(match op {
        "register_schema" => parse(db.register_schema(s(a, "name"), &a["schema"].to_string())?),
        "list_schemas" => json!(db.list_schemas()?),
        "get_schema" => parse(db.get_schema(s(a, "name"))?),
        "insert" => parse(db.insert(s(a, "table"), &a["data"].to_string())?),
        "insert_batch" => {
            let rows: Vec<String> = a["rows"].as_array().unwrap().iter().map(Value::to_string).collect();
            json!(db.insert_batch(s(a, "table"), &rows)?)
        }
        "get" => db.get(s(a, "id"))?.map(parse).unwrap_or(Value::Null),
        "update" => parse(db.update(s(a, "id"), &a["patch"].to_string())?),
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
            Value::Array(db.search(s(a, "table"), query, &options)?)
        }
        "add_edge" => {
            let props = a.get("properties").map(Value::to_string);
            parse(db.add_edge(s(a, "src"), s(a, "dst"), s(a, "rel_type"), props.as_deref())?)
        }
        "traverse" => parse(db.traverse(s(a, "start"), &walk(a, "depth")?)?),
        "shortest_path" => parse(db.shortest_path(
            s(a, "source"),
            s(a, "target"),
            &walk(a, "max_depth")?,
            a["weighted"].as_bool().unwrap(),
        )?),
        other => panic!("the suite uses op {other:?}, which this runner does not know"),
    })
}

#[test]
fn the_engine_passes_the_conformance_suite_natively() {
    let suite: Value = serde_json::from_str(SUITE).unwrap();
    let model = suite["model"].as_str().unwrap();
    let store = MemoryStore::new();
    let db = Database::new(&store, "default").unwrap().with_embedder(Box::new(SuiteLetters(model.into())));
    let mut vars: HashMap<String, Value> = HashMap::new();
    for (n, step) in suite["steps"].as_array().unwrap().iter().enumerate() {
        let op = step["op"].as_str().unwrap();
        let args = substitute(&step["args"], &vars);
        let got = run(&db, op, &args);
        match (step.get("error"), got) {
            (Some(kind), Err(e)) => {
                assert_eq!(e.kind(), kind.as_str().unwrap(), "step {n} ({op}): {e}");
                if let Some(want) = step.get("issues") {
                    let rem_core::Error::Validation(issues) = &e else { panic!("step {n}: {e:?} has no issues") };
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
