//! The WIT `search` group: semantic and hybrid search on a table, with the vector work of
//! every write (embedding on write, the per-table HNSW index kept in storage), filtered and
//! exact search, index stats and rebuild.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};
use sqlparser::tokenizer::Token;

use super::Database;
use crate::error::{Error, Result};
use crate::keyword;
use crate::model::ids::parse_id;
use crate::model::schema::{ALT_VECTOR_FIELD, CompiledSchema, VECTOR_MEMBER};
use crate::search::{EXACT_FILTER_MAX, HYBRID_DEPTH, SearchOptions, SearchQuery, fuse};
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::vector::distance::normalize;
use crate::vector::hnsw::Hit;
use crate::vector::layout::{self, IdRecord, TxLoader};
use crate::vector::maintain::Maintainer;

/// A result before its row is read: entity id, score, extra fields (hybrid), best first.
type Ranked = ([u8; 16], f64, Vec<(&'static str, Value)>);

impl<S: Storage> Database<S> {
    /// The tenant's vector indexes, with this handle's embedder and cached graphs.
    pub(crate) fn vector_index(&self) -> Maintainer<'_> {
        Maintainer { tenant: &self.tenant, embedder: &*self.embedder, cache: &self.vectors }
    }

    /// The statement that finds the rows of `table` matching the SQL predicate `filter`.
    /// Errors: `InvalidQuery` (not one predicate).
    fn filter_sql(table: &str, filter: &str) -> Result<String> {
        let mut parser = crate::sql::parsed::parser(filter)?;
        parser.parse_expr().map_err(|e| Error::query(format!("in where: {e}")))?;
        if parser.peek_token().token != Token::EOF {
            return Err(Error::query(format!(
                "where must be one predicate (as after WHERE), but {} follows it",
                parser.peek_token().token
            )));
        }
        // Quoted, so a table named like a keyword (`order`) reads as a name.
        Ok(format!("SELECT id FROM \"{table}\" WHERE {filter}"))
    }

    /// Check a search of `table` with `opts` without running it: `top_k`, the table, its
    /// embedding fields and the filter (compiled, not run). Errors: as [`Database::search`]
    /// before it embeds anything.
    pub(crate) fn check_search(&self, table: &str, opts: &SearchOptions) -> Result<std::rc::Rc<CompiledSchema>> {
        if opts.top_k == 0 || opts.top_k > 10_000 {
            return Err(Error::InvalidArgument(format!("top_k must be 1 to 10000, got {}", opts.top_k)));
        }
        let schema = self.require_table(table)?;
        if !schema.record.has_vectors() {
            return Err(Error::InvalidArgument(format!(
                "table '{table}' has no embedding_fields, so it cannot be searched semantically; add \
                 \"embedding_fields\" to its schema and register it again"
            )));
        }
        if let Some(f) = opts.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            self.prepare(&Self::filter_sql(table, f)?)?;
        }
        Ok(schema)
    }

    /// Ids of the live rows of `table` matching the SQL predicate `filter`.
    fn filter_ids(&self, table: &str, filter: &str) -> Result<HashSet<[u8; 16]>> {
        let rows = self.query_rows(&Self::filter_sql(table, filter)?)?;
        rows.iter()
            .map(|r| {
                let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
                Ok(*parse_id(id)?.as_bytes())
            })
            .collect()
    }

    /// Semantic search of `table`: the top-k live rows by cosine similarity to `query`,
    /// each the entity JSON plus `_score` (1 - cosine distance), best first.
    ///
    /// With `filter`, exactly `min(k, matching rows)` rows come back (above `min_score`):
    /// at most `EXACT_FILTER_MAX` matches are ranked exactly, more go through the graph
    /// with the filter applied, falling back to exact ranking if it finds too few.
    /// Errors: `SchemaNotFound`, `InvalidArgument` (no embedding fields, wrong vector
    /// dimension, bad k, hybrid with a vector), `InvalidQuery` (filter), `Embedding`, `Storage`.
    ///
    /// With `hybrid`, the top 50 (or k) by vector and by BM25 over the same fields are fused
    /// by reciprocal rank fusion (see `text`); `_score` is the fused score and `min_score` applies to it.
    pub fn search(&self, table: &str, query: SearchQuery, opts: &SearchOptions) -> Result<Vec<Value>> {
        let schema = self.check_search(table, opts)?;
        // The index searched: the table's own, or its second model's.
        let second;
        let rec = match opts.vector_field.as_deref() {
            None | Some(VECTOR_MEMBER) => &schema.record,
            Some(ALT_VECTOR_FIELD) => {
                second = schema.record.alt_index().ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "table '{table}' keeps no {ALT_VECTOR_FIELD} vectors: register it with \
                         embedding_provider_alt (or with P8_ALT_EMBEDDING set)"
                    ))
                })?;
                &second
            }
            Some(other) => {
                return Err(Error::InvalidArgument(format!(
                    "vector_field must be {VECTOR_MEMBER} or {ALT_VECTOR_FIELD}, got {other:?}"
                )));
            }
        };
        let index = rec.name.as_str();
        let mut tx = self.begin(false)?;
        let dims = rec.embedding_dims.unwrap_or(0);
        let keyword_query = match (&query, opts.hybrid) {
            (SearchQuery::Text(t), true) => Some(t.clone()),
            (SearchQuery::Vector(_), true) => {
                return Err(Error::InvalidArgument(
                    "hybrid search ranks keywords too, so it needs the query as text, not a vector".into(),
                ));
            }
            _ => None,
        };
        let mut q: Box<[f32]> = match query {
            SearchQuery::Text(_) if rec.has_no_model() => {
                return Err(Error::InvalidArgument(format!(
                    "table '{table}' has no embedding model (its rows bring their own vectors), so search it \
                     with a query vector of {dims} dimensions, not text"
                )));
            }
            SearchQuery::Text(text) => match self.vector_index().embed_texts(rec, &[text])?.pop().flatten() {
                Some(v) => v,
                None => return Ok(Vec::new()),
            },
            SearchQuery::Vector(v) => {
                if v.len() != dims {
                    return Err(Error::InvalidArgument(format!(
                        "query vector has {} dimensions, but table '{table}' holds {dims}-dimensional vectors ({})",
                        v.len(),
                        rec.embedding_provider.as_deref().unwrap_or("?")
                    )));
                }
                v.into_boxed_slice()
            }
        };
        if !normalize(&mut q) {
            return Err(Error::InvalidArgument("query vector has zero length (or is not finite)".into()));
        }
        let allowed = match &opts.filter {
            Some(f) if !f.trim().is_empty() => Some(self.filter_ids(table, f)?),
            _ => None,
        };
        let Some(meta) = self.vector_index().read_meta(&tx, index)? else { return Ok(Vec::new()) };
        let tenant = self.tenant().to_string();
        // Hybrid fuses two deeper rankings; RRF needs more than k from each.
        let top_k = opts.top_k as usize;
        let k = if opts.hybrid { top_k.max(HYBRID_DEPTH) } else { top_k };
        let ef = opts.ef_search.map_or(meta.ef_search, |e| e as usize).max(k);
        let hits: Vec<(Hit, [u8; 16])> = {
            let mut loader = TxLoader { tx: &tx, tenant: &tenant, table: index };
            // Node ordinals of the matching rows.
            let allowed_ords: Option<Vec<u32>> = match &allowed {
                None => None,
                Some(ids) => {
                    let ids: Vec<[u8; 16]> = ids.iter().copied().collect();
                    let keys: Vec<Vec<u8>> = ids.iter().map(|id| layout::id_key(&tenant, index, id)).collect();
                    let mut ords = Vec::new();
                    for b in tx.get_many(&keys)?.into_iter().flatten() {
                        let r = IdRecord::decode(&b)?;
                        if r.live {
                            ords.push(r.ord);
                        }
                    }
                    ords.sort_unstable();
                    Some(ords)
                }
            };
            self.vector_index().with_graph(&meta, index, |g| {
                let hits = match &allowed_ords {
                    Some(ords) if ords.len() <= EXACT_FILTER_MAX => g.exact(&q, ords, k, &mut loader)?,
                    Some(ords) => {
                        let set: HashSet<u32> = ords.iter().copied().collect();
                        let want = k.min(ords.len());
                        let hits = g.search(&q, k, ef, &|o, _| set.contains(&o), &mut loader)?;
                        if hits.len() >= want { hits } else { g.exact(&q, ords, k, &mut loader)? }
                    }
                    None => {
                        let want = (k as u64).min(g.live) as usize;
                        let hits = g.search(&q, k, ef, &|_, _| true, &mut loader)?;
                        if hits.len() >= want {
                            hits
                        } else {
                            let all: Vec<u32> = (0..g.len()).collect();
                            g.exact(&q, &all, k, &mut loader)?
                        }
                    }
                };
                Ok(hits.into_iter().map(|h| (h, g.get(h.ord).map(|n| n.id).unwrap_or_default())).collect())
            })?
        };
        let ranked: Vec<Ranked> = match keyword_query {
            None => hits
                .into_iter()
                .filter(|(h, _)| 1.0 - h.dist >= opts.min_score)
                .map(|(h, id)| (id, 1.0 - h.dist as f64, Vec::new()))
                .collect(),
            Some(text) => {
                let keyword = keyword::rank(&mut tx, &tenant, table, &text, allowed.as_ref(), k)?;
                let vector_scores: HashMap<[u8; 16], f64> =
                    hits.iter().map(|(h, id)| (*id, 1.0 - h.dist as f64)).collect();
                let bm25: HashMap<[u8; 16], f64> = keyword.iter().copied().collect();
                let fused =
                    fuse(&[hits.iter().map(|(_, id)| *id).collect(), keyword.iter().map(|(id, _)| *id).collect()]);
                fused
                    .into_iter()
                    .filter(|(_, s)| *s >= opts.min_score as f64)
                    .take(top_k)
                    .map(|(id, s)| {
                        let extra = vec![
                            ("_vector_score", vector_scores.get(&id).map_or(Value::Null, |v| json!(v))),
                            ("_bm25_score", bm25.get(&id).map_or(Value::Null, |v| json!(v))),
                        ];
                        (id, s, extra)
                    })
                    .collect()
            }
        };
        let keys: Vec<Vec<u8>> = ranked.iter().map(|(id, _, _)| keys::entity(&tenant, table, id)).collect();
        let rows = tx.get_many(&keys)?;
        let mut out = Vec::with_capacity(ranked.len());
        for ((_, score, extra), row) in ranked.into_iter().zip(rows) {
            let Some(bytes) = row else { continue };
            // The stored record is the entity's JSON: parsed once, straight into the result.
            let mut v: Value = serde_json::from_slice(&bytes).map_err(Error::corrupt_record)?;
            let Value::Object(o) = &mut v else {
                return Err(Error::corrupt_record("not a JSON object"));
            };
            if o.get("deleted_at").is_some_and(|d| !d.is_null()) {
                continue;
            }
            o.insert("_score".into(), json!(score));
            for (name, x) in extra {
                o.insert(name.into(), x);
            }
            out.push(v);
        }
        Ok(out)
    }

    /// The stored vectors of `ids` (entity ids), in order, as the index keeps them: unit length
    /// (REM normalises every vector for cosine), `None` for an absent or soft-deleted entity or
    /// one without a vector. Errors: `InvalidArgument` (not a UUID), `Storage`.
    pub fn vectors(&self, ids: &[String]) -> Result<Vec<Option<Vec<f32>>>> {
        let uuids = ids.iter().map(|i| parse_id(i).map(|u| *u.as_bytes())).collect::<Result<Vec<_>>>()?;
        let tx = self.begin(false)?;
        let idx_keys: Vec<Vec<u8>> = uuids.iter().map(|u| keys::id_index(&self.tenant, u)).collect();
        let mut by_table: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, t) in tx.get_many(&idx_keys)?.into_iter().enumerate() {
            if let Some(t) = t {
                by_table.entry(String::from_utf8_lossy(&t).into_owned()).or_default().push(i);
            }
        }
        let mut out: Vec<Option<Vec<f32>>> = vec![None; ids.len()];
        for (table, at) in by_table {
            let wanted: Vec<[u8; 16]> = at.iter().map(|i| uuids[*i]).collect();
            for (i, v) in at.into_iter().zip(layout::read_vectors(&tx, &self.tenant, &table, &wanted)?) {
                out[i] = v.map(Vec::from);
            }
        }
        Ok(out)
    }

    /// Figures about `table`'s vector index as JSON: model, dims, parameters, nodes
    /// (`live`, `tombstones`, `count`), `max_level`, and `resident` (nodes read into memory).
    /// Errors: `SchemaNotFound`, `InvalidArgument` (no embedding fields), `Storage`.
    pub fn index_stats(&self, table: &str) -> Result<Value> {
        let schema = self.require_table(table)?;
        let rec = &schema.record;
        if !rec.has_vectors() {
            return Err(Error::InvalidArgument(format!("table '{table}' has no embedding_fields, so no vector index")));
        }
        let tx = self.begin(false)?;
        let mut out = self.graph_stats(&tx, table, rec)?;
        if let Some(second) = rec.alt_index() {
            out["alt"] = self.graph_stats(&tx, &second.name, &second)?;
        }
        Ok(out)
    }

    /// [`Database::index_stats`] of one vector index (`index`: the table, or its second model's).
    fn graph_stats(
        &self,
        tx: &crate::storage::tx::Tx<'_, S>,
        index: &str,
        rec: &crate::model::schema::SchemaRecord,
    ) -> Result<Value> {
        let table = index;
        let meta = self.vector_index().read_meta(tx, index)?.unwrap_or_else(|| self.vector_index().new_meta(rec));
        let resident = self
            .vectors
            .borrow()
            .get(index)
            .filter(|c| c.generation == meta.generation)
            .map_or(0, |c| c.graph.resident());
        Ok(json!({
            "table": table,
            "embedding_fields": rec.embedding_fields,
            "model": meta.model,
            "dims": meta.dims,
            "metric": "cosine",
            "m": meta.m,
            "ef_construction": meta.ef_construction,
            "ef_search": meta.ef_search,
            "count": meta.count,
            "live": meta.live,
            "tombstones": meta.tombstones,
            "max_level": meta.max_level,
            "resident": resident,
        }))
    }

    /// Rebuild `table`'s vector index from its stored vectors (dropping tombstones), or with
    /// `reembed`, embed every live row again. Returns [`Database::index_stats`].
    /// Errors: as `index_stats`, plus `Embedding`.
    pub fn rebuild_index(&self, table: &str, reembed: bool) -> Result<Value> {
        let schema = self.require_table(table)?;
        let rec = schema.record.clone();
        if !rec.has_vectors() {
            return Err(Error::InvalidArgument(format!("table '{table}' has no embedding_fields, so no vector index")));
        }
        let mut tx = self.begin(true)?;
        match self.vector_index().read_meta(&tx, table)? {
            Some(meta) if !reembed => {
                self.vector_index().rebuild_graph(&mut tx, &rec, meta)?;
                if let Some(second) = rec.alt_index()
                    && let Some(meta) = self.vector_index().read_meta(&tx, &second.name)?
                {
                    self.vector_index().rebuild_graph(&mut tx, &second, meta)?;
                }
            }
            _ => self.vector_index().reembed_table(&mut tx, &rec)?,
        }
        tx.commit()?;
        self.index_stats(table)
    }
}
