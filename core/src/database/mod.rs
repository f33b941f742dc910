//! The facade the WIT `database` export maps onto: one tenant's view of a [`Storage`],
//! one file per WIT group (`schemas`, `entities`, `graph`, `search`, `query`, `audit`). This is the
//! only module that names [`Database`]; the layers below it take a store and a tenant.
//!
//! Every public method is one atomic unit from the host's point of view: it
//! reads and writes through one [`Tx`] and the host commits or aborts the
//! surrounding storage transaction according to the result.

mod audit;
mod dml;
mod entities;
mod graph;
mod query;
mod relational;
mod schemas;
mod search;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::json::parse::ReadError;
use crate::model::schema::{CompiledSchema, SchemaRecord, check_table_name};
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::Tx;
use crate::vector::embed::{Embedder, NoEmbedder};
use crate::vector::maintain::GraphCache;

pub use crate::model::tenant::MAX_TENANT_LEN;

/// Parse a JSON text argument, naming `what` and the position on failure.
pub(crate) fn parse_json(what: &str, text: &str) -> Result<Value> {
    crate::json::parse::parse(text).map_err(|e| json_error(what, &e))
}

/// The `InvalidArgument` error for `what`, whose text was refused with `e`.
pub(crate) fn json_error(what: &str, e: &ReadError) -> Error {
    match e {
        ReadError::Syntax(e) => {
            Error::InvalidArgument(format!("{what} is not valid JSON: {e} (line {}, column {})", e.line(), e.column()))
        }
        big @ ReadError::BigInteger { .. } => Error::InvalidArgument(format!("{what}: {big}")),
    }
}

struct CachedSchema {
    raw: Vec<u8>,
    compiled: Rc<CompiledSchema>,
}

/// One tenant's view of a database.
pub struct Database<S: Storage> {
    store: S,
    tenant: String,
    schemas: RefCell<HashMap<String, CachedSchema>>,
    format_checked: RefCell<bool>,
    pub(crate) embedder: Box<dyn Embedder>,
    pub(crate) vectors: GraphCache,
    pub(crate) adjacency: RefCell<crate::graph::walk::AdjacencyCache>,
    pub(crate) parsed: crate::sql::parsed::ParseCache,
}

impl<S: Storage> Database<S> {
    /// Rows validated, prefetched and written together inside `insert_batch`.
    pub const BATCH_BLOCK: usize = 64;
    /// Most validation issues one failed `insert_batch` reports (later rows are not checked).
    pub const MAX_BATCH_ISSUES: usize = 100;

    /// Open `tenant` over `store`. Errors: `InvalidArgument` for an empty or over-long tenant.
    pub fn new(store: S, tenant: &str) -> Result<Self> {
        crate::model::tenant::check_tenant(tenant)?;
        Ok(Database {
            store,
            tenant: tenant.to_string(),
            schemas: RefCell::new(HashMap::new()),
            format_checked: RefCell::new(false),
            embedder: Box::new(NoEmbedder),
            vectors: RefCell::new(HashMap::new()),
            adjacency: RefCell::default(),
            parsed: Default::default(),
        })
    }

    /// Use `embedder` for the tables' `embedding_fields` (the default has no provider).
    pub fn with_embedder(mut self, embedder: Box<dyn Embedder>) -> Self {
        self.embedder = embedder;
        self
    }

    /// Forget cached vector graphs and adjacency lists (after the host rolled back a call).
    /// They are re-read on use.
    pub fn discard_caches(&self) {
        self.vectors.borrow_mut().clear();
        self.adjacency.borrow_mut().clear();
    }

    /// The tenant name.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Check the layout version; on a write call into an empty database or an older readable
    /// layout ([`keys::FORMAT_READABLE`]), record the current one.
    fn check_format(&self, tx: &mut Tx<'_, S>, writing: bool) -> Result<()> {
        if *self.format_checked.borrow() {
            return Ok(());
        }
        match tx.get(keys::FORMAT_KEY)? {
            Some(v) => {
                let text = String::from_utf8_lossy(&v);
                let found: u32 = text.trim().parse().map_err(|_| {
                    Error::Storage(format!("unreadable format-version record {text:?}: this is not a REM database"))
                })?;
                if found != keys::FORMAT_VERSION && !keys::FORMAT_READABLE.contains(&found) {
                    return Err(Error::Storage(format!(
                        "database layout version {found} is not supported by this REM (layout {}); \
                         open it with the REM version that wrote it",
                        keys::FORMAT_VERSION
                    )));
                }
                if found != keys::FORMAT_VERSION {
                    // Readable as is; a write marks it (checked again until that write commits).
                    if writing {
                        tx.put(keys::FORMAT_KEY.to_vec(), keys::FORMAT_VERSION.to_string().into_bytes())?;
                    }
                    return Ok(());
                }
                *self.format_checked.borrow_mut() = true;
            }
            None if writing => tx.put(keys::FORMAT_KEY.to_vec(), keys::FORMAT_VERSION.to_string().into_bytes())?,
            None => {}
        }
        Ok(())
    }

    pub(crate) fn begin(&self, writing: bool) -> Result<Tx<'_, S>> {
        let mut tx = Tx::new(&self.store);
        self.check_format(&mut tx, writing)?;
        Ok(tx)
    }

    /// The compiled schema of `table` (cached while its stored record is unchanged).
    fn schema(&self, tx: &Tx<'_, S>, table: &str) -> Result<Rc<CompiledSchema>> {
        let raw = tx.get(&keys::schema(&self.tenant, table))?.ok_or_else(|| self.no_schema(table))?;
        if let Some(c) = self.schemas.borrow().get(table)
            && c.raw == raw
        {
            return Ok(c.compiled.clone());
        }
        let record: SchemaRecord = serde_json::from_slice(&raw)
            .map_err(|e| Error::Storage(format!("corrupt schema record '{table}': {e}")))?;
        let compiled = Rc::new(CompiledSchema::compile(record)?);
        self.schemas.borrow_mut().insert(table.to_string(), CachedSchema { raw, compiled: compiled.clone() });
        Ok(compiled)
    }

    fn no_schema(&self, table: &str) -> Error {
        Error::SchemaNotFound(format!(
            "Table '{table}' does not exist in tenant '{}': register its schema first",
            self.tenant
        ))
    }

    /// Check `table` exists (used by the query engine).
    pub fn require_table(&self, table: &str) -> Result<Rc<CompiledSchema>> {
        check_table_name(table).map_err(|_| self.no_schema(table))?;
        let tx = self.begin(false)?;
        self.schema(&tx, table)
    }
}
