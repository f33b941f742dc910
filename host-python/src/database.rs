//! `rem_db._rem.Database`: one tenant's handle on a REM database.
//!
//! Arguments are Python values (written to JSON in Rust) and results are parsed
//! from the engine's JSON into Python objects in Rust (`crate::json`); every
//! method releases the GIL for the whole engine call, and the class is
//! `frozen` and `Sync`, so one handle may be shared across threads (calls are
//! serialised inside [`rem_host::Database`]).

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rem_host::{Direction, Embeddings, InterruptCheck, OpenOptions, SearchOptions, SearchQuery, Strategy};

use crate::{embed, error, json, llm};
use rem_host::remote::wire::json_array;

/// The path the CLI and `REMDatabase(path=None)` use: `$P8_DB_PATH`, else `$P8_HOME/db`, else `~/.p8/db`.
#[pyfunction]
pub fn default_db_path() -> String {
    rem_host::config::default_db_path().display().to_string()
}

/// Restore the backup at `src` (a database directory made by `backup`) into the new database
/// directory `dest` (replacing a database there only with `force`, never an open one); returns
/// `{"path", "keys", "file_bytes"}` as JSON text. Raises the `rem_db` error of the failure.
#[pyfunction]
#[pyo3(signature = (src, dest, force=false, password=None))]
pub fn restore(py: Python<'_>, src: String, dest: String, force: bool, password: Option<String>) -> PyResult<String> {
    let password = password.map(rem_host::crypto::Password::new).transpose().map_err(|e| error::to_py(py, e, None))?;
    let report = py.detach(|| {
        rem_host::restore(std::path::Path::new(&src), std::path::Path::new(&dest), force, password.as_ref())
    });
    match report {
        Ok(r) => Ok(serde_json::to_string(&r).unwrap_or_default()),
        Err(e) => Err(error::to_py(py, e, None)),
    }
}

/// A REM database handle (native; use `rem_db.REMDatabase`).
#[pyclass(module = "rem_db._rem", frozen)]
pub struct Database {
    db: RwLock<Option<Arc<dyn rem_host::Api>>>,
    tenant: String,
    path: Option<String>,
    server: Option<String>,
}

type HostResult<T> = rem_host::Result<T>;

/// The interpreter's main thread, the only one where Python runs signal handlers.
static MAIN_THREAD: OnceLock<std::thread::ThreadId> = OnceLock::new();

