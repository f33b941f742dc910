//! [`Database`]: a tenant's handle on a REM database, running the engine
//! component in a wasmtime store over redb.
//!
//! Atomicity: every method runs in exactly one redb transaction, which the
//! host opens before calling into the engine. Mutating methods use a write
//! transaction that is committed only if the engine returns `ok`; an error or
//! a trap aborts it, so nothing of a failed call is ever written. Reads use a
//! read snapshot. After a trap the store is discarded and a fresh instance is
//! made on the next call.

mod ingest;
mod instance;
mod maintenance;
mod write_set;

pub use instance::MAX_BATCH_BYTES;
use instance::{Inner, Mode, batches, open_redb_waiting, shift_rows};
pub use maintenance::{CompactReport, CopyReport, restore};
pub use write_set::{TableRows, WriteSet, WriteSetOutcome};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::bindings::exports::rem::engine::database as wit_db;
use crate::config;
use crate::embed::Embeddings;
use crate::error::{Error, Result};
use crate::graph::{Direction, Strategy};

pub use rem_core::model::tenant::MAX_TENANT_LEN;

/// Rows per engine call in [`Database::insert_batch_with_progress`].
pub const DEFAULT_BATCH_CHUNK: usize = 1000;

/// Search queries and options are the engine's own types, defined once in `rem-core`
/// (`top_k` 1 to 10,000, default 10; `min_score` default -1; `ef_search` overrides the table's).
pub use rem_core::{SearchOptions, SearchQuery};

/// The interrupt check of a handle's calls (defined with the per-store state that holds it).
pub use crate::state::InterruptCheck;

/// How often a running call asks its [`InterruptCheck`]: 100 ms.
pub const INTERRUPT_POLL: Duration = Duration::from_millis(100);

/// Options for [`Database::open`].
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Database directory (holds `rem.redb`); `None` for a throwaway in-memory database.
    pub path: Option<PathBuf>,
    /// Tenant (1 to 128 bytes). Default `default`.
    pub tenant: String,
    /// Guest linear-memory cap in bytes. Default `$P8_MEMORY_LIMIT_MIB` or 2 GiB.
    pub memory_limit: u64,
    /// Embedding providers (default model, weights folder, custom function).
    pub embeddings: Embeddings,
    /// Deadline of each engine call, host-side embedding included (`None`: no deadline). Default
    /// `$P8_CALL_TIMEOUT_MS`, else [`config::DEFAULT_CALL_TIMEOUT_MS`] (60 s). Resolution:
    /// [`crate::EPOCH_TICK`] (5 ms). Deadlines cost up to ~20% in compute-bound calls (wasmtime's
    /// epoch checks; `docs/benchmarks.md`), so `None` runs the engine without them.
    pub call_timeout: Option<std::time::Duration>,
    /// Stops a running call when it answers `true` (see [`InterruptCheck`]). Default none.
    pub interrupt: Option<InterruptCheck>,
    /// Apply large write batches on a second thread while the engine goes on (`kv::pipeline`).
    /// Default `$P8_WRITE_PIPELINE`, else on. On a machine whose other core is busy the second
    /// thread costs more than it saves; turn it off there (`docs/benchmarks.md`, Inserts and upserts).
    pub write_pipeline: bool,
    /// How long to wait while another process holds the database (then `Locked`). Default
    /// `$P8_BUSY_TIMEOUT_MS`, else [`config::DEFAULT_BUSY_TIMEOUT_MS`] (5 s).
    pub busy_timeout: Duration,
    /// Create the database when `path` holds none (as `sqlite3.connect` does). Default true;
    /// false makes a missing database `DatabaseNotFound` (every `rem` command but `rem init`),
    /// so a mistyped path creates nothing.
    pub create: bool,
    /// The password of an encrypted database (`crate::crypto`): a new database is created
    /// encrypted with it; an existing plain one refuses it (`InvalidArgument`). `None` opens a
    /// plain database, or an encrypted one with `$P8_PASSWORD` (else `Password`). Default `None`.
    pub password: Option<crate::crypto::Password>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            path: Some(config::default_db_path()),
            tenant: "default".into(),
            // A bad setting falls back to its default here; `Database::open` refuses it (config::check_env).
            memory_limit: config::memory_limit_from_env()
                .ok()
                .flatten()
                .unwrap_or(config::DEFAULT_MEMORY_LIMIT_MIB * 1024 * 1024),
            embeddings: Embeddings::default(),
            call_timeout: config::call_timeout_from_env()
                .unwrap_or(Some(Duration::from_millis(config::DEFAULT_CALL_TIMEOUT_MS))),
            interrupt: None,
            write_pipeline: config::write_pipeline_from_env().unwrap_or(true),
            busy_timeout: config::busy_timeout_from_env()
                .unwrap_or(Duration::from_millis(config::DEFAULT_BUSY_TIMEOUT_MS)),
            create: true,
            password: None,
        }
    }
}

