//! The conformance suite (`tests/conformance/suite.json`) through the Rust host. The
//! Python wheel and the Node host run the same file; see its `about` for the rules.

use std::sync::Arc;

use rem_core::suites;
use rem_host::embed::CustomEmbedder;
use rem_host::{Api, Database, Direction, Embeddings, OpenOptions, SearchOptions, SearchQuery, Strategy};
use serde_json::{Value, json};

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

fn run(db: &dyn Api, op: &str, a: &Value) -> rem_host::Result<Value> {
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

/// The embeddings the suite asks for: `custom:letters` as the default model.
fn suite_embeddings() -> Embeddings {
    let suite: Value = serde_json::from_str(suites::CONFORMANCE).unwrap();
    let model = suite["model"].as_str().unwrap();
    Embeddings::new(Some(model.into()), None).with_custom(model, letters())
}

#[test]
fn the_rust_host_passes_the_conformance_suite() {
    let db = Database::open(OpenOptions::in_memory().embeddings(suite_embeddings())).unwrap();
    conform(&db);
}

/// A database served by `rem_server` (real HTTP on loopback) and reached through
/// `rem_host::remote::Remote` answers the suite exactly as the file opened in process does.
#[test]
fn a_served_database_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let open = OpenOptions::at(dir.path().join("db")).embeddings(suite_embeddings());
    let server = rem_server::spawn(rem_server::ServeOptions::loopback(open, 2)).unwrap();
    let remote = rem_host::remote::Remote::connect(&server.url, None, "default").unwrap();
    conform(&remote);
    server.stop().unwrap();
    assert!(!dir.path().join("db").join(rem_host::config::ENDPOINT_FILE).exists(), "endpoint file left behind");
}

fn conform(db: &dyn Api) {
    suites::run_conformance(|op, args| {
        run(db, op, args).map_err(|e| {
            let issues = match &e {
                rem_host::Error::Validation(issues) => Some(serde_json::to_value(issues).unwrap()),
                _ => None,
            };
            (e.kind().to_string(), issues)
        })
    });
}