thread_local! {
    /// The exception a signal handler raised during an engine call on this thread (Ctrl-C's
    /// `KeyboardInterrupt`), re-raised when the interrupted call returns.
    static PENDING_SIGNAL: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Note the main thread (called at import, which runs there).
pub fn note_main_thread(py: Python<'_>) -> PyResult<()> {
    let threading = py.import("threading")?;
    if threading.call_method0("current_thread")?.is(&threading.call_method0("main_thread")?) {
        MAIN_THREAD.get_or_init(|| std::thread::current().id());
    }
    Ok(())
}

thread_local! {
    /// The exception a Python callback (an embedding function, an `llm=` callable) raised during
    /// the last engine call on this thread, for the `__cause__` of the error that call returns.
    static CALLBACK_ERROR: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Keep `err`, raised by a Python callback inside an engine call: an `Exception` becomes the
/// `__cause__` of the call's error; anything else (`KeyboardInterrupt`, `SystemExit`) is the
/// program's, not the callback's, and is raised as it is when the call returns.
pub(crate) fn keep_callback_error(py: Python<'_>, err: PyErr) {
    if err.is_instance_of::<pyo3::exceptions::PyException>(py) {
        CALLBACK_ERROR.with(|e| *e.borrow_mut() = Some(err));
    } else {
        keep_signal(err);
    }
}

/// Keep `err`, raised by Python code run inside an engine call on this thread (a signal
/// handler's `KeyboardInterrupt`), to be raised when the call returns.
pub(crate) fn keep_signal(err: PyErr) {
    PENDING_SIGNAL.with(|p| *p.borrow_mut() = Some(err));
}

/// The interrupt check of every handle: on the main thread, run Python's pending signal handlers
/// (`PyErr_CheckSignals`); when one raises (Ctrl-C), keep its exception and stop the call.
fn signal_check() -> InterruptCheck {
    InterruptCheck(Arc::new(|| {
        if MAIN_THREAD.get() != Some(&std::thread::current().id()) {
            return false;
        }
        Python::attach(|py| match py.check_signals() {
            Ok(()) => false,
            Err(e) => {
                keep_signal(e);
                true
            }
        })
    }))
}

/// `DatabaseClosedError`, for a call on a closed handle.
fn closed_error(py: Python<'_>) -> PyErr {
    error::own(py, "DatabaseClosedError", closed().to_string())
}

fn closed() -> rem_host::Error {
    rem_host::Error::InvalidArgument("the database is closed; open a new REMDatabase".into())
}

/// The `id` of a stored entity's JSON.
pub(crate) fn entity_id(entity: &str) -> HostResult<String> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    serde_json::from_str::<Id>(entity)
        .map(|e| e.id)
        .map_err(|e| rem_host::Error::Internal(format!("the engine returned an entity without an id: {e}")))
}

impl Database {
    /// The open host database. Errors: `InvalidArgumentError` once closed.
    pub(crate) fn host(&self, py: Python<'_>) -> PyResult<Arc<dyn rem_host::Api>> {
        let guard =
            self.db.read().map_err(|_| error::to_py(py, rem_host::Error::Internal("lock poisoned".into()), None))?;
        guard.clone().ok_or_else(|| closed_error(py))
    }

    /// Run `f` on the open database with the GIL released; map errors to `rem_db.errors`.
    fn run<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&dyn rem_host::Api) -> HostResult<T> + Send) -> PyResult<T> {
        let db = self
            .db
            .read()
            .map_err(|_| error::to_py(py, rem_host::Error::Internal("lock poisoned".into()), None))?
            .clone()
            .ok_or_else(|| closed_error(py))?;
        // The host catches its own panics; this catches any in the closures here (and in dropping
        // the last reference, which closes the file), so that no panic reaches Python as
        // `PanicException` (which `except Exception` does not catch).
        let result = py.detach(move || {
            std::panic::catch_unwind(AssertUnwindSafe(move || f(&*db))).unwrap_or_else(|panic| {
                Err(rem_host::Error::Internal(format!("{} (a bug in REM)", rem_host::panic_message(&*panic))))
            })
        });
        // A signal handler that raised during the call (Ctrl-C) wins over whatever the call returned.
        if let Some(signal) = PENDING_SIGNAL.with(|p| p.borrow_mut().take()) {
            return Err(signal);
        }
        result.map_err(|e| {
            if let rem_host::Error::Interrupted(why) = &e {
                return pyo3::exceptions::PyKeyboardInterrupt::new_err(why.clone());
            }
            let kept = CALLBACK_ERROR.with(|c| c.borrow_mut().take());
            let cause = if matches!(e, rem_host::Error::Embedding(_) | rem_host::Error::Llm(_)) { kept } else { None };
            error::to_py(py, e, cause)
        })
    }
}

impl Database {
    /// [`Database::run`] for calls answering JSON text: the text becomes Python objects.
    fn run_json<'py>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(&dyn rem_host::Api) -> HostResult<String> + Send,
    ) -> PyResult<Bound<'py, PyAny>> {
        let text = self.run(py, f)?;
        json::loads(py, &text)
    }
}