impl OpenOptions {
    /// Options for the database directory `path`.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        OpenOptions { path: Some(path.into()), ..Default::default() }
    }
    /// Options for a throwaway in-memory database.
    pub fn in_memory() -> Self {
        OpenOptions { path: None, ..Default::default() }
    }
    /// Use `tenant`.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }
    /// Cap guest memory at `bytes`.
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = bytes;
        self
    }
    /// Stop any engine call still running after `timeout` (`Error::Timeout`, rolled back).
    pub fn call_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.call_timeout = timeout;
        self
    }
    /// Stop running calls when `check` answers `true` ([`Error::Interrupted`], rolled back).
    pub fn interrupt(mut self, check: InterruptCheck) -> Self {
        self.interrupt = Some(check);
        self
    }
    /// Turn the write pipeline on or off (see [`OpenOptions::write_pipeline`]).
    pub fn write_pipeline(mut self, on: bool) -> Self {
        self.write_pipeline = on;
        self
    }
    /// Whether to create a missing database (see [`OpenOptions::create`]).
    pub fn create(mut self, create: bool) -> Self {
        self.create = create;
        self
    }
    /// Open (or create) the database encrypted with `password` (see [`OpenOptions::password`]).
    pub fn password(mut self, password: crate::crypto::Password) -> Self {
        self.password = Some(password);
        self
    }
    /// Wait up to `wait` for a database another process holds (see [`OpenOptions::busy_timeout`]).
    pub fn busy_timeout(mut self, wait: Duration) -> Self {
        self.busy_timeout = wait;
        self
    }
    /// Use `embeddings` (e.g. `Embeddings::new(Some("hash:384".into()), None)` for a model-free default).
    pub fn embeddings(mut self, embeddings: Embeddings) -> Self {
        self.embeddings = embeddings;
        self
    }
}

/// A tenant's handle on a REM database. `Send + Sync`: calls are serialised
/// by an internal mutex; for calls in parallel, make more handles on the same open file with
/// [`Database::for_tenant`] (each has its own engine instance).
///
/// Fork safety: a handle belongs to the process that opened it. In a child made by `fork()`
/// every call fails with [`Error::Forked`], and dropping the handle there releases nothing and
/// writes nothing (the parent's open file, lock and any transaction in flight are left alone),
/// so the parent's database is never written through a copied handle.
pub struct Database {
    inner: Mutex<Inner>,
    /// Spare engine instances for reads while `inner`'s is busy.
    readers: Mutex<instance::Readers>,
    /// The process that opened the handle.
    pid: u32,
    interrupt: Option<InterruptCheck>,
    tenant: String,
    memory_limit: u64,
    path: Option<PathBuf>,
    embeddings: Embeddings,
    call_timeout: Option<std::time::Duration>,
    write_pipeline: bool,
    /// The keys of an encrypted file (shared by the handles on it), `None` for a plain one.
    keys: Option<Arc<crate::crypto::backend::Keyring>>,
}

