//! Talking to a served database (`rem serve`): [`Remote`], the client side of the HTTP/JSON
//! protocol in `docs/server.md`, and [`open`], which finds the server of a database directory
//! (its endpoint file) and falls back to opening the file.

pub mod endpoint;
pub mod wire;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::api::Api;
use crate::error::{Error, Result};
use crate::graph::{Direction, Strategy};
use crate::ingest::FileOutcome;
use crate::{Database, OpenOptions, SearchOptions, SearchQuery, config};
pub use endpoint::Endpoint;

/// How long a client waits to connect to a server: 5 s. Once connected, a call waits for its
/// answer as long as the server works on it: the server bounds each call by its own per-call
/// deadline (`P8_CALL_TIMEOUT_MS`), and a server that dies closes the connection, which ends the
/// wait with `Connection`. (A client-side read deadline makes ureq reset the socket's timeout on
/// every read, about 50 µs per call on the 2-core benchmark machine; `docs/benchmarks.md`.)
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`Remote::health`] (the check at connect) waits for its answer: 5 s.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// A client of one served database, for one tenant. `Send + Sync`; calls from several threads
/// run in parallel on the server (each over its own kept-alive connection).
pub struct Remote {
    agent: ureq::Agent,
    url: String,
    token: Option<String>,
    tenant: String,
    /// `tenant` as the header carries it.
    tenant_header: String,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("Remote").field("url", &self.url).field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

impl Remote {
    /// Connect to the server at `url` (`http://host:port`) as `tenant`, with an optional bearer
    /// `token`, and check it answers (`GET /v1/health`). Errors: `InvalidArgument` (not an
    /// `http://` URL, bad tenant), `Connection`, `Unauthorized`.
    pub fn connect(url: &str, token: Option<String>, tenant: &str) -> Result<Remote> {
        rem_core::model::tenant::check_tenant(tenant)?;
        let url = url.trim_end_matches('/').to_string();
        if let Some(sock) = url.strip_prefix("unix:") {
            return Err(Error::Unsupported(format!(
                "the server listens only on the Unix socket {sock}, which REM's own clients cannot use yet (HTTP \
                 clients such as curl --unix-socket can); start `rem serve` with --listen as well"
            )));
        }
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(Error::InvalidArgument(format!(
                "server URL {url:?} is not an http:// or https:// URL (e.g. http://127.0.0.1:7878)"
            )));
        }
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                // Never through $HTTP_PROXY/$ALL_PROXY: the bearer token would go to the proxy, and
                // a proxy cannot reach this machine's loopback server.
                .proxy(None)
                .timeout_connect(Some(CONNECT_TIMEOUT))
                .http_status_as_error(false)
                .max_idle_connections_per_host(64)
                .build(),
        );
        let remote = Remote {
            agent,
            url,
            token,
            tenant: tenant.to_string(),
            tenant_header: wire::encode_tenant(tenant),
            path: None,
        };
        remote.health()?;
        Ok(remote)
    }

    /// The server's `GET /v1/health` answer (`{status, engine, pid, path}`). Errors: `Connection`,
    /// `Unauthorized`.
    pub fn health(&self) -> Result<Value> {
        // Bounded, unlike calls: a live but stopped server still accepts connections (the listen
        // backlog), and a client looking for a server must pass it over, not hang.
        let req = self
            .agent
            .get(format!("{}{}/health", self.url, wire::PREFIX))
            .config()
            .timeout_global(Some(HEALTH_TIMEOUT))
            .build();
        let text = self.send(req.header(wire::TENANT_HEADER, &self.tenant_header))?;
        serde_json::from_str(&text).map_err(|e| Error::Connection(format!("bad health answer: {e}")))
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn send(&self, req: ureq::RequestBuilder<ureq::typestate::WithoutBody>) -> Result<String> {
        let req = match &self.token {
            Some(t) => req.header("Authorization", format!("Bearer {t}")),
            None => req,
        };
        read(&self.url, req.call())
    }

    /// `POST /v1/<name>` with the JSON `args`; the answer's body text. Errors: the call's own
    /// (as the server's engine returned them), `Connection`, `Unauthorized`.
    pub fn call(&self, name: &str, args: &Value) -> Result<String> {
        let mut req = self
            .agent
            .post(format!("{}{}/{name}", self.url, wire::PREFIX))
            .header(wire::TENANT_HEADER, &self.tenant_header)
            .header("Content-Type", "application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        read(&self.url, req.send(args.to_string().as_str()))
    }
}

/// The body of a response, or the error it carries.
fn read(url: &str, sent: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<String> {
    let mut resp = sent.map_err(|e| Error::Connection(format!("{url}: {e}")))?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_string()
        .map_err(|e| Error::Connection(format!("{url}: the answer broke off: {e}")))?;
    if (200..300).contains(&status) { Ok(text) } else { Err(wire::error_from_wire(status, &text)) }
}

fn bad_answer(e: serde_json::Error) -> Error {
    Error::Connection(format!("the server's answer is not what this client expects: {e}"))
}

/// The elements of a JSON array answer, each as its own JSON text.
fn raw_items(text: &str) -> Result<Vec<String>> {
    let items: Vec<&RawValue> = serde_json::from_str(text).map_err(bad_answer)?;
    Ok(items.into_iter().map(|v| v.get().to_string()).collect())
}

fn parsed<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(bad_answer)
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Outgoing => "out",
        Direction::Incoming => "in",
        Direction::Both => "both",
    }
}

