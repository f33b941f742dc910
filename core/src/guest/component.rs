//! The component shim: WIT bindings, the `storage` import as a [`Storage`],
//! and the `database` export mapped onto [`Database`]. No engine logic here.

wit_bindgen::generate!({ path: "../wit", world: "engine" });

/// Talc instead of wasi-libc's dlmalloc: the engine allocates heavily (JSON
/// values), and Talc is markedly faster there. It grows linear memory on
/// demand, so the host's memory cap still applies. Small blocks are recycled
/// through per-size-class free lists in front of it (`alloc_cache`).
#[global_allocator]
static ALLOCATOR: crate::guest::alloc_cache::SmallCache<talc::wasm::WasmDynamicTalc> =
    crate::guest::alloc_cache::SmallCache::new(talc::wasm::new_wasm_dynamic_allocator());

// The small-block cache is unsynchronised: a threaded guest would need locks.
#[cfg(target_feature = "atomics")]
compile_error!("the engine's allocator (alloc_cache) assumes a single-threaded guest");

use exports::rem::engine::database::{
    Guest, GuestDatabase, SearchOptions as WitSearchOptions, SearchQuery as WitQuery,
};
use rem::engine::embeddings as wit_embeddings;
use rem::engine::storage as wit_storage;
use rem::engine::types::{
    Direction as WitDirection, Error as WitError, PathSegment as WitSeg, QueryError, Strategy, ValidationIssue,
};

use crate::error::{Error, PathSegment};
use crate::storage::store::{Page, Storage, WriteOp};

/// The host's storage import.
struct HostStorage;

fn from_wit(e: WitError) -> Error {
    match e {
        WitError::Storage(m) => Error::Storage(m),
        WitError::ResourceExhausted(m) => Error::ResourceExhausted(m),
        other => Error::Storage(format!("{other:?}")),
    }
}

impl Storage for HostStorage {
    fn get(&self, key: &[u8]) -> crate::Result<Option<Vec<u8>>> {
        wit_storage::get(key).map_err(from_wit)
    }
    fn get_many(&self, keys: &[Vec<u8>]) -> crate::Result<Vec<Option<Vec<u8>>>> {
        let (data, ends) = crate::storage::packed::pack_keys(keys);
        let values = wit_storage::get_many(&wit_storage::Keys { data, ends }).map_err(from_wit)?;
        crate::storage::packed::unpack_values(&values.data, &values.ends, keys.len())
    }
    fn scan(&self, start: &[u8], end: Option<&[u8]>, limit: u32, reverse: bool) -> crate::Result<Page> {
        let page = wit_storage::scan(start, end, limit, reverse).map_err(from_wit)?;
        Page::new(page.data, page.ends)
    }
    fn write(&self, ops: Vec<WriteOp>) -> crate::Result<()> {
        let (data, key_ends, value_ends) = crate::storage::packed::pack_batch(&ops);
        drop(ops);
        wit_storage::write(&wit_storage::WriteBatch { data, key_ends, value_ends }).map_err(from_wit)
    }
}

/// The host's embeddings import.
struct HostEmbedder;

impl crate::Embedder for HostEmbedder {
    fn embed(&self, model: &str, texts: &[String]) -> crate::Result<Vec<Vec<f32>>> {
        wit_embeddings::embed(model, texts).map_err(|e| match e {
            WitError::Embedding(m) => Error::Embedding(m),
            other => from_wit(other),
        })
    }
    fn default_model(&self) -> String {
        wit_embeddings::default_model()
    }
    fn alt_model(&self) -> Option<String> {
        wit_embeddings::alt_model()
    }
}

