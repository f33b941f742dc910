//! The WIT `schemas` group: registering, replacing and reading table schemas. Replacing a
//! schema rewrites what its rows own under the new settings (indexes, row copies, vectors).

use super::{Database, parse_json};
use crate::error::{Error, Result};
use crate::json::record::decode_entity;
use crate::model::schema::SchemaRecord;
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::Tx;
use crate::write::{Side, write_row};

impl<S: Storage> Database<S> {
    /// Register or replace the schema of `name`; returns the stored record (JSON).
    /// Errors: `InvalidArgument`, `InvalidSchema`, `SchemaConflict`, `Storage`.
    pub fn register_schema(&self, name: &str, document: &str) -> Result<String> {
        let doc = parse_json("schema", document).map_err(|e| {
            Error::InvalidSchema(e.to_string().trim_start_matches("schema ").trim_start_matches("schema: ").to_string())
        })?;
        let mut record = SchemaRecord::from_document(name, doc)?;
        self.vector_index().resolve_embedding(&mut record)?;
        let mut tx = self.begin(true)?;
        let key = keys::schema(&self.tenant, name);
        let mut reembed = record.has_vectors();
        let mut regraph = false;
        if let Some(old) = tx.get(&key)? {
            let old: SchemaRecord = serde_json::from_slice(&old)
                .map_err(|e| Error::Storage(format!("corrupt schema record '{name}': {e}")))?;
            old.check_replacement(&record)?;
            // Every record a row owns follows the schema: index entries, row copies, and the
            // natural-key entries of a changed key field.
            if old.indexed_fields != record.indexed_fields
                || old.covering_fields != record.covering_fields
                || old.key_field != record.key_field
            {
                self.rewrite_indexes(&mut tx, &old, &record)?;
            }
            let same_model = old.embedding_fields == record.embedding_fields
                && old.embedding_provider == record.embedding_provider
                && old.embedding_dims == record.embedding_dims
                && old.embedding_provider_alt == record.embedding_provider_alt
                && old.embedding_dims_alt == record.embedding_dims_alt;
            let same_graph =
                old.hnsw.map(|p| (p.m, p.ef_construction)) == record.hnsw.map(|p| (p.m, p.ef_construction));
            reembed = !same_model;
            regraph = same_model && !same_graph;
        }
        let bytes = serde_json::to_vec(&record).map_err(|e| Error::Internal(e.to_string()))?;
        tx.put(key, bytes.clone())?;
        if reembed {
            // A new model or new fields: embed and index every row again.
            self.vector_index().reembed_table(&mut tx, &record)?;
        } else if regraph {
            // New graph parameters only: the stored vectors (rows' own ones too) are indexed again.
            self.vector_index().rebuild_with_params(&mut tx, &record)?;
        } else if let Some(p) = record.hnsw {
            self.vector_index().set_ef_search(&mut tx, name, p.ef_search)?;
            if record.alt_index().is_some() {
                self.vector_index().set_ef_search(&mut tx, &crate::model::schema::alt_index_name(name), p.ef_search)?;
            }
        }
        tx.commit()?;
        Ok(String::from_utf8(bytes).unwrap_or_default())
    }

    /// Bring every row of a table from the index entries and row copies `old` gives it to
    /// those `new` gives it (an index build, drop, or change of covering fields), through the
    /// one row-write path.
    fn rewrite_indexes(&self, tx: &mut Tx<'_, S>, old: &SchemaRecord, new: &SchemaRecord) -> Result<()> {
        let mut scan = tx.scan_prefix(&keys::entity_prefix(&self.tenant, &new.name))?;
        loop {
            let page = scan.next_page()?;
            if page.is_empty() {
                return Ok(());
            }
            for (_, bytes) in page {
                let e = decode_entity(&bytes)?;
                write_row(
                    tx,
                    &self.tenant,
                    Some(Side { rec: old, entity: &e }),
                    Some(Side { rec: new, entity: &e }),
                    None,
                )?;
            }
        }
    }

    /// Registered table names, sorted.
    pub fn list_schemas(&self) -> Result<Vec<String>> {
        let mut tx = self.begin(false)?;
        let prefix = keys::schema_prefix(&self.tenant);
        let mut scan = tx.scan_prefix(&prefix)?;
        let mut names = Vec::new();
        loop {
            let page = scan.next_page()?;
            if page.is_empty() {
                break;
            }
            for (k, _) in page {
                if let Some((name, _)) = keys::pop_str(&k[prefix.len()..]) {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }

    /// The schema record of `name` as JSON. Errors: `SchemaNotFound`.
    pub fn get_schema(&self, name: &str) -> Result<String> {
        let tx = self.begin(false)?;
        let raw = tx.get(&keys::schema(&self.tenant, name))?.ok_or_else(|| self.no_schema(name))?;
        Ok(String::from_utf8_lossy(&raw).into_owned())
    }
}