impl Api for Remote {
    fn tenant(&self) -> &str {
        &self.tenant
    }
    fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
    fn server(&self) -> Option<&str> {
        Some(&self.url)
    }
    fn engine_version(&self) -> Result<String> {
        parsed(&self.call("version", &json!({}))?)
    }
    fn register_schema(&self, name: &str, schema_json: &str) -> Result<String> {
        self.call("register-schema", &json!({"name": name, "schema": schema_json}))
    }
    fn register_schemas(&self, schemas: &[(&str, &str)]) -> Result<Vec<String>> {
        let list: Vec<Value> = schemas.iter().map(|(n, s)| json!({"name": n, "schema": s})).collect();
        raw_items(&self.call("register-schemas", &json!({"schemas": list}))?)
    }
    fn list_schemas(&self) -> Result<Vec<String>> {
        parsed(&self.call("list-schemas", &json!({}))?)
    }
    fn get_schema(&self, name: &str) -> Result<String> {
        self.call("get-schema", &json!({"name": name}))
    }
    fn insert(&self, table: &str, data: &str) -> Result<String> {
        self.call("insert", &json!({"table": table, "data": data}))
    }
    fn insert_batch_with_progress(
        &self,
        table: &str,
        rows: &[String],
        _chunk: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<String>> {
        let ids: Vec<String> = parsed(&self.call("insert-batch", &json!({"table": table, "rows": rows}))?)?;
        progress(ids.len());
        Ok(ids)
    }
    fn get(&self, id: &str) -> Result<Option<String>> {
        let text = self.call("get", &json!({"id": id}))?;
        Ok((text.trim() != "null").then_some(text))
    }
    fn get_many(&self, ids: &[String]) -> Result<Vec<Option<String>>> {
        let items = raw_items(&self.call("get-many", &json!({"ids": ids}))?)?;
        Ok(items.into_iter().map(|t| (t != "null").then_some(t)).collect())
    }
    fn get_vectors(&self, ids: &[String]) -> Result<Vec<Option<Vec<f32>>>> {
        parsed(&self.call("get-vectors", &json!({"ids": ids}))?)
    }
    fn update(&self, id: &str, patch: &str) -> Result<String> {
        self.call("update", &json!({"id": id, "patch": patch}))
    }
    fn delete(&self, id: &str, hard: bool) -> Result<String> {
        self.call("delete", &json!({"id": id, "hard": hard}))
    }
    fn lookup(&self, key: &str) -> Result<Vec<String>> {
        raw_items(&self.call("lookup", &json!({"key": key}))?)
    }
    fn list(&self, table: &str, limit: Option<u32>, offset: u32) -> Result<Vec<String>> {
        raw_items(&self.call("list", &json!({"table": table, "limit": limit, "offset": offset}))?)
    }
    fn count(&self, table: &str) -> Result<u64> {
        parsed(&self.call("count", &json!({"table": table}))?)
    }
    fn add_edge(&self, src: &str, dst: &str, rel_type: &str, properties: Option<&str>) -> Result<String> {
        self.call("add-edge", &json!({"src": src, "dst": dst, "rel_type": rel_type, "properties": properties}))
    }
    fn add_edges_with_progress(&self, edges: &[String], _chunk: usize, progress: &mut dyn FnMut(usize)) -> Result<u32> {
        let n: u32 = parsed(&self.call("add-edges", &json!({"edges": edges}))?)?;
        progress(n as usize);
        Ok(n)
    }
    fn get_edges(&self, id: &str, direction: Direction, rel_types: &[String]) -> Result<String> {
        self.call("get-edges", &json!({"id": id, "direction": direction_name(direction), "rel_types": rel_types}))
    }
    fn delete_edge(&self, src: &str, dst: &str, rel_type: &str) -> Result<String> {
        self.call("delete-edge", &json!({"src": src, "dst": dst, "rel_type": rel_type}))
    }
    fn traverse(
        &self,
        start: &str,
        direction: Direction,
        depth: u32,
        rel_types: &[String],
        strategy: Strategy,
        limit: Option<u32>,
    ) -> Result<String> {
        let strategy = match strategy {
            Strategy::Bfs => "bfs",
            Strategy::Dfs => "dfs",
        };
        self.call(
            "traverse",
            &json!({"start": start, "direction": direction_name(direction), "depth": depth,
                    "rel_types": rel_types, "strategy": strategy, "limit": limit}),
        )
    }
    fn shortest_path(
        &self,
        source: &str,
        target: &str,
        direction: Direction,
        max_depth: u32,
        rel_types: &[String],
        weighted: bool,
    ) -> Result<String> {
        self.call(
            "shortest-path",
            &json!({"source": source, "target": target, "direction": direction_name(direction),
                    "max_depth": max_depth, "rel_types": rel_types, "weighted": weighted}),
        )
    }
    fn query(&self, sql: &str) -> Result<String> {
        self.call("query", &json!({"sql": sql}))
    }
    fn query_with_params(&self, sql: &str, params: &str) -> Result<String> {
        self.call("query-with-params", &json!({"sql": sql, "params": params}))
    }
    fn query_page(&self, sql: &str, params: Option<&str>, after: Option<&str>, limit: u32) -> Result<String> {
        self.call("query-page", &json!({"sql": sql, "params": params, "after": after, "limit": limit}))
    }
    fn execute(&self, sql: &str, params: Option<&str>) -> Result<String> {
        self.call("execute", &json!({"sql": sql, "params": params}))
    }
    fn prepare(&self, sql: &str) -> Result<String> {
        self.call("prepare", &json!({"sql": sql}))
    }
    fn search(&self, table: &str, query: &SearchQuery, options: &SearchOptions) -> Result<String> {
        let mut args = json!({"table": table, "top_k": options.top_k, "min_score": options.min_score,
                              "filter": options.filter, "hybrid": options.hybrid, "ef_search": options.ef_search,
                              "vector_field": options.vector_field});
        match query {
            SearchQuery::Text(t) => args["text"] = t.clone().into(),
            SearchQuery::Vector(v) => args["vector"] = json!(v),
        }
        self.call("search", &args)
    }
    fn index_stats(&self, table: &str) -> Result<String> {
        self.call("index-stats", &json!({"table": table}))
    }
    fn rebuild_index(&self, table: &str, reembed: bool) -> Result<String> {
        self.call("rebuild-index", &json!({"table": table, "reembed": reembed}))
    }
    fn engine_stats(&self) -> Result<String> {
        self.call("stats", &json!({}))
    }
    fn check(&self, max_problems: u32) -> Result<String> {
        self.call("check", &json!({"max_problems": max_problems}))
    }
    fn backup(&self, dest: &std::path::Path, force: bool) -> Result<crate::CopyReport> {
        // The server resolves paths against its own working directory: send an absolute one.
        let dest = std::path::absolute(dest)
            .map_err(|e| Error::Io { context: format!("cannot resolve {}", dest.display()), message: e.to_string() })?;
        let dest = dest.to_str().ok_or_else(|| {
            Error::InvalidArgument(format!(
                "the backup path {} is not UTF-8; a server needs UTF-8 paths",
                dest.display()
            ))
        })?;
        parsed(&self.call("backup", &json!({"dest": dest, "force": force}))?)
    }
    fn compact(&self) -> Result<crate::CompactReport> {
        parsed(&self.call("compact", &json!({}))?)
    }
    fn write_document(
        &self,
        documents: &str,
        table: &str,
        document: &Value,
        chunks: Vec<Value>,
        force: bool,
    ) -> Result<FileOutcome> {
        parsed(&self.call(
            "write-document",
            &json!({"documents": documents, "table": table, "document": document, "chunks": chunks, "force": force}),
        )?)
    }
    fn write_set(&self, writes: &crate::WriteSet) -> Result<crate::WriteSetOutcome> {
        let args = serde_json::to_value(writes).map_err(|e| Error::Internal(e.to_string()))?;
        parsed(&self.call("write-set", &args)?)
    }
    fn delete_batch(&self, ids: &[String], hard: bool) -> Result<u32> {
        parsed(&self.call("delete-batch", &json!({"ids": ids, "hard": hard}))?)
    }
}

/// Where a client should send its calls: an explicit server, or none (find one, else open the file).
#[derive(Clone, Default)]
pub struct ServerChoice {
    /// The server URL (`--server`, `$P8_SERVER`), if one was named.
    pub url: Option<String>,
    /// The bearer token (`$P8_SERVER_TOKEN`, `--token-file`, `token=`), if one was given.
    pub token: Option<String>,
}

impl std::fmt::Debug for ServerChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("ServerChoice")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl ServerChoice {
    /// `$P8_SERVER` and `$P8_SERVER_TOKEN`, if set.
    pub fn from_env() -> ServerChoice {
        let get = |k: &str| std::env::var(k).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        ServerChoice { url: get(config::ENV_SERVER), token: get(config::ENV_SERVER_TOKEN) }
    }
}

/// Open the database as a client should: through `server.url` when one is named; else through
/// the server that serves `options.path` (its live endpoint file), if any; else the file itself
/// (waiting up to `options.busy_timeout` while another process holds it, and taking the server
/// that may have started meanwhile). Without a path, an in-memory database.
/// Errors: as [`Database::open`] and [`Remote::connect`].
///
/// An embedding function of this process ([`crate::Embeddings::with_custom`]) cannot run in a
/// server: going through one with it is `Unsupported`, naming the server, rather than
/// embedding with another model without a word.
pub fn open(options: OpenOptions, server: &ServerChoice) -> Result<Box<dyn Api>> {
    if let Some(url) = &server.url {
        custom_embedder_stays_here(&options, url)?;
        return Ok(Box::new(Remote::connect(url, server.token.clone(), &options.tenant)?));
    }
    let Some(dir) = options.path.clone() else { return Ok(Box::new(Database::open(options)?)) };
    if let Some(remote) = served(&dir, &options, server)? {
        return Ok(Box::new(remote));
    }
    match Database::open(options.clone()) {
        Err(Error::Locked { .. }) if let Some(remote) = served(&dir, &options, server)? => Ok(Box::new(remote)),
        other => Ok(Box::new(other?)),
    }
}

/// `Unsupported` when `options` route a model to a function of this process, which a server at
/// `url` cannot call.
fn custom_embedder_stays_here(options: &OpenOptions, url: &str) -> Result<()> {
    match options.embeddings.custom_model() {
        Some(model) => Err(Error::Unsupported(format!(
            "the database is served by {url}, which cannot call this process's embedding function ({model}); \
             stop the server to open the file here, or give the server a model it can run (P8_DEFAULT_EMBEDDING, \
             e.g. openai:<model>)"
        ))),
        None => Ok(()),
    }
}

/// A client of the live server of `dir`, if one answers. A server that does not answer (gone
/// since, or hung) is passed over, so the caller falls back to opening the file.
fn served(dir: &Path, options: &OpenOptions, server: &ServerChoice) -> Result<Option<Remote>> {
    let tenant = options.tenant.as_str();
    let Some(endpoint) = Endpoint::live(dir) else { return Ok(None) };
    custom_embedder_stays_here(options, &endpoint.url)?;
    let token = endpoint.token().or_else(|| server.token.clone());
    match Remote::connect(&endpoint.url, token, tenant) {
        Ok(mut remote) => {
            remote.path = Some(dir.to_path_buf());
            Ok(Some(remote))
        }
        Err(Error::Connection(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