fn to_wit(e: Error) -> WitError {
    match e {
        Error::NotFound(m) => WitError::NotFound(m),
        Error::SchemaNotFound(m) => WitError::SchemaNotFound(m),
        Error::InvalidSchema(m) => WitError::InvalidSchema(m),
        Error::SchemaConflict(m) => WitError::SchemaConflict(m),
        Error::Validation(issues) => WitError::Validation(
            issues
                .into_iter()
                .map(|i| ValidationIssue {
                    loc: i
                        .loc
                        .into_iter()
                        .map(|s| match s {
                            PathSegment::Field(f) => WitSeg::Field(f),
                            PathSegment::Index(n) => WitSeg::Index(n),
                        })
                        .collect(),
                    kind: i.kind.as_str().to_string(),
                    msg: i.msg,
                })
                .collect(),
        ),
        Error::InvalidQuery { message, line, column } => WitError::InvalidQuery(QueryError { message, line, column }),
        Error::Unsupported(m) => WitError::Unsupported(m),
        Error::InvalidArgument(m) => WitError::InvalidArgument(m),
        Error::Storage(m) => WitError::Storage(m),
        Error::Embedding(m) => WitError::Embedding(m),
        Error::ResourceExhausted(m) => WitError::ResourceExhausted(m),
        Error::Internal(m) => WitError::Internal(m),
    }
}

fn dir(d: WitDirection) -> crate::graph::Direction {
    match d {
        WitDirection::Outgoing => crate::graph::Direction::Outgoing,
        WitDirection::Incoming => crate::graph::Direction::Incoming,
        WitDirection::Both => crate::graph::Direction::Both,
    }
}

fn options(
    d: WitDirection,
    depth: u32,
    rel_types: Vec<String>,
    s: Strategy,
    limit: Option<u32>,
) -> crate::graph::TraverseOptions {
    crate::graph::TraverseOptions {
        direction: dir(d),
        depth,
        rel_types,
        dfs: s == Strategy::Dfs,
        limit: limit.unwrap_or(crate::graph::DEFAULT_LIMIT),
        include_deleted: false,
    }
}

/// The exported `database` resource.
struct Db(Result<crate::Database<HostStorage>, Error>);

impl Db {
    fn db(&self) -> Result<&crate::Database<HostStorage>, WitError> {
        self.0.as_ref().map_err(|e| to_wit(e.clone()))
    }
}

struct Component;

impl Guest for Component {
    type Database = Db;

    fn version() -> String {
        format!("rem-core {} (format {})", env!("CARGO_PKG_VERSION"), crate::storage::keys::FORMAT_VERSION)
    }
}

impl GuestDatabase for Db {
    fn new(tenant: String) -> Self {
        Db(crate::Database::new(HostStorage, &tenant).map(|d| d.with_embedder(Box::new(HostEmbedder))))
    }
    fn register_schema(&self, name: String, schema: String) -> Result<String, WitError> {
        self.db()?.register_schema(&name, &schema).map_err(to_wit)
    }
    fn list_schemas(&self) -> Result<Vec<String>, WitError> {
        self.db()?.list_schemas().map_err(to_wit)
    }
    fn get_schema(&self, name: String) -> Result<String, WitError> {
        self.db()?.get_schema(&name).map_err(to_wit)
    }
    fn insert(&self, table: String, data: String) -> Result<String, WitError> {
        self.db()?.insert(&table, &data).map_err(to_wit)
    }
    fn insert_batch(&self, table: String, rows: Vec<String>) -> Result<Vec<String>, WitError> {
        self.db()?.insert_batch(&table, &rows).map_err(to_wit)
    }
    fn get(&self, id: String) -> Result<Option<String>, WitError> {
        self.db()?.get(&id).map_err(to_wit)
    }
    fn get_many(&self, ids: Vec<String>) -> Result<Vec<Option<String>>, WitError> {
        self.db()?.get_many(&ids).map_err(to_wit)
    }
    fn get_vectors(&self, ids: Vec<String>) -> Result<Vec<Option<Vec<f32>>>, WitError> {
        self.db()?.vectors(&ids).map_err(to_wit)
    }
    fn query_page(
        &self,
        sql: String,
        params: Option<String>,
        after: Option<String>,
        limit: u32,
    ) -> Result<String, WitError> {
        self.db()?.query_page(&sql, params.as_deref(), after.as_deref(), limit).map_err(to_wit)
    }
    fn update(&self, id: String, patch: String) -> Result<String, WitError> {
        self.db()?.update(&id, &patch).map_err(to_wit)
    }
    fn delete(&self, id: String, hard: bool) -> Result<String, WitError> {
        self.db()?.delete(&id, hard).map_err(to_wit)
    }
    fn lookup(&self, key: String) -> Result<Vec<String>, WitError> {
        self.db()?.lookup(&key).map_err(to_wit)
    }
    fn list(&self, table: String, limit: Option<u32>, offset: u32) -> Result<Vec<String>, WitError> {
        self.db()?.list(&table, limit, offset).map_err(to_wit)
    }
    fn count(&self, table: String) -> Result<u64, WitError> {
        self.db()?.count(&table).map_err(to_wit)
    }
    fn query(&self, sql: String) -> Result<String, WitError> {
        self.db()?.query(&sql).map_err(to_wit)
    }
    fn query_with_params(&self, sql: String, params: String) -> Result<String, WitError> {
        self.db()?.query_with_params(&sql, &params).map_err(to_wit)
    }
    fn execute(&self, sql: String, params: Option<String>) -> Result<String, WitError> {
        self.db()?.execute(&sql, params.as_deref()).map_err(to_wit)
    }

