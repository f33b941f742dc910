//! `rem mcp`: the database as a Model Context Protocol server on stdio (JSON-RPC 2.0 through
//! the official Rust SDK, `rmcp`), so Claude Desktop, IDEs and agent frameworks use the memory
//! directly. Tools: `search`, `query` (read-only REM SQL), `lookup`, `traverse`, `ask`,
//! `remember` (a validated insert), `list_tables` and `describe_table`; resources: one
//! `rem://schema/<table>` per table, its schema record.
//!
//! Each tool's input schema is generated (schemars) from the same Rust struct its arguments
//! are read into, so the two cannot disagree. A failing call answers a tool error (the
//! message the CLI would print), not a protocol error, so the client's model reads it.

use std::sync::Arc;

use rem_host::agent::{self, AskOptions};
use rem_host::{Api, Direction, SearchOptions, SearchQuery, Strategy};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    Resource, ResourceContents, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// The URI prefix of the schema resources.
pub const SCHEMA_URI: &str = "rem://schema/";

/// `search`: semantic (or hybrid) search of a table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    /// The table to search (default `resources`).
    #[serde(default = "resources")]
    table: String,
    /// What to search for, in words.
    query: String,
    /// Results wanted (top-k), 1 to 1000.
    #[serde(default = "ten")]
    limit: u32,
    /// A REM SQL predicate the results must match, e.g. `section = 'httpd'`.
    #[serde(default, rename = "where")]
    filter: Option<String>,
    /// Fuse BM25 keyword ranking with the vector ranking (reciprocal rank fusion).
    #[serde(default)]
    hybrid: bool,
}

fn resources() -> String {
    "resources".into()
}

fn ten() -> u32 {
    10
}

/// `query`: one read statement.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct QueryArgs {
    /// One REM SQL read statement: SELECT, SEARCH '<text>' IN <table>, LOOKUP '<key>' or
    /// TRAVERSE FROM '<key>' DEPTH n DIRECTION out|in|both. Statements that write are refused.
    sql: String,
}

/// `lookup`: rows by natural key.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct LookupArgs {
    /// The natural key (the value of a table's key field), in any table.
    key: String,
}

/// `traverse`: a breadth-first walk of the graph.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TraverseArgs {
    /// Where to start: an id or a natural key.
    start: String,
    /// Hops at most, 1 to 10.
    #[serde(default = "two")]
    depth: u32,
    /// `out`, `in` or `both`.
    #[serde(default = "both")]
    direction: String,
    /// Follow only these edge types (empty: all).
    #[serde(default)]
    rel_types: Vec<String>,
    /// Nodes returned at most.
    #[serde(default)]
    limit: Option<u32>,
}

fn two() -> u32 {
    2
}

fn both() -> String {
    "both".into()
}

/// `ask`: a question in words.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AskArgs {
    /// The question.
    question: String,
    /// Consider only this table.
    #[serde(default)]
    table: Option<String>,
}

/// `remember`: store a row.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RememberArgs {
    /// The table (see `list_tables`); the row must fit its schema (`describe_table`).
    table: String,
    /// The row: an object of the table's fields. A row with an existing natural key updates it.
    data: serde_json::Map<String, Value>,
}

/// `list_tables`: no arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

/// `describe_table`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TableArgs {
    /// The table.
    table: String,
}

/// One tool: its name, description, whether it only reads, and its argument type's schema.
fn tool<T: JsonSchema>(name: &'static str, description: &'static str, read_only: bool) -> Tool {
    let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_else(|_| json!({"type": "object"}));
    let mut object = match schema {
        Value::Object(o) => o,
        _ => serde_json::Map::new(),
    };
    object.remove("$schema");
    object.remove("title");
    let mut t = Tool::new(name, description, object);
    t.annotations = Some(if read_only {
        ToolAnnotations::new().read_only(true)
    } else {
        // An insert adds a row, or replaces the row with the same natural key.
        ToolAnnotations::new().read_only(false).destructive(true).idempotent(false)
    });
    t
}

/// The tool list.
fn tools() -> Vec<Tool> {
    vec![
        tool::<SearchArgs>(
            "search",
            "Semantic search of a table's embedded fields (best first, each row with _score); `where` filters \
             with a REM SQL predicate, `hybrid` adds keyword ranking.",
            true,
        ),
        tool::<QueryArgs>("query", "Run one read-only REM SQL statement; returns the rows.", true),
        tool::<LookupArgs>("lookup", "Rows whose natural key is `key`, in any table.", true),
        tool::<TraverseArgs>(
            "traverse",
            "Walk the graph of edges breadth-first from a row; returns each node with its depth and path.",
            true,
        ),
        tool::<AskArgs>(
            "ask",
            "Answer a question in words: a chat model plans a read-only query, REM checks and runs it. Needs \
             P8_DEFAULT_LLM.",
            true,
        ),
        tool::<RememberArgs>(
            "remember",
            "Store a row in a table (validated against its schema; the same natural key updates). Returns it.",
            false,
        ),
        tool::<NoArgs>("list_tables", "The tables with their row counts and descriptions.", true),
        tool::<TableArgs>(
            "describe_table",
            "One table: fields and types, key, indexed and embedded fields, frequent values.",
            true,
        ),
    ]
}

/// The MCP handler over one database.
#[derive(Clone)]
pub struct Mcp {
    api: Arc<dyn Api>,
}

impl Mcp {
    /// A handler over `api`.
    pub fn new(api: Arc<dyn Api>) -> Self {
        Mcp { api }
    }

