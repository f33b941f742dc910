//! The ingest writer: one document and its chunks written in one transaction (the engine
//! calls `lookup`, `insert`, `insert-batch`, `delete` and `add-edges` in turn).

use super::instance::{Mode, batches};
use super::{DEFAULT_BATCH_CHUNK, Database};
use crate::error::{Error, Result};

impl Database {
    /// Write one ingested document in one transaction: skip it when `table` holds chunks of its
    /// `uri` and each carries the document's `file_hash` in `metadata.file_hash` (unless
    /// `force`); else upsert the document
    /// row, upsert `chunks` (each given `document_id`) into `table`, hard-delete the chunks
    /// of that uri beyond the new count, and add a `part_of` edge from each chunk to the
    /// document. Errors: `SchemaNotFound`, `Validation` (rows not fitting the tables), `Embedding`.
    pub fn write_document(
        &self,
        documents: &str,
        table: &str,
        document: &serde_json::Value,
        mut chunks: Vec<serde_json::Value>,
        force: bool,
    ) -> Result<crate::ingest::FileOutcome> {
        use crate::ingest::FileOutcome;
        let parse = |s: &str| -> Result<serde_json::Value> {
            serde_json::from_str(s).map_err(|e| Error::Internal(format!("the engine returned bad JSON: {e}")))
        };
        let uri = document["uri"].as_str().unwrap_or_default().to_string();
        let hash = document["file_hash"].clone();
        self.transaction(Mode::Write, |live| {
            let found = Self::invoke(live, |db, s, h| db.call_lookup(s, h, &uri))?;
            // Unchanged only if this table holds chunks of the uri and every one was cut from a
            // file with this hash (the documents row is shared by every table the file went into).
            let chunks_here = crate::ingest::chunks_in(&found, table)?;
            if crate::ingest::chunks_hash(&chunks_here).is_some_and(|h| hash == h) && !force {
                return Ok(FileOutcome::Unchanged);
            }
            let old: Vec<(String, u64)> = chunks_here
                .iter()
                .map(|v| {
                    (
                        v["id"].as_str().unwrap_or_default().to_string(),
                        v["properties"]["chunk_ordinal"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            let doc = Self::invoke(live, |db, s, h| db.call_insert(s, h, documents, &document.to_string()))?;
            let document_id = parse(&doc)?["id"].as_str().unwrap_or_default().to_string();
            for c in &mut chunks {
                c["document_id"] = document_id.clone().into();
                if !c["metadata"].is_object() {
                    c["metadata"] = serde_json::json!({});
                }
                c["metadata"]["file_hash"] = hash.clone();
            }
            let rows: Vec<String> = chunks.iter().map(|c| c.to_string()).collect();
            let mut ids = Vec::with_capacity(rows.len());
            for part in batches(&rows, DEFAULT_BATCH_CHUNK) {
                ids.extend(Self::invoke(live, |db, s, h| db.call_insert_batch(s, h, table, part))?);
            }
            let mut removed = 0;
            for (id, ordinal) in old {
                if ordinal >= ids.len() as u64 {
                    Self::invoke(live, |db, s, h| db.call_delete(s, h, &id, true))?;
                    removed += 1;
                }
            }
            let edges: Vec<String> = ids
                .iter()
                .map(|id| serde_json::json!({"src": id, "dst": document_id, "rel_type": "part_of"}).to_string())
                .collect();
            Self::invoke(live, |db, s, h| db.call_add_edges(s, h, &edges))?;
            Ok(FileOutcome::Ingested { document_id, chunks: ids.len(), removed })
        })
    }
}
