//! One served call: the arguments of `POST /v1/<name>` read from its JSON body, the engine
//! call made on a pooled handle, and its result as the answer's JSON text. Each call is one
//! atomic engine call, exactly as in process (`rem_host::Api`).

use rem_host::remote::wire::json_array as array;
use rem_host::{Database, Direction, Error, Result, SearchOptions, SearchQuery, Strategy};
use serde_json::Value;

/// Whether call `name` writes (takes the writer permit).
pub fn writes(name: &str) -> bool {
    matches!(
        name,
        "register-schema"
            | "register-schemas"
            | "insert"
            | "insert-batch"
            | "update"
            | "delete"
            | "add-edge"
            | "add-edges"
            | "delete-edge"
            | "rebuild-index"
            | "execute"
            | "write-document"
            | "write-set"
            | "delete-batch"
    )
}

/// Whether call `name` is a point read, short enough to run on the thread that read the request.
pub fn quick(name: &str) -> bool {
    matches!(
        name,
        "version" | "get" | "get-many" | "get-vectors" | "count" | "lookup" | "list-schemas" | "get-schema" | "prepare"
    )
}

/// The request's arguments, with errors naming the field at fault.
struct Args<'a>(&'a Value);

fn bad(field: &str, want: &str) -> Error {
    Error::InvalidArgument(format!("request field `{field}` is missing or not {want}"))
}

impl<'a> Args<'a> {
    fn str(&self, k: &str) -> Result<&'a str> {
        self.0.get(k).and_then(Value::as_str).ok_or_else(|| bad(k, "a string"))
    }
    fn opt_str(&self, k: &str) -> Result<Option<&'a str>> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or_else(|| bad(k, "a string or null")),
        }
    }
    fn bool(&self, k: &str, default: bool) -> Result<bool> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| bad(k, "true or false")),
        }
    }
    fn u32(&self, k: &str) -> Result<u32> {
        self.opt_u32(k)?.ok_or_else(|| bad(k, "a whole number from 0 to 4294967295"))
    }
    fn opt_u32(&self, k: &str) -> Result<Option<u32>> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| bad(k, "a whole number from 0 to 4294967295")),
        }
    }
    fn strings(&self, k: &str) -> Result<Vec<String>> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad(k, "a list of strings")))
                .collect(),
            Some(_) => Err(bad(k, "a list of strings")),
        }
    }
    fn direction(&self) -> Result<Direction> {
        self.opt_str("direction")?.unwrap_or("out").parse().map_err(Error::from)
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(format!("encoding the answer: {e}")))
}