#[pymethods]
impl Database {
    /// Open (creating if needed) the database at `path` (`None`: in memory) as `tenant`.
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (path, *, tenant, default_model=None, embed_fn=None, model_dir=None, memory_limit=None, call_timeout_ms=None, server=None, token=None, password=None))]
    fn new(
        py: Python<'_>,
        path: Option<String>,
        tenant: String,
        default_model: Option<String>,
        embed_fn: Option<Py<PyAny>>,
        model_dir: Option<PathBuf>,
        memory_limit: Option<u64>,
        call_timeout_ms: Option<u64>,
        server: Option<String>,
        token: Option<String>,
        password: Option<String>,
    ) -> PyResult<Self> {
        let mut embeddings = Embeddings::new(default_model.clone(), model_dir);
        if let (Some(f), Some(name)) = (embed_fn, default_model) {
            embeddings = embeddings.with_custom(name, embed::custom(f));
        }
        let mut options = match &path {
            Some(p) => OpenOptions::at(PathBuf::from(p)),
            None => OpenOptions::in_memory(),
        }
        .tenant(tenant.clone())
        .embeddings(embeddings)
        .interrupt(signal_check());
        if let Some(bytes) = memory_limit {
            options = options.memory_limit(bytes);
        }
        if let Some(p) = password {
            options = options.password(rem_host::crypto::Password::new(p).map_err(|e| error::to_py(py, e, None))?);
        }
        if let Some(ms) = call_timeout_ms {
            options = options.call_timeout((ms > 0).then(|| Duration::from_millis(ms)));
        }
        let db = py
            .detach(|| {
                // The URL comes from Python (`$P8_SERVER` stands in for the default path only).
                let env = rem_host::remote::ServerChoice::from_env();
                let choice = rem_host::remote::ServerChoice { url: server, token: token.or(env.token) };
                std::panic::catch_unwind(AssertUnwindSafe(|| rem_host::remote::open(options, &choice))).unwrap_or_else(
                    |panic| {
                        Err(rem_host::Error::Internal(format!("{} (a bug in REM)", rem_host::panic_message(&*panic))))
                    },
                )
            })
            .map_err(|e| error::to_py(py, e, None))?;
        let server = db.server().map(str::to_string);
        Ok(Database { db: RwLock::new(Some(Arc::from(db))), tenant, path, server })
    }

    /// Close the handle (the file lock is released once running calls finish). Idempotent.
    fn close(&self) {
        if let Ok(mut db) = self.db.write() {
            db.take();
        }
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.db.read().map(|d| d.is_none()).unwrap_or(true)
    }

    /// The tenant this handle reads and writes.
    #[getter]
    fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The server's URL when calls go to `rem serve`, else `None` (the file is open here).
    #[getter]
    fn server(&self) -> Option<&str> {
        self.server.as_deref()
    }

    /// The database directory, or `None` in memory.
    #[getter]
    fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// Register or replace a table's schema (JSON text); returns the schema record (a dict).
    fn register_schema<'py>(&self, py: Python<'py>, name: String, schema: String) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| db.register_schema(&name, &schema))
    }

    /// Registered table names, sorted.
    fn list_schemas(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.run(py, |db| db.list_schemas())
    }

    /// The schema record of `name` (a dict).
    fn get_schema<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| db.get_schema(&name))
    }

    /// Upsert one entity (`data`: a dict, written as JSON in Rust); returns its id.
    fn insert(&self, py: Python<'_>, table: String, data: &Bound<'_, PyAny>) -> PyResult<String> {
        let data = json::dumps(data)?;
        self.run(py, move |db| entity_id(&db.insert(&table, &data)?))
    }

    /// Upsert every row (an iterable of dicts) or none; returns the ids in order. With
    /// `vectors` (the rows' own vectors: `len(rows) * dims` little-endian float32s, as
    /// NumPy's `tobytes()` gives them), row `i` gets vector `i` as its `embedding` member.
    /// Errors: `ValueError` (a buffer that is not `len(rows)` vectors of `dims`).
    #[pyo3(signature = (table, rows, vectors=None, dims=0))]
    fn insert_batch(
        &self,
        py: Python<'_>,
        table: String,
        rows: &Bound<'_, PyAny>,
        vectors: Option<&[u8]>,
        dims: usize,
    ) -> PyResult<Vec<String>> {
        let mut rows = json::dumps_each(rows)?;
        if let Some(bytes) = vectors {
            json::splice_vectors(&mut rows, bytes, dims)?;
        }
        self.run(py, move |db| db.insert_batch(&table, &rows))
    }

    /// Upsert the rows of a Parquet, CSV or JSONL file (`path`, format from its extension) or of
    /// Parquet bytes (`data`), all or none; the ids in order. See `rem_host::transfer::import`.
    #[pyo3(signature = (table, path=None, data=None))]
    fn import_rows(
        &self,
        py: Python<'_>,
        table: String,
        path: Option<String>,
        data: Option<Vec<u8>>,
    ) -> PyResult<Vec<String>> {
        self.run(py, move |db| {
            let (rows, _) = match (path, data) {
                (Some(p), _) => rem_host::transfer::read_file(db, &table, std::path::Path::new(&p))?,
                (None, Some(bytes)) => {
                    rem_host::transfer::read_bytes(db, &table, bytes, rem_host::transfer::Format::Parquet, "the table")?
                }
                (None, None) => return Err(rem_host::Error::InvalidArgument("give a path or Parquet bytes".into())),
            };
            rem_host::transfer::import(db, &table, rows)
        })
    }

    /// Export `table` to `path`; the report as JSON text. See `rem_host::transfer::export`.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (table, path, format=None, filter=None, with_vectors=false, include_deleted=false, force=false))]
    fn export<'py>(
        &self,
        py: Python<'py>,
        table: String,
        path: String,
        format: Option<String>,
        filter: Option<String>,
        with_vectors: bool,
        include_deleted: bool,
        force: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| {
            let options = rem_host::transfer::ExportOptions {
                format: format.as_deref().map(str::parse).transpose()?,
                filter,
                with_vectors,
                include_deleted,
                force,
            };
            let report = rem_host::transfer::export(db, &table, std::path::Path::new(&path), &options, &mut |_| {})?;
            serde_json::to_string(&report).map_err(|e| rem_host::Error::Internal(e.to_string()))
        })
    }

    /// The stored vectors of `ids` (entity ids), in order: each the bytes of its unit-length
    /// little-endian float32s (for `numpy.frombuffer`), or `None`.
    fn get_vectors<'py>(&self, py: Python<'py>, ids: Vec<String>) -> PyResult<Vec<Option<Bound<'py, PyBytes>>>> {
        let found = self.run(py, move |db| db.get_vectors(&ids))?;
        Ok(found
            .into_iter()
            .map(|v| {
                v.map(|v| {
                    let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                    PyBytes::new(py, &bytes)
                })
            })
            .collect())
    }

    /// The entity (a dict) or `None`.
    fn get<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| Ok(db.get(&id)?.unwrap_or_else(|| "null".into())))
    }

    /// The entities of `ids` as a list (`None` where missing).
    fn get_many<'py>(&self, py: Python<'py>, ids: Vec<String>) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| {
            Ok(json_array(db.get_many(&ids)?.into_iter().map(|e| e.unwrap_or_else(|| "null".into())).collect()))
        })
    }

    /// Merge `patch` (a dict) into an entity's properties; returns the entity (a dict).
    fn update<'py>(&self, py: Python<'py>, id: String, patch: &Bound<'_, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let patch = json::dumps(patch)?;
        self.run_json(py, move |db| db.update(&id, &patch))
    }

    /// Soft (or `hard`) delete; returns the entity as last stored (a dict).
    fn delete<'py>(&self, py: Python<'py>, id: String, hard: bool) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| db.delete(&id, hard))
    }

    /// Live entities whose natural key is `key`, across tables (a list of dicts).
    fn lookup<'py>(&self, py: Python<'py>, key: String) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| db.lookup(&key).map(json_array))
    }

    /// Live entities of `table` in id order (a list of dicts).
    #[pyo3(signature = (table, limit, offset))]
    fn list<'py>(
        &self,
        py: Python<'py>,
        table: String,
        limit: Option<u32>,
        offset: u32,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| db.list(&table, limit, offset).map(json_array))
    }

    /// Number of live entities of `table`.
    fn count(&self, py: Python<'_>, table: String) -> PyResult<u64> {
        self.run(py, move |db| db.count(&table))
    }

    /// Upsert the edge `src -[rel_type]-> dst`; returns it (a dict).
    #[pyo3(signature = (src, dst, rel_type, properties))]
    fn add_edge<'py>(
        &self,
        py: Python<'py>,
        src: String,
        dst: String,
        rel_type: String,
        properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let properties = properties.map(json::dumps).transpose()?;
        self.run_json(py, move |db| db.add_edge(&src, &dst, &rel_type, properties.as_deref()))
    }

    /// Upsert many edges (dicts `{src, dst, rel_type, properties?}`) in one transaction; returns the count.
    fn add_edges(&self, py: Python<'_>, edges: &Bound<'_, PyAny>) -> PyResult<u32> {
        let edges = json::dumps_each(edges)?;
        self.run(py, move |db| db.add_edges_with_progress(&edges, rem_host::DEFAULT_BATCH_CHUNK, &mut |_| {}))
    }

    /// Edges of `id` (a list of dicts). `direction`: `out`, `in` or `both`.
    fn get_edges<'py>(
        &self,
        py: Python<'py>,
        id: String,
        direction: String,
        rel_types: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| db.get_edges(&id, direction.parse::<Direction>()?, &rel_types))
    }

    /// Remove an edge; returns it (a dict).
    fn delete_edge<'py>(
        &self,
        py: Python<'py>,
        src: String,
        dst: String,
        rel_type: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| db.delete_edge(&src, &dst, &rel_type))
    }

    /// Walk the graph (a list of `{id, depth, path}` dicts). `strategy`: `bfs` or `dfs`.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (start, direction, depth, rel_types, strategy, limit))]
    fn traverse<'py>(
        &self,
        py: Python<'py>,
        start: String,
        direction: String,
        depth: u32,
        rel_types: Vec<String>,
        strategy: String,
        limit: Option<u32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| {
            let strategy = match strategy.to_ascii_lowercase().as_str() {
                "bfs" => Strategy::Bfs,
                "dfs" => Strategy::Dfs,
                other => {
                    return Err(rem_host::Error::InvalidArgument(format!(
                        "invalid strategy {other:?}: use \"bfs\" or \"dfs\""
                    )));
                }
            };
            db.traverse(&start, direction.parse::<Direction>()?, depth, &rel_types, strategy, limit)
        })
    }

    /// Shortest path (a `{source, target, hops, cost, nodes, path}` dict).
    #[allow(clippy::too_many_arguments)]
    fn shortest_path<'py>(
        &self,
        py: Python<'py>,
        source: String,
        target: String,
        direction: String,
        max_depth: u32,
        rel_types: Vec<String>,
        weighted: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| {
            db.shortest_path(&source, &target, direction.parse::<Direction>()?, max_depth, &rel_types, weighted)
        })
    }

    /// Run one REM SQL statement, with `params` (a list or dict) bound first if given; rows as a list of dicts.
    #[pyo3(signature = (sql, params=None))]
    fn query<'py>(
        &self,
        py: Python<'py>,
        sql: String,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params.map(json::dumps).transpose()?;
        self.run_json(py, move |db| match params {
            Some(p) => db.query_with_params(&sql, &p),
            None => db.query(&sql),
        })
    }

    /// Copy the whole database to the new database directory `dest` from one read snapshot;
    /// `{"path", "keys", "file_bytes"}`.
    #[pyo3(signature = (dest, force=false))]
    fn backup<'py>(&self, py: Python<'py>, dest: String, force: bool) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| {
            let report = db.backup(std::path::Path::new(&dest), force)?;
            serde_json::to_string(&report).map_err(|e| rem_host::Error::Internal(e.to_string()))
        })
    }

    /// Give back the space of deleted data; `{"file_bytes_before", "file_bytes_after"}`.
    fn compact<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| {
            let report = db.compact()?;
            serde_json::to_string(&report).map_err(|e| rem_host::Error::Internal(e.to_string()))
        })
    }

    /// Delete `ids` (ids or natural keys) in one transaction, soft or `hard`; the number deleted.
    #[pyo3(signature = (ids, hard=false))]
    fn delete_batch(&self, py: Python<'_>, ids: Vec<String>, hard: bool) -> PyResult<u32> {
        self.run(py, move |db| db.delete_batch(&ids, hard))
    }

    /// Run one statement that may write (DELETE, UPDATE) in one transaction, with `params` bound
    /// first if given: the rows of a read, `[{"changed": n}]` for a write.
    #[pyo3(signature = (sql, params=None))]
    fn execute<'py>(
        &self,
        py: Python<'py>,
        sql: String,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params.map(json::dumps).transpose()?;
        self.run_json(py, move |db| db.execute(&sql, params.as_deref()))
    }

    /// One page of a plain SELECT in id order after the id `after`: `{"rows": [...], "next": id | None}`.
    #[pyo3(signature = (sql, params=None, after=None, limit=1000))]
    fn query_page<'py>(
        &self,
        py: Python<'py>,
        sql: String,
        params: Option<&Bound<'_, PyAny>>,
        after: Option<String>,
        limit: u32,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params.map(json::dumps).transpose()?;
        self.run_json(py, move |db| db.query_page(&sql, params.as_deref(), after.as_deref(), limit))
    }

    /// Semantic search by `text` or `vector` (exactly one); entities with `_score` (a list of dicts).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (table, text, vector, top_k, min_score, filter, hybrid, ef_search, vector_field=None))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        table: String,
        text: Option<String>,
        vector: Option<Vec<f32>>,
        top_k: u32,
        min_score: f32,
        filter: Option<String>,
        hybrid: bool,
        ef_search: Option<u32>,
        vector_field: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| {
            let query = match (text, vector) {
                (Some(t), None) => SearchQuery::Text(t),
                (None, Some(v)) => SearchQuery::Vector(v),
                _ => return Err(rem_host::Error::InvalidArgument("search needs either a text or a vector".into())),
            };
            db.search(&table, &query, &SearchOptions { top_k, min_score, filter, hybrid, ef_search, vector_field })
        })
    }

    /// Register the core schemas (resources, documents, sessions, messages, moments); returns their names.
    fn register_core_schemas(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.run(py, |db| db.register_core_schemas())
    }

    /// Ingest files and folders; returns the summary (a dict).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (paths, table, chunk_size, overlap, unit, force))]
    fn ingest<'py>(
        &self,
        py: Python<'py>,
        paths: Vec<PathBuf>,
        table: String,
        chunk_size: usize,
        overlap: usize,
        unit: String,
        force: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| {
            let options = rem_host::ingest::IngestOptions {
                table,
                chunk_size,
                overlap,
                unit: unit.parse()?,
                force,
                ..Default::default()
            };
            let summary = rem_host::ingest::ingest(db, &paths, &options, &mut |_, _| {})?;
            Ok(summary.to_json(&options.table).to_string())
        })
    }

    /// Plan a read query for `question` with a chat model and run it; JSON
    /// `{results, query, query_type, confidence, explanation, requires_search, stages, model, tokens}`.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (question, table, max_stages, plan_only, llm_name, llm_fn))]
    fn ask<'py>(
        &self,
        py: Python<'py>,
        question: String,
        table: Option<String>,
        max_stages: u32,
        plan_only: bool,
        llm_name: Option<String>,
        llm_fn: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = rem_host::agent::AskOptions { table, max_stages, plan_only };
        let text = self.run(py, move |db| {
            let model = llm::choose(llm_fn, llm_name)?;
            let out = rem_host::agent::ask(db, model.as_ref(), &question, &options)?;
            serde_json::to_string(&out).map_err(|e| rem_host::Error::Internal(e.to_string()))
        })?;
        json::loads(py, &text)
    }

    /// Dream over a window (`start`/`end` dates or RFC 3339 times, else the last
    /// `lookback_hours`); the JSON report.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (lookback_hours, start, end, dry_run, max_context_chars, llm_name, llm_fn))]
    fn dream<'py>(
        &self,
        py: Python<'py>,
        lookback_hours: f64,
        start: Option<String>,
        end: Option<String>,
        dry_run: bool,
        max_context_chars: usize,
        llm_name: Option<String>,
        llm_fn: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let text = self.run(py, move |db| {
            let window = match (start, end) {
                (Some(s), Some(e)) => rem_host::agent::Window::between(&s, &e)?,
                (None, None) => rem_host::agent::Window::lookback(lookback_hours)?,
                _ => return Err(rem_host::Error::InvalidArgument("give both start and end, or neither".into())),
            };
            let options = rem_host::agent::DreamOptions { window, dry_run, max_context_chars };
            let model = llm::choose(llm_fn, llm_name)?;
            let report = rem_host::agent::dream(db, model.as_ref(), &options)?;
            serde_json::to_string(&report).map_err(|e| rem_host::Error::Internal(e.to_string()))
        })?;
        json::loads(py, &text)
    }

    /// What is in the database (a dict; see `rem_host::stats::stats`).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, |db| rem_host::stats::stats(db).map(|v| v.to_string()))
    }

    /// Change an encrypted database's password (see `rem_host::Database::rekey`).
    fn rekey(&self, py: Python<'_>, new_password: String) -> PyResult<()> {
        let password = rem_host::crypto::Password::new(new_password).map_err(|e| error::to_py(py, e, None))?;
        self.run(py, move |db| db.rekey(&password))
    }

    /// Verify every derived record against the rows (a dict; see `rem_host::stats::check`).
    #[pyo3(signature = (max_problems = 100))]
    fn check<'py>(&self, py: Python<'py>, max_problems: u32) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| rem_host::stats::check(db, max_problems).map(|v| v.to_string()))
    }

    /// That the handle works (a dict; see `rem_host::stats::health`).
    fn health<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, |db| rem_host::stats::health(db).map(|v| v.to_string()))
    }

    /// The vector index figures of `table` (a dict).
    fn index_stats<'py>(&self, py: Python<'py>, table: String) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| db.index_stats(&table))
    }

    /// Rebuild `table`'s vector index (re-embedding with `reembed`); returns the stats (a dict).
    fn rebuild_index<'py>(&self, py: Python<'py>, table: String, reembed: bool) -> PyResult<Bound<'py, PyAny>> {
        self.run_json(py, move |db| db.rebuild_index(&table, reembed))
    }
}