impl Database {
    /// Open (creating if needed, unless `options.create` is false) the database described by `options`.
    ///
    /// Errors: `InvalidArgument` (bad tenant), `DatabaseNotFound` (none at the path, and
    /// `create` false), `Locked` (another process held it for longer than `busy_timeout`), `Io`,
    /// `Storage`, `Internal` (the engine failed to load).
    pub fn open(options: OpenOptions) -> Result<Database> {
        let problems = config::check_env();
        if !problems.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "bad settings in the environment: {}; fix or unset them",
                problems.join("; ")
            )));
        }
        rem_core::model::tenant::check_tenant(&options.tenant)?;
        let (redb, keys) = match &options.path {
            Some(dir) if !options.create && !dir.join(config::DB_FILE).exists() => {
                return Err(Error::DatabaseNotFound { path: dir.clone() });
            }
            Some(dir) => open_redb_waiting(dir, options.busy_timeout, options.password.as_ref())?,
            None if options.password.is_some() => {
                return Err(Error::InvalidArgument(
                    "an in-memory database is never written to disk, so it takes no password".into(),
                ));
            }
            None => (
                redb::Database::builder()
                    .create_with_backend(redb::backends::InMemoryBackend::new())
                    .map_err(|e| Error::Storage(e.to_string()))?,
                None,
            ),
        };
        let redb = Arc::new(redb);
        let db = Database {
            keys,
            readers: Mutex::new(instance::Readers::new(Some(redb.clone()))),
            inner: Mutex::new(Inner { redb: Some(redb), live: None }),
            pid: std::process::id(),
            interrupt: options.interrupt,
            tenant: options.tenant,
            memory_limit: options.memory_limit,
            path: options.path,
            embeddings: options.embeddings,
            call_timeout: options.call_timeout,
            write_pipeline: options.write_pipeline,
        };
        // Instantiate now so configuration problems surface at open.
        db.transaction(Mode::Read, |_| Ok(()))?;
        Ok(db)
    }

    /// Another handle on this handle's open database for `tenant`, with its own engine instance
    /// and the same settings: calls on different handles run in parallel (reads each in their
    /// own snapshot; writes one at a time, as redb has one writer, each waiting for the one
    /// before to commit). The file stays open until the last handle on it is dropped.
    /// Errors: `InvalidArgument` (bad tenant), `Forked`, `Internal` (the engine failed to load).
    pub fn for_tenant(&self, tenant: &str) -> Result<Database> {
        rem_core::model::tenant::check_tenant(tenant)?;
        let redb = self.lock()?.redb.clone();
        let db = Database {
            keys: self.keys.clone(),
            readers: Mutex::new(instance::Readers::new(redb.clone())),
            inner: Mutex::new(Inner { redb, live: None }),
            pid: self.pid,
            interrupt: self.interrupt.clone(),
            tenant: tenant.to_string(),
            memory_limit: self.memory_limit,
            path: self.path.clone(),
            embeddings: self.embeddings.clone(),
            call_timeout: self.call_timeout,
            write_pipeline: self.write_pipeline,
        };
        db.transaction(Mode::Read, |_| Ok(()))?;
        Ok(db)
    }

    /// Open the database directory `path` as tenant `default`.
    pub fn open_path(path: impl Into<PathBuf>) -> Result<Database> {
        Database::open(OpenOptions::at(path))
    }

    /// A throwaway in-memory database.
    pub fn in_memory() -> Result<Database> {
        Database::open(OpenOptions::in_memory())
    }

    /// The engine's version and storage format (`rem-core <semver> (format <n>)`): one export
    /// call that touches no storage. Errors: `Trap`, `Internal`, `Forked`.
    pub fn engine_version(&self) -> Result<String> {
        self.transaction(Mode::Read, |live| {
            live.bindings.rem_engine_database().call_version(&mut live.store).map_err(|e| Error::Trap(format!("{e:#}")))
        })
    }

    /// The tenant this handle reads and writes.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The database directory (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Register or replace the schema of table `name` from a JSON Schema
    /// document (JSON text). Returns the stored schema record as JSON.
    /// Errors: `InvalidSchema`, `SchemaConflict` (major version bump), `InvalidArgument`, `Storage`.
    pub fn register_schema(&self, name: &str, schema_json: &str) -> Result<String> {
        self.call(Mode::Write, |db, s, h| db.call_register_schema(s, h, name, schema_json))
    }

    /// Register several `(name, schema_json)` at once, all or none (one transaction).
    /// Returns the stored records. Errors: as [`Database::register_schema`].
    pub fn register_schemas(&self, schemas: &[(&str, &str)]) -> Result<Vec<String>> {
        self.transaction(Mode::Write, |live| {
            schemas
                .iter()
                .map(|(name, schema)| Self::invoke(live, |db, s, h| db.call_register_schema(s, h, name, schema)))
                .collect()
        })
    }

    /// Registered table names, sorted. Errors: `Storage`.
    pub fn list_schemas(&self) -> Result<Vec<String>> {
        self.call(Mode::Read, |db, s, h| db.call_list_schemas(s, h))
    }

    /// The schema record of `name` as JSON. Errors: `SchemaNotFound`.
    pub fn get_schema(&self, name: &str) -> Result<String> {
        self.call(Mode::Read, |db, s, h| db.call_get_schema(s, h, name))
    }

    /// Validate and upsert one entity (`data`: JSON object text); returns the
    /// stored entity as JSON. Errors: `SchemaNotFound`, `InvalidArgument`, `Validation`, `Storage`.
    pub fn insert(&self, table: &str, data: &str) -> Result<String> {
        self.call(Mode::Write, |db, s, h| db.call_insert(s, h, table, data))
    }

    /// Upsert every row (JSON object texts) or none, in one transaction; returns ids in order.
    /// Validation issues carry the row index as their first `loc` segment.
    ///
    /// Sent to the engine at most [`DEFAULT_BATCH_CHUNK`] rows and [`MAX_BATCH_BYTES`] bytes per
    /// engine call, so the per-call deadline bounds each chunk (and its embedding), not the whole batch.
    pub fn insert_batch(&self, table: &str, rows: &[String]) -> Result<Vec<String>> {
        self.insert_batch_with_progress(table, rows, DEFAULT_BATCH_CHUNK, &mut |_| {})
    }

    /// Like [`Database::insert_batch`], sent to the engine at most `chunk` rows (and
    /// [`MAX_BATCH_BYTES`] bytes) at a time inside one transaction (all or nothing), calling
    /// `progress(rows_done)` after each chunk.
    pub fn insert_batch_with_progress(
        &self,
        table: &str,
        rows: &[String],
        chunk: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<String>> {
        self.transaction(Mode::Write, |live| {
            let mut ids = Vec::with_capacity(rows.len());
            for part in batches(rows, chunk) {
                let offset = ids.len() as u32;
                let got = Self::invoke(live, |db, s, h| db.call_insert_batch(s, h, table, part))
                    .map_err(|e| shift_rows(e, offset))?;
                ids.extend(got);
                progress(ids.len());
            }
            Ok(ids)
        })
    }

    /// The entity `id` as JSON (soft-deleted ones included), or `None`.
    /// Errors: `InvalidArgument` (not a UUID), `Storage`.
    pub fn get(&self, id: &str) -> Result<Option<String>> {
        self.call(Mode::Read, |db, s, h| db.call_get(s, h, id))
    }

    /// `get` for each id, in order.
    pub fn get_many(&self, ids: &[String]) -> Result<Vec<Option<String>>> {
        self.call(Mode::Read, |db, s, h| db.call_get_many(s, h, ids))
    }

    /// The stored vectors of `ids` (entity ids), in order: unit length (REM normalises every
    /// vector for cosine similarity), `None` for an absent or soft-deleted entity or one
    /// without a vector. Errors: `InvalidArgument` (not a UUID), `Storage`.
    pub fn get_vectors(&self, ids: &[String]) -> Result<Vec<Option<Vec<f32>>>> {
        self.call(Mode::Read, |db, s, h| db.call_get_vectors(s, h, ids))
    }

    /// Merge `patch` (JSON object text) into the entity's properties, re-validate, store.
    /// Errors: `NotFound`, `InvalidArgument`, `Validation`, `Storage`.
    pub fn update(&self, id: &str, patch: &str) -> Result<String> {
        self.call(Mode::Write, |db, s, h| db.call_update(s, h, id, patch))
    }

    /// Soft delete, or with `hard` remove the entity and its index entries.
    /// Returns the entity as last stored. Errors: `NotFound`, `InvalidArgument`, `Storage`.
    pub fn delete(&self, id: &str, hard: bool) -> Result<String> {
        self.call(Mode::Write, |db, s, h| db.call_delete(s, h, id, hard))
    }

    /// Live entities whose natural key is exactly `key`, across tables.
    pub fn lookup(&self, key: &str) -> Result<Vec<String>> {
        self.call(Mode::Read, |db, s, h| db.call_lookup(s, h, key))
    }

    /// Up to `limit` live entities of `table` after `offset`, in id order.
    /// Errors: `SchemaNotFound`, `Storage`.
    pub fn list(&self, table: &str, limit: Option<u32>, offset: u32) -> Result<Vec<String>> {
        self.call(Mode::Read, |db, s, h| db.call_list(s, h, table, limit, offset))
    }

    /// Number of live entities in `table`. Errors: `SchemaNotFound`, `Storage`.
    pub fn count(&self, table: &str) -> Result<u64> {
        self.call(Mode::Read, |db, s, h| db.call_count(s, h, table))
    }

    /// Add (upsert) the edge `src -[rel_type]-> dst` (ids or natural keys, both must exist) with
    /// optional JSON-object `properties`. Returns the edge as JSON. Errors: `NotFound`, `InvalidArgument`.
    pub fn add_edge(&self, src: &str, dst: &str, rel_type: &str, properties: Option<&str>) -> Result<String> {
        self.call(Mode::Write, |db, s, h| db.call_add_edge(s, h, src, dst, rel_type, properties))
    }

    /// Add (upsert) many edges (JSON objects `{src, dst, rel_type, properties?}`, ends as ids or
    /// natural keys), `chunk` per engine call inside one transaction (all or none), calling
    /// `progress(edges_done)` after each chunk. Validation issues carry the global edge index.
    pub fn add_edges_with_progress(
        &self,
        edges: &[String],
        chunk: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<u32> {
        let chunk = chunk.max(1);
        self.transaction(Mode::Write, |live| {
            let mut done = 0u32;
            for (n, part) in edges.chunks(chunk).enumerate() {
                let offset = (n * chunk) as u32;
                done +=
                    Self::invoke(live, |db, s, h| db.call_add_edges(s, h, part)).map_err(|e| shift_rows(e, offset))?;
                progress(done as usize);
            }
            Ok(done)
        })
    }

    /// Edges of `id` (or natural key) in `direction`, filtered by `rel_types` (empty: all), as a JSON array.
    pub fn get_edges(&self, id: &str, direction: Direction, rel_types: &[String]) -> Result<String> {
        self.call(Mode::Read, |db, s, h| db.call_get_edges(s, h, id, direction.into(), rel_types))
    }

    /// Remove the edge `src -[rel_type]-> dst`; returns it as JSON. Errors: `NotFound`.
    pub fn delete_edge(&self, src: &str, dst: &str, rel_type: &str) -> Result<String> {
        self.call(Mode::Write, |db, s, h| db.call_delete_edge(s, h, src, dst, rel_type))
    }

    /// Walk from `start` (id or natural key) up to `depth` hops (1 to 10); returns a JSON array of
    /// `{id, depth, path}`, the start first. Errors: `NotFound`, `InvalidArgument`.
    pub fn traverse(
        &self,
        start: &str,
        direction: Direction,
        depth: u32,
        rel_types: &[String],
        strategy: Strategy,
        limit: Option<u32>,
    ) -> Result<String> {
        self.call(Mode::Read, |db, s, h| {
            db.call_traverse(s, h, start, direction.into(), depth, rel_types, strategy.into(), limit)
        })
    }

    /// Shortest path within `max_depth` hops: fewest hops, or least total `weight` when `weighted`.
    /// Returns JSON `{source, target, hops, cost, nodes, path}`. Errors: `NotFound` ("no path ...").
    pub fn shortest_path(
        &self,
        source: &str,
        target: &str,
        direction: Direction,
        max_depth: u32,
        rel_types: &[String],
        weighted: bool,
    ) -> Result<String> {
        self.call(Mode::Read, |db, s, h| {
            db.call_shortest_path(s, h, source, target, direction.into(), max_depth, rel_types, weighted)
        })
    }

    /// Run one REM SQL statement; returns a JSON array of row objects.
    /// Errors: `InvalidQuery`, `SchemaNotFound`, `Unsupported`, `Storage`.
    pub fn query(&self, sql: &str) -> Result<String> {
        self.call(Mode::Read, |db, s, h| db.call_query(s, h, sql))
    }

    /// [`Database::query`] with `params` (JSON text: a list for `?`, `?N`, `$N`; an object for
    /// `:name`, `$name`) bound as SQL literals first. Errors: as `query`, plus `InvalidArgument`.
    pub fn query_with_params(&self, sql: &str, params: &str) -> Result<String> {
        self.call(Mode::Read, |db, s, h| db.call_query_with_params(s, h, sql, params))
    }

    /// One page of a plain `SELECT`'s rows in id order after the id `after`, at most `limit`
    /// (1 to 100,000), with optional `params`: JSON `{"rows": [...], "next": id | null}` (keyset
    /// pagination; `next` is null on the last page). Errors: as `query_with_params`, plus
    /// `Unsupported` (ORDER BY, GROUP BY, aggregates, DISTINCT, LIMIT, OFFSET, REM statements).
    pub fn query_page(&self, sql: &str, params: Option<&str>, after: Option<&str>, limit: u32) -> Result<String> {
        self.call(Mode::Read, |db, s, h| db.call_query_page(s, h, sql, params, after, limit))
    }

    /// Run one statement that may write, in one transaction: `DELETE FROM t [WHERE ..] [HARD]`
    /// (soft; `HARD` removes the rows) or `UPDATE t SET f = expr, .. [WHERE ..]` (re-validated as
    /// `update`); any other statement runs as `query`. `params` as in `query_with_params`.
    /// Returns JSON: the rows of a read, `[{"changed": n}]` for a write. Errors: as
    /// `query_with_params`, plus `Validation` (nothing is written) and `Unsupported`.
    pub fn execute(&self, sql: &str, params: Option<&str>) -> Result<String> {
        self.call(Mode::Write, |db, s, h| db.call_execute(s, h, sql, params))
    }

    /// Check one REM SQL statement without reading any row (parse, resolve the table, compile).
    /// Returns JSON `{statement, tables, read_only}`. Errors: the error [`Database::query`]
    /// would return for the same text (`InvalidQuery`, `SchemaNotFound`, `Unsupported`).
    pub fn prepare(&self, sql: &str) -> Result<String> {
        self.call(Mode::Read, |db, s, h| db.call_prepare(s, h, sql))
    }

    /// Semantic search of `table`: a JSON array of entities with `_score` (1 - cosine distance), best
    /// first; with a filter, exactly min(top-k, matching rows) rows (above `min_score`).
    /// Errors: `SchemaNotFound`, `InvalidArgument`, `InvalidQuery` (filter), `Embedding`.
    pub fn search(&self, table: &str, query: &SearchQuery, options: &SearchOptions) -> Result<String> {
        let q = match query {
            SearchQuery::Text(t) => wit_db::SearchQuery::Text(t.clone()),
            SearchQuery::Vector(v) => wit_db::SearchQuery::Vector(v.clone()),
        };
        let o = wit_db::SearchOptions {
            top_k: options.top_k,
            min_score: options.min_score,
            filter: options.filter.clone(),
            hybrid: options.hybrid,
            ef_search: options.ef_search,
            vector_field: options.vector_field.clone(),
        };
        self.call(Mode::Read, |db, s, h| db.call_search(s, h, table, &q, &o))
    }

    /// The vector index of `table` as JSON (`model`, `dims`, `m`, `ef_construction`, `ef_search`,
    /// `count`, `live`, `tombstones`, `max_level`, `resident`). Errors: `SchemaNotFound`, `InvalidArgument`.
    pub fn index_stats(&self, table: &str) -> Result<String> {
        self.call(Mode::Read, |db, s, h| db.call_index_stats(s, h, table))
    }

    /// What the tenant holds per table and key space, counted by the engine (WIT `stats`), as
    /// JSON; [`crate::stats::stats`] adds the file's size. It runs without the per-call deadline
    /// (one scan of every record). Errors: `Storage`.
    pub fn engine_stats(&self) -> Result<String> {
        self.transaction(Mode::Read, |live| {
            live.call_timeout = None;
            Self::invoke(live, |db, s, h| db.call_stats(s, h))
        })
    }

    /// Verify every derived record of the tenant against its rows (WIT `check`), listing at most
    /// `max_problems` (1 to 10,000) disagreements: JSON `{"ok", "problems", "problems_total",
    /// "checked"}`. It reads one snapshot, without the per-call deadline. Errors: `Storage`.
    pub fn check(&self, max_problems: u32) -> Result<String> {
        self.transaction(Mode::Read, |live| {
            live.call_timeout = None;
            Self::invoke(live, |db, s, h| db.call_check(s, h, max_problems))
        })
    }

    /// Rebuild `table`'s vector index from stored vectors (or re-embed every row with `reembed`).
    /// Returns the index stats. Errors: as `index_stats`, plus `Embedding`.
    ///
    /// It runs without the per-call deadline (it is one engine call over the whole table, which
    /// may rightly take longer than any deadline set for ordinary calls); the interrupt check
    /// still applies.
    pub fn rebuild_index(&self, table: &str, reembed: bool) -> Result<String> {
        self.transaction(Mode::Write, |live| {
            live.call_timeout = None;
            Self::invoke(live, |db, s, h| db.call_rebuild_index(s, h, table, reembed))
        })
    }
}