/// Run call `name` with `args` on `db`; the answer's JSON text. Errors: `NotFound` for a name
/// that is no call; `InvalidArgument` naming a bad field; the engine call's own errors.
pub fn run(db: &Database, name: &str, args: &Value) -> Result<String> {
    let a = Args(args);
    match name {
        "version" => json(&db.engine_version()?),
        "register-schema" => db.register_schema(a.str("name")?, a.str("schema")?),
        "register-schemas" => {
            let list = args.get("schemas").and_then(Value::as_array).ok_or_else(|| bad("schemas", "a list"))?;
            let pairs: Vec<(&str, &str)> = list
                .iter()
                .map(|s| {
                    let s = Args(s);
                    Ok((s.str("name")?, s.str("schema")?))
                })
                .collect::<Result<_>>()?;
            Ok(array(db.register_schemas(&pairs)?))
        }
        "list-schemas" => json(&db.list_schemas()?),
        "get-schema" => db.get_schema(a.str("name")?),
        "insert" => db.insert(a.str("table")?, a.str("data")?),
        "insert-batch" => json(&db.insert_batch(a.str("table")?, &a.strings("rows")?)?),
        "get" => Ok(db.get(a.str("id")?)?.unwrap_or_else(|| "null".into())),
        "get-many" => {
            let found = db.get_many(&a.strings("ids")?)?;
            Ok(array(found.into_iter().map(|e| e.unwrap_or_else(|| "null".into())).collect()))
        }
        "get-vectors" => json(&db.get_vectors(&a.strings("ids")?)?),
        "update" => db.update(a.str("id")?, a.str("patch")?),
        "delete" => db.delete(a.str("id")?, a.bool("hard", false)?),
        "lookup" => Ok(array(db.lookup(a.str("key")?)?)),
        "list" => Ok(array(db.list(a.str("table")?, a.opt_u32("limit")?, a.opt_u32("offset")?.unwrap_or(0))?)),
        "count" => json(&db.count(a.str("table")?)?),
        "add-edge" => db.add_edge(a.str("src")?, a.str("dst")?, a.str("rel_type")?, a.opt_str("properties")?),
        "add-edges" => json(&db.add_edges_with_progress(&a.strings("edges")?, 1000, &mut |_| {})?),
        "get-edges" => db.get_edges(a.str("id")?, a.direction()?, &a.strings("rel_types")?),
        "delete-edge" => db.delete_edge(a.str("src")?, a.str("dst")?, a.str("rel_type")?),
        "traverse" => {
            let strategy = match a.opt_str("strategy")?.unwrap_or("bfs").to_ascii_lowercase().as_str() {
                "bfs" => Strategy::Bfs,
                "dfs" => Strategy::Dfs,
                other => {
                    return Err(Error::InvalidArgument(format!("invalid strategy {other:?}: use \"bfs\" or \"dfs\"")));
                }
            };
            db.traverse(
                a.str("start")?,
                a.direction()?,
                a.u32("depth")?,
                &a.strings("rel_types")?,
                strategy,
                a.opt_u32("limit")?,
            )
        }
        "shortest-path" => db.shortest_path(
            a.str("source")?,
            a.str("target")?,
            a.direction()?,
            a.u32("max_depth")?,
            &a.strings("rel_types")?,
            a.bool("weighted", false)?,
        ),
        "query" => db.query(a.str("sql")?),
        "query-with-params" => db.query_with_params(a.str("sql")?, a.str("params")?),
        "query-page" => {
            db.query_page(a.str("sql")?, a.opt_str("params")?, a.opt_str("after")?, a.opt_u32("limit")?.unwrap_or(1000))
        }
        "execute" => db.execute(a.str("sql")?, a.opt_str("params")?),
        "prepare" => db.prepare(a.str("sql")?),
        "search" => {
            let query = match (args.get("text").filter(|v| !v.is_null()), args.get("vector").filter(|v| !v.is_null())) {
                (Some(t), None) => SearchQuery::Text(t.as_str().ok_or_else(|| bad("text", "a string"))?.to_string()),
                (None, Some(v)) => SearchQuery::Vector(
                    serde_json::from_value(v.clone()).map_err(|_| bad("vector", "a list of numbers"))?,
                ),
                _ => {
                    return Err(Error::InvalidArgument(
                        "search needs exactly one of `text` (a string) and `vector` (a list of numbers)".into(),
                    ));
                }
            };
            let defaults = SearchOptions::default();
            let options = SearchOptions {
                top_k: a.opt_u32("top_k")?.unwrap_or(defaults.top_k),
                min_score: match args.get("min_score") {
                    None | Some(Value::Null) => defaults.min_score,
                    Some(v) => v.as_f64().ok_or_else(|| bad("min_score", "a number"))? as f32,
                },
                filter: a.opt_str("filter")?.map(str::to_string),
                hybrid: a.bool("hybrid", defaults.hybrid)?,
                ef_search: a.opt_u32("ef_search")?,
                vector_field: a.opt_str("vector_field")?.map(str::to_string),
            };
            db.search(a.str("table")?, &query, &options)
        }
        "index-stats" => db.index_stats(a.str("table")?),
        "rebuild-index" => db.rebuild_index(a.str("table")?, a.bool("reembed", false)?),
        "stats" => db.engine_stats(),
        "check" => db.check(a.opt_u32("max_problems")?.unwrap_or(100)),
        "backup" => {
            let dest = std::path::Path::new(a.str("dest")?);
            if !dest.is_absolute() {
                return Err(bad("dest", "an absolute path (on the server's machine)"));
            }
            // A client never replaces a database on the server's machine: only new paths.
            if a.bool("force", false)? {
                return Err(Error::InvalidArgument(
                    "a backup through a server never replaces an existing database (no force): choose a new \
                     path, or stop the server and run `rem backup --force`"
                        .into(),
                ));
            }
            json(&db.backup(dest, false)?)
        }
        // Served through `Pool::exclusive` (every other call held), never with a lease.
        "compact" => Err(Error::Internal("compact is served with the whole pool, not one handle".into())),
        "write-document" => {
            let chunks = match args.get("chunks") {
                Some(Value::Array(c)) => c.clone(),
                _ => return Err(bad("chunks", "a list of objects")),
            };
            let document =
                args.get("document").filter(|d| d.is_object()).ok_or_else(|| bad("document", "an object"))?;
            let outcome =
                db.write_document(a.str("documents")?, a.str("table")?, document, chunks, a.bool("force", false)?)?;
            json(&outcome)
        }
        "delete-batch" => json(&db.delete_batch(&a.strings("ids")?, a.bool("hard", false)?)?),
        "write-set" => {
            let writes: rem_host::WriteSet = serde_json::from_value(args.clone())
                .map_err(|e| Error::InvalidArgument(format!("write-set: the request is not a write set: {e}")))?;
            json(&db.write_set(&writes)?)
        }
        other => Err(Error::NotFound(format!(
            "no call named {other:?} in /v1; the calls are: {}",
            rem_host::remote::wire::CALLS.join(", ")
        ))),
    }
}
