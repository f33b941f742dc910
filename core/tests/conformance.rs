//! The conformance suite (`tests/conformance/suite.json`) natively: the steps every host runs
//! (`tests/integration/conformance.rs` through the Rust host, the Python wheel, Node through
//! jco), here against the engine over the in-memory store, so an engine change is checked
//! against the suite without building the component. See the suite's `about` for the rules.

use rem_core::graph::{DEFAULT_LIMIT, Direction, TraverseOptions};
use rem_core::suites;
use rem_core::{Database, Embedder, MemoryStore, SearchOptions, SearchQuery};
use serde_json::{Value, json};

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
    let suite: Value = serde_json::from_str(suites::CONFORMANCE).unwrap();
    let model = suite["model"].as_str().unwrap();
    let store = MemoryStore::new();
    let db = Database::new(&store, "default").unwrap().with_embedder(Box::new(SuiteLetters(model.into())));
    suites::run_conformance(|op, args| {
        run(&db, op, args).map_err(|e| {
            let issues = match &e {
                rem_core::Error::Validation(issues) => Some(serde_json::to_value(issues).unwrap()),
                _ => None,
            };
            (e.kind().to_string(), issues)
        })
    });
}