    /// Run tool `name` with `args` (blocking: the caller moves it off the async threads).
    fn call(&self, name: &str, args: Value) -> Result<Value, String> {
        fn read<T: for<'de> Deserialize<'de>>(name: &str, args: Value) -> Result<T, String> {
            serde_json::from_value(args).map_err(|e| format!("{name}: bad arguments: {e}"))
        }
        let db = self.api.as_ref();
        let parse = |text: String| serde_json::from_str::<Value>(&text).map_err(|e| e.to_string());
        let run = || -> Result<Value, String> {
            match name {
                "search" => {
                    let a: SearchArgs = read(name, args)?;
                    let options = SearchOptions {
                        top_k: a.limit.clamp(1, 1000),
                        filter: a.filter,
                        hybrid: a.hybrid,
                        ..SearchOptions::default()
                    };
                    parse(db.search(&a.table, &SearchQuery::Text(a.query), &options).map_err(|e| e.to_string())?)
                }
                "query" => {
                    let a: QueryArgs = read(name, args)?;
                    agent::check_read(db, &a.sql).map_err(|e| e.to_string())?;
                    parse(db.query(&a.sql).map_err(|e| e.to_string())?)
                }
                "lookup" => {
                    let a: LookupArgs = read(name, args)?;
                    let rows = db.lookup(&a.key).map_err(|e| e.to_string())?;
                    rows.into_iter().map(parse).collect::<Result<Vec<_>, _>>().map(Value::Array)
                }
                "traverse" => {
                    let a: TraverseArgs = read(name, args)?;
                    let direction = match a.direction.as_str() {
                        "out" => Direction::Outgoing,
                        "in" => Direction::Incoming,
                        "both" => Direction::Both,
                        other => return Err(format!("traverse: direction must be out, in or both, not {other:?}")),
                    };
                    let out = db
                        .traverse(&a.start, direction, a.depth.clamp(1, 10), &a.rel_types, Strategy::Bfs, a.limit)
                        .map_err(|e| e.to_string())?;
                    parse(out)
                }
                "ask" => {
                    let a: AskArgs = read(name, args)?;
                    let model = rem_host::llm::from_env().map_err(|e| e.to_string())?;
                    let options = AskOptions { table: a.table, ..AskOptions::default() };
                    let out = agent::ask(db, model.as_ref(), &a.question, &options).map_err(|e| e.to_string())?;
                    serde_json::to_value(out).map_err(|e| e.to_string())
                }
                "remember" => {
                    let a: RememberArgs = read(name, args)?;
                    parse(db.insert(&a.table, &Value::Object(a.data).to_string()).map_err(|e| e.to_string())?)
                }
                "list_tables" => {
                    let _: NoArgs = read(name, args)?;
                    let mut out = Vec::new();
                    for t in db.list_schemas().map_err(|e| e.to_string())? {
                        let record = parse(db.get_schema(&t).map_err(|e| e.to_string())?)?;
                        let rows = db.count(&t).map_err(|e| e.to_string())?;
                        out.push(json!({"table": t, "rows": rows, "description": record["description"]}));
                    }
                    Ok(Value::Array(out))
                }
                "describe_table" => {
                    let a: TableArgs = read(name, args)?;
                    let info = agent::describe_tables(db, Some(&a.table)).map_err(|e| e.to_string())?;
                    serde_json::to_value(&info[0]).map_err(|e| e.to_string())
                }
                other => Err(format!("no tool named {other:?}")),
            }
        };
        run()
    }
}

fn text_block(text: String) -> ContentBlock {
    ContentBlock::text(text)
}

impl ServerHandler for Mcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("rem", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "REM is this agent's memory database. Start with list_tables and describe_table; find things with \
                 search (by meaning), query (REM SQL) or lookup (by key); follow links with traverse; store with \
                 remember.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        if !tools().iter().any(|t| t.name == name) {
            return Err(ErrorData::invalid_params(format!("no tool named {name:?}"), None));
        }
        let args = Value::Object(request.arguments.unwrap_or_default());
        let this = self.clone();
        let done = tokio::task::spawn_blocking(move || this.call(&name, args))
            .await
            .map_err(|e| ErrorData::internal_error(format!("the tool call failed: {e}"), None))?;
        Ok(match done {
            Ok(value) => {
                let text = serde_json::to_string(&value).unwrap_or_default();
                let mut result = CallToolResult::success(vec![text_block(text)]);
                if value.is_object() {
                    result.structured_content = Some(value);
                }
                result
            }
            Err(message) => CallToolResult::error(vec![text_block(message)]),
        }
        .into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let api = self.api.clone();
        let names = tokio::task::spawn_blocking(move || api.list_schemas())
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let resources = names
            .into_iter()
            .map(|t| {
                Resource::new(format!("{SCHEMA_URI}{t}"), format!("schema of {t}")).with_mime_type("application/json")
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri.to_string();
        let Some(table) = uri.strip_prefix(SCHEMA_URI).map(String::from) else {
            return Err(ErrorData::resource_not_found(
                format!("no resource {uri:?}: REM's are {SCHEMA_URI}<table>"),
                None,
            ));
        };
        let api = self.api.clone();
        let record = tokio::task::spawn_blocking(move || api.get_schema(&table))
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?
            .map_err(|e| ErrorData::resource_not_found(e.to_string(), None))?;
        Ok(ReadResourceResult::new(vec![ResourceContents::text(record, uri).with_mime_type("application/json")]).into())
    }
}

/// Serve `api` over MCP on this process's stdin and stdout until the client closes stdin.
/// Errors: the transport failed (a sentence).
pub fn run_stdio(api: Arc<dyn Api>) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the MCP runtime: {e}"))?;
    runtime.block_on(async move {
        let service = Mcp::new(api)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| format!("the MCP client did not initialize: {e}"))?;
        service.waiting().await.map_err(|e| format!("the MCP session failed: {e}"))?;
        Ok(())
    })
}
