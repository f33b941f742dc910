//! `stats` and `check`: what the tenant holds and whether its derived records agree with
//! its rows (`crate::audit`), read in one transaction.

use serde_json::{Value, json};

use super::Database;
use crate::audit;
use crate::error::Result;
use crate::model::schema::SchemaRecord;
use crate::storage::store::Storage;

impl<S: Storage> Database<S> {
    /// The schema records of every table, sorted by name.
    fn schema_records(&self) -> Result<Vec<SchemaRecord>> {
        let tx = self.begin(false)?;
        let mut out = Vec::new();
        for name in self.list_schemas()? {
            out.push(self.schema(&tx, &name)?.record.clone());
        }
        Ok(out)
    }

    /// What the tenant holds, per table and key space (`audit::stats::stats`), and this
    /// handle's caches: `caches.vector_graphs` (tables with a cached graph and their resident
    /// nodes), `caches.adjacency` (lists and bytes), `caches.statements` (parsed SQL texts),
    /// `caches.schemas` (compiled schemas). Errors: `Storage`.
    pub fn stats(&self) -> Result<Value> {
        let tables = self.schema_records()?;
        let mut out = audit::stats::stats(&self.store, &self.tenant, &tables)?;
        let graphs = self.vectors.borrow();
        let resident: usize = graphs.values().map(|c| c.graph.resident()).sum();
        let (lists, bytes) = self.adjacency.borrow().size();
        out["caches"] = json!({
            "vector_graphs": {"tables": graphs.len(), "resident_nodes": resident},
            "adjacency": {"lists": lists, "bytes": bytes},
            "statements": self.parsed.held(),
            "schemas": self.schemas.borrow().len(),
        });
        Ok(out)
    }

    /// Verify every derived record of the tenant against its rows (`audit::check`), listing at
    /// most `max_problems` disagreements (1 to `audit::check::MAX_LISTED`; all are counted).
    /// Returns the report as JSON (`audit::check::Report::to_json`). Errors: `Storage`.
    pub fn check(&self, max_problems: usize) -> Result<Value> {
        let tables = self.schema_records()?;
        let mut report = audit::check::Report::new(max_problems);
        audit::check::check(&self.store, &self.tenant, &tables, &mut report)?;
        Ok(report.to_json())
    }
}