    fn prepare(&self, sql: String) -> Result<String, WitError> {
        self.db()?.prepare(&sql).map_err(to_wit)
    }
    fn search(&self, table: String, query: WitQuery, options: WitSearchOptions) -> Result<String, WitError> {
        let query = match query {
            WitQuery::Text(t) => crate::SearchQuery::Text(t),
            WitQuery::Vector(v) => crate::SearchQuery::Vector(v),
        };
        let opts = crate::SearchOptions {
            top_k: options.top_k,
            min_score: options.min_score,
            filter: options.filter,
            hybrid: options.hybrid,
            ef_search: options.ef_search,
            vector_field: options.vector_field,
        };
        let rows = self.db()?.search(&table, query, &opts).map_err(to_wit)?;
        serde_json::to_string(&rows).map_err(|e| WitError::Internal(e.to_string()))
    }
    fn index_stats(&self, table: String) -> Result<String, WitError> {
        Ok(self.db()?.index_stats(&table).map_err(to_wit)?.to_string())
    }
    fn stats(&self) -> Result<String, WitError> {
        Ok(self.db()?.stats().map_err(to_wit)?.to_string())
    }
    fn check(&self, max_problems: u32) -> Result<String, WitError> {
        Ok(self.db()?.check(max_problems as usize).map_err(to_wit)?.to_string())
    }
    fn rebuild_index(&self, table: String, reembed: bool) -> Result<String, WitError> {
        Ok(self.db()?.rebuild_index(&table, reembed).map_err(to_wit)?.to_string())
    }
    fn add_edge(
        &self,
        src: String,
        dst: String,
        rel_type: String,
        properties: Option<String>,
    ) -> Result<String, WitError> {
        self.db()?.add_edge(&src, &dst, &rel_type, properties.as_deref()).map_err(to_wit)
    }
    fn add_edges(&self, edges: Vec<String>) -> Result<u32, WitError> {
        self.db()?.add_edges(&edges).map_err(to_wit)
    }
    fn get_edges(&self, id: String, direction: WitDirection, rel_types: Vec<String>) -> Result<String, WitError> {
        self.db()?.get_edges(&id, dir(direction), &rel_types).map_err(to_wit)
    }
    fn delete_edge(&self, src: String, dst: String, rel_type: String) -> Result<String, WitError> {
        self.db()?.delete_edge(&src, &dst, &rel_type).map_err(to_wit)
    }
    fn traverse(
        &self,
        start: String,
        direction: WitDirection,
        depth: u32,
        rel_types: Vec<String>,
        strategy: Strategy,
        limit: Option<u32>,
    ) -> Result<String, WitError> {
        let o = options(direction, depth, rel_types, strategy, limit);
        self.db()?.traverse(&start, &o).map_err(to_wit)
    }
    fn shortest_path(
        &self,
        source: String,
        target: String,
        direction: WitDirection,
        max_depth: u32,
        rel_types: Vec<String>,
        weighted: bool,
    ) -> Result<String, WitError> {
        let o = options(direction, max_depth, rel_types, Strategy::Bfs, None);
        self.db()?.shortest_path(&source, &target, &o, weighted).map_err(to_wit)
    }
}

export!(Component);
