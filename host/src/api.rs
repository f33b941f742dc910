//! [`Api`]: every call a REM database handle answers, whether the engine runs in this process
//! ([`crate::Database`]) or in a server ([`crate::remote::Remote`], talking to `rem serve`).
//! The CLI and the Python wheel hold a `dyn Api`, so a served database behaves exactly as an
//! open file does: the same calls, results and error cases.
//!
//! Each method is one atomic call (one transaction). The documentation of each is on the
//! [`crate::Database`] method of the same name, which states its JSON shapes and errors.

use std::path::Path;

use crate::error::Result;
use crate::graph::{Direction, Strategy};
use crate::ingest::FileOutcome;
use crate::{SearchOptions, SearchQuery};

/// The REM database API (see the module documentation). `Send + Sync`: one handle may be
/// shared by threads.
pub trait Api: Send + Sync {
    /// The tenant this handle reads and writes.
    fn tenant(&self) -> &str;
    /// The database directory (`None` in memory, or when served from another machine).
    fn path(&self) -> Option<&Path>;
    /// Where the calls go: `None` in process, else the server's URL.
    fn server(&self) -> Option<&str>;
    /// See [`crate::Database::engine_version`].
    fn engine_version(&self) -> Result<String>;
    /// See [`crate::Database::register_schema`].
    fn register_schema(&self, name: &str, schema_json: &str) -> Result<String>;
    /// See [`crate::Database::register_schemas`].
    fn register_schemas(&self, schemas: &[(&str, &str)]) -> Result<Vec<String>>;
    /// See [`crate::Database::list_schemas`].
    fn list_schemas(&self) -> Result<Vec<String>>;
    /// See [`crate::Database::get_schema`].
    fn get_schema(&self, name: &str) -> Result<String>;
    /// See [`crate::Database::insert`].
    fn insert(&self, table: &str, data: &str) -> Result<String>;
    /// See [`crate::Database::insert_batch_with_progress`]. A served batch is one request,
    /// so `progress` is called once, when it has committed.
    fn insert_batch_with_progress(
        &self,
        table: &str,
        rows: &[String],
        chunk: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<String>>;
    /// See [`crate::Database::insert_batch`].
    fn insert_batch(&self, table: &str, rows: &[String]) -> Result<Vec<String>> {
        self.insert_batch_with_progress(table, rows, crate::DEFAULT_BATCH_CHUNK, &mut |_| {})
    }
    /// See [`crate::Database::get`].
    fn get(&self, id: &str) -> Result<Option<String>>;
    /// See [`crate::Database::get_many`].
    fn get_many(&self, ids: &[String]) -> Result<Vec<Option<String>>>;
    /// See [`crate::Database::get_vectors`].
    fn get_vectors(&self, ids: &[String]) -> Result<Vec<Option<Vec<f32>>>>;
    /// See [`crate::Database::update`].
    fn update(&self, id: &str, patch: &str) -> Result<String>;
    /// See [`crate::Database::delete`].
    fn delete(&self, id: &str, hard: bool) -> Result<String>;
    /// See [`crate::Database::lookup`].
    fn lookup(&self, key: &str) -> Result<Vec<String>>;
    /// See [`crate::Database::list`].
    fn list(&self, table: &str, limit: Option<u32>, offset: u32) -> Result<Vec<String>>;
    /// See [`crate::Database::count`].
    fn count(&self, table: &str) -> Result<u64>;
    /// See [`crate::Database::add_edge`].
    fn add_edge(&self, src: &str, dst: &str, rel_type: &str, properties: Option<&str>) -> Result<String>;
    /// See [`crate::Database::add_edges_with_progress`] (served: `progress` once, at the end).
    fn add_edges_with_progress(&self, edges: &[String], chunk: usize, progress: &mut dyn FnMut(usize)) -> Result<u32>;
    /// See [`crate::Database::get_edges`].
    fn get_edges(&self, id: &str, direction: Direction, rel_types: &[String]) -> Result<String>;
    /// See [`crate::Database::delete_edge`].
    fn delete_edge(&self, src: &str, dst: &str, rel_type: &str) -> Result<String>;
    /// See [`crate::Database::traverse`].
    #[allow(clippy::too_many_arguments)]
    fn traverse(
        &self,
        start: &str,
        direction: Direction,
        depth: u32,
        rel_types: &[String],
        strategy: Strategy,
        limit: Option<u32>,
    ) -> Result<String>;
    /// See [`crate::Database::shortest_path`].
    #[allow(clippy::too_many_arguments)]
    fn shortest_path(
        &self,
        source: &str,
        target: &str,
        direction: Direction,
        max_depth: u32,
        rel_types: &[String],
        weighted: bool,
    ) -> Result<String>;
    /// See [`crate::Database::query`].
    fn query(&self, sql: &str) -> Result<String>;
    /// See [`crate::Database::query_with_params`].
    fn query_with_params(&self, sql: &str, params: &str) -> Result<String>;
    /// See [`crate::Database::query_page`].
    fn query_page(&self, sql: &str, params: Option<&str>, after: Option<&str>, limit: u32) -> Result<String>;
    /// See [`crate::Database::execute`].
    fn execute(&self, sql: &str, params: Option<&str>) -> Result<String>;
    /// See [`crate::Database::prepare`].
    fn prepare(&self, sql: &str) -> Result<String>;
    /// See [`crate::Database::search`].
    fn search(&self, table: &str, query: &SearchQuery, options: &SearchOptions) -> Result<String>;
    /// See [`crate::Database::index_stats`].
    fn index_stats(&self, table: &str) -> Result<String>;
    /// See [`crate::Database::rebuild_index`].
    fn rebuild_index(&self, table: &str, reembed: bool) -> Result<String>;
    /// See [`crate::Database::engine_stats`].
    fn engine_stats(&self) -> Result<String>;
    /// See [`crate::Database::check`].
    fn check(&self, max_problems: u32) -> Result<String>;
    /// See [`crate::Database::write_document`].
    fn write_document(
        &self,
        documents: &str,
        table: &str,
        document: &serde_json::Value,
        chunks: Vec<serde_json::Value>,
        force: bool,
    ) -> Result<FileOutcome>;
    /// See [`crate::Database::write_set`].
    fn write_set(&self, writes: &crate::WriteSet) -> Result<crate::WriteSetOutcome>;
    /// See [`crate::Database::delete_batch`].
    fn delete_batch(&self, ids: &[String], hard: bool) -> Result<u32>;
    /// See [`crate::Database::backup`]. Through a server, `dest` is a path on the server's
    /// machine (made absolute by the client) and the server writes the copy.
    fn backup(&self, dest: &std::path::Path, force: bool) -> Result<crate::CopyReport>;
    /// See [`crate::Database::compact`]. Through a server, the server waits for the calls in
    /// flight, holds new ones, and compacts its file.
    fn compact(&self) -> Result<crate::CompactReport>;
    /// See [`crate::Database::rekey`]. Errors: `Unsupported` through a server (the password
    /// belongs to the process that has the file open: stop the server, then `rem rekey`).
    fn rekey(&self, new_password: &crate::crypto::Password) -> Result<()> {
        let _ = new_password;
        Err(crate::Error::Unsupported(
            "changing the password through a server is not built yet: stop the server, then run `rem rekey`".into(),
        ))
    }
    /// Register every core schema (resources, documents, sessions, messages, moments), all or
    /// none; returns the table names. See [`crate::templates::CORE`].
    fn register_core_schemas(&self) -> Result<Vec<String>> {
        let pairs: Vec<(&str, &str)> = crate::templates::CORE.iter().map(|b| (b.name, b.schema)).collect();
        self.register_schemas(&pairs)?;
        Ok(crate::templates::CORE.iter().map(|b| b.name.to_string()).collect())
    }
}

/// Forward every [`Api`] method to the inherent method of the same name.
impl Api for crate::Database {
    fn tenant(&self) -> &str {
        crate::Database::tenant(self)
    }
    fn path(&self) -> Option<&Path> {
        crate::Database::path(self)
    }
    fn server(&self) -> Option<&str> {
        None
    }
    fn engine_version(&self) -> Result<String> {
        crate::Database::engine_version(self)
    }
    fn register_schema(&self, name: &str, schema_json: &str) -> Result<String> {
        crate::Database::register_schema(self, name, schema_json)
    }
    fn register_schemas(&self, schemas: &[(&str, &str)]) -> Result<Vec<String>> {
        crate::Database::register_schemas(self, schemas)
    }
    fn list_schemas(&self) -> Result<Vec<String>> {
        crate::Database::list_schemas(self)
    }
    fn get_schema(&self, name: &str) -> Result<String> {
        crate::Database::get_schema(self, name)
    }
    fn insert(&self, table: &str, data: &str) -> Result<String> {
        crate::Database::insert(self, table, data)
    }
    fn insert_batch_with_progress(
        &self,
        table: &str,
        rows: &[String],
        chunk: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<String>> {
        crate::Database::insert_batch_with_progress(self, table, rows, chunk, progress)
    }
    fn get(&self, id: &str) -> Result<Option<String>> {
        crate::Database::get(self, id)
    }
    fn get_many(&self, ids: &[String]) -> Result<Vec<Option<String>>> {
        crate::Database::get_many(self, ids)
    }
    fn get_vectors(&self, ids: &[String]) -> Result<Vec<Option<Vec<f32>>>> {
        crate::Database::get_vectors(self, ids)
    }
    fn update(&self, id: &str, patch: &str) -> Result<String> {
        crate::Database::update(self, id, patch)
    }
    fn delete(&self, id: &str, hard: bool) -> Result<String> {
        crate::Database::delete(self, id, hard)
    }
    fn lookup(&self, key: &str) -> Result<Vec<String>> {
        crate::Database::lookup(self, key)
    }
    fn list(&self, table: &str, limit: Option<u32>, offset: u32) -> Result<Vec<String>> {
        crate::Database::list(self, table, limit, offset)
    }
    fn count(&self, table: &str) -> Result<u64> {
        crate::Database::count(self, table)
    }
    fn add_edge(&self, src: &str, dst: &str, rel_type: &str, properties: Option<&str>) -> Result<String> {
        crate::Database::add_edge(self, src, dst, rel_type, properties)
    }
    fn add_edges_with_progress(&self, edges: &[String], chunk: usize, progress: &mut dyn FnMut(usize)) -> Result<u32> {
        crate::Database::add_edges_with_progress(self, edges, chunk, progress)
    }
    fn get_edges(&self, id: &str, direction: Direction, rel_types: &[String]) -> Result<String> {
        crate::Database::get_edges(self, id, direction, rel_types)
    }
    fn delete_edge(&self, src: &str, dst: &str, rel_type: &str) -> Result<String> {
        crate::Database::delete_edge(self, src, dst, rel_type)
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
        crate::Database::traverse(self, start, direction, depth, rel_types, strategy, limit)
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
        crate::Database::shortest_path(self, source, target, direction, max_depth, rel_types, weighted)
    }
    fn query(&self, sql: &str) -> Result<String> {
        crate::Database::query(self, sql)
    }
    fn query_with_params(&self, sql: &str, params: &str) -> Result<String> {
        crate::Database::query_with_params(self, sql, params)
    }
    fn query_page(&self, sql: &str, params: Option<&str>, after: Option<&str>, limit: u32) -> Result<String> {
        crate::Database::query_page(self, sql, params, after, limit)
    }
    fn execute(&self, sql: &str, params: Option<&str>) -> Result<String> {
        crate::Database::execute(self, sql, params)
    }
    fn prepare(&self, sql: &str) -> Result<String> {
        crate::Database::prepare(self, sql)
    }
    fn search(&self, table: &str, query: &SearchQuery, options: &SearchOptions) -> Result<String> {
        crate::Database::search(self, table, query, options)
    }
    fn index_stats(&self, table: &str) -> Result<String> {
        crate::Database::index_stats(self, table)
    }
    fn rebuild_index(&self, table: &str, reembed: bool) -> Result<String> {
        crate::Database::rebuild_index(self, table, reembed)
    }
    fn engine_stats(&self) -> Result<String> {
        crate::Database::engine_stats(self)
    }
    fn check(&self, max_problems: u32) -> Result<String> {
        crate::Database::check(self, max_problems)
    }
    fn write_document(
        &self,
        documents: &str,
        table: &str,
        document: &serde_json::Value,
        chunks: Vec<serde_json::Value>,
        force: bool,
    ) -> Result<FileOutcome> {
        crate::Database::write_document(self, documents, table, document, chunks, force)
    }
    fn write_set(&self, writes: &crate::WriteSet) -> Result<crate::WriteSetOutcome> {
        crate::Database::write_set(self, writes)
    }
    fn delete_batch(&self, ids: &[String], hard: bool) -> Result<u32> {
        crate::Database::delete_batch(self, ids, hard)
    }
    fn backup(&self, dest: &std::path::Path, force: bool) -> Result<crate::CopyReport> {
        crate::Database::backup(self, dest, force)
    }
    fn compact(&self) -> Result<crate::CompactReport> {
        crate::Database::compact(self)
    }
    fn rekey(&self, new_password: &crate::crypto::Password) -> Result<()> {
        crate::Database::rekey(self, new_password)
    }
}
