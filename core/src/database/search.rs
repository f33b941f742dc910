//! The WIT `search` group: semantic and hybrid search on a table, with the vector work of
//! every write (embedding on write, the per-table HNSW index kept in storage), filtered and
//! exact search, index stats and rebuild.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};
use sqlparser::tokenizer::Token;

use super::Database;
use crate::error::{Error, Result};
use crate::json::record::decode_entity;
use crate::keyword;
use crate::model::ids::parse_id;
use crate::model::schema::SchemaRecord;
use crate::search::{EXACT_FILTER_MAX, HYBRID_DEPTH, SearchOptions, SearchQuery, fuse};
use crate::storage::keys;
use crate::storage::store::{Storage, Tx};
use crate::vector::VecOp;
use crate::vector::distance::normalize;
use crate::vector::embed::{embedding_text, text_hash};
use crate::vector::hnsw::{Graph, Hit, level_for};
use crate::vector::layout::{self, IdRecord, Meta, TxLoader};

/// Texts embedded per `embed` call while re-embedding a whole table.
const REEMBED_CHUNK: usize = 512;

/// A vector ready for the index: entity id, normalised vector, BLAKE3-128 of its text.
type IndexItem = ([u8; 16], Box<[f32]>, [u8; 16]);

/// A result before its row is read: entity id, score, extra fields (hybrid), best first.
type Ranked = ([u8; 16], f64, Vec<(&'static str, Value)>);

/// A table's graph as cached between calls, with the generation it was read at.
pub(crate) struct CachedGraph {
    generation: u64,
    graph: Graph,
}

impl<S: Storage> Database<S> {
    fn read_meta(&self, tx: &Tx<'_, S>, table: &str) -> Result<Option<Meta>> {
        tx.get(&layout::meta_key(self.tenant(), table))?.map(|b| Meta::decode(&b)).transpose()
    }

    /// Run `f` on `table`'s graph (read or made from `meta`), dropping a cached one that is stale.
    fn with_graph<T>(&self, meta: &Meta, table: &str, f: impl FnOnce(&mut Graph) -> Result<T>) -> Result<T> {
        let mut cache = self.vectors.borrow_mut();
        let fresh = cache.get(table).is_some_and(|c| c.generation == meta.generation && !c.graph.has_changes());
        if !fresh {
            let g = Graph::restore(
                meta.dims,
                meta.params(),
                meta.entry,
                meta.max_level,
                meta.count,
                meta.live,
                meta.tombstones,
            );
            cache.insert(table.to_string(), CachedGraph { generation: meta.generation, graph: g });
        }
        let c = cache.get_mut(table).expect("just cached");
        c.graph.params.ef_search = meta.ef_search;
        let out = f(&mut c.graph);
        if out.is_err() {
            cache.remove(table);
        }
        out
    }

    /// Write the graph's changes and a new header; the cache moves to the new generation.
    fn flush_graph(&self, tx: &mut Tx<'_, S>, table: &str, mut meta: Meta) -> Result<Meta> {
        let tenant = self.tenant().to_string();
        let mut cache = self.vectors.borrow_mut();
        let c = cache.get_mut(table).ok_or_else(|| Error::Internal("vector graph vanished before flush".into()))?;
        let g = &mut c.graph;
        let changes = g.take_changes();
        for o in changes.added {
            let n = g.get(o).ok_or_else(|| Error::Internal(format!("added node {o} not resident")))?;
            tx.put(layout::vector_key(&tenant, table, o), layout::encode_vector(&n.id, &n.vector))?;
        }
        for o in changes.touched {
            let n = g.get(o).ok_or_else(|| Error::Internal(format!("changed node {o} not resident")))?;
            tx.put(layout::links_key(&tenant, table, o), layout::encode_links(n.deleted, &n.links))?;
        }
        meta.entry = g.entry;
        meta.max_level = g.max_level;
        meta.count = g.len();
        meta.live = g.live;
        meta.tombstones = g.tombstones;
        meta.generation += 1;
        c.generation = meta.generation;
        tx.put(layout::meta_key(&tenant, table), meta.encode())?;
        Ok(meta)
    }

    /// Embed `texts` with the table's model in one call, checking the dimension and normalising.
    /// A vector of zero length comes back as `None`.
    fn embed_texts(&self, rec: &SchemaRecord, texts: &[String]) -> Result<Vec<Option<Box<[f32]>>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let model = rec.embedding_provider.clone().unwrap_or_else(|| self.embedder.default_model());
        let vectors = self.embedder.embed(&model, texts)?;
        if vectors.len() != texts.len() {
            return Err(Error::Embedding(format!(
                "model '{model}' returned {} vectors for {} texts",
                vectors.len(),
                texts.len()
            )));
        }
        let dims = rec.embedding_dims.unwrap_or(0);
        vectors
            .into_iter()
            .map(|mut v| {
                if v.len() != dims {
                    return Err(Error::Embedding(format!(
                        "model '{model}' returned {}-dimensional vectors, but table '{}' was registered with {dims} \
                         dimensions; re-register the schema to re-embed the table with the new model",
                        v.len(),
                        rec.name
                    )));
                }
                Ok(normalize(&mut v).then(|| v.into_boxed_slice()))
            })
            .collect()
    }

    fn new_meta(&self, rec: &SchemaRecord) -> Meta {
        let p = rec.hnsw.unwrap_or_default();
        Meta {
            model: rec.embedding_provider.clone().unwrap_or_else(|| self.embedder.default_model()),
            dims: rec.embedding_dims.unwrap_or(0),
            m: p.m,
            ef_construction: p.ef_construction,
            ef_search: p.ef_search,
            entry: None,
            max_level: 0,
            count: 0,
            live: 0,
            tombstones: 0,
            generation: 0,
        }
    }

    /// Keep `rec`'s vector index in step with written rows (in the caller's transaction):
    /// embed new or changed texts in one `embed` call, tombstone replaced and deleted
    /// vectors, revive restored ones, and compact when tombstones outnumber live vectors.
    pub(crate) fn index_vectors(&self, tx: &mut Tx<'_, S>, rec: &SchemaRecord, ops: Vec<VecOp>) -> Result<()> {
        if rec.embedding_fields.is_empty() || ops.is_empty() {
            return Ok(());
        }
        let tenant = self.tenant().to_string();
        let table = rec.name.as_str();
        // The last operation on an id wins.
        let mut last: HashMap<[u8; 16], usize> = HashMap::new();
        for (i, op) in ops.iter().enumerate() {
            last.insert(op.id(), i);
        }
        let ops: Vec<VecOp> =
            ops.into_iter().enumerate().filter(|(i, op)| last[&op.id()] == *i).map(|(_, op)| op).collect();
        let id_keys: Vec<Vec<u8>> = ops.iter().map(|op| layout::id_key(&tenant, table, &op.id())).collect();
        let existing: Vec<Option<IdRecord>> = tx
            .get_many(&id_keys)?
            .into_iter()
            .map(|b| b.map(|b| IdRecord::decode(&b)).transpose())
            .collect::<Result<_>>()?;
        // Each op's text hash, and what changes: texts to embed, and keyword-index changes
        // (Some(text) indexes the text, None removes the row).
        let hashes: Vec<Option<[u8; 16]>> = ops
            .iter()
            .map(|op| match op {
                VecOp::Upsert(_, Some(text)) => Some(text_hash(text)),
                _ => None,
            })
            .collect();
        let mut to_embed: Vec<(usize, String)> = Vec::new();
        let mut keyword: Vec<([u8; 16], Option<String>)> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            match op {
                VecOp::Upsert(id, Some(text)) => {
                    let same = existing[i].filter(|r| Some(r.text_hash) == hashes[i]);
                    if same.is_none() {
                        to_embed.push((i, text.clone()));
                    }
                    if !same.is_some_and(|r| r.live) {
                        keyword.push((*id, Some(text.clone())));
                    }
                }
                VecOp::Upsert(id, None) | VecOp::SoftDelete(id) | VecOp::HardDelete(id) => keyword.push((*id, None)),
            }
        }
        let texts: Vec<String> = to_embed.iter().map(|(_, t)| t.clone()).collect();
        let vectors = self.embed_texts(rec, &texts)?;
        let mut new_vectors: HashMap<usize, Option<Box<[f32]>>> =
            to_embed.iter().map(|(i, _)| *i).zip(vectors).collect();
        let meta = match self.read_meta(tx, table)? {
            Some(m) => m,
            None => self.new_meta(rec),
        };
        let mut id_writes: Vec<(Vec<u8>, Option<IdRecord>)> = Vec::new();
        let m = meta.m;
        {
            let reader: &Tx<'_, S> = tx;
            let mut loader = TxLoader { tx: reader, tenant: &tenant, table };
            self.with_graph(&meta, table, |g| {
                for (i, op) in ops.iter().enumerate() {
                    let old = existing[i];
                    let key = id_keys[i].clone();
                    match op {
                        VecOp::Upsert(id, text) => {
                            let (Some(_), Some(hash)) = (text, hashes[i]) else {
                                if let Some(r) = old {
                                    g.set_deleted(r.ord, true, &mut loader)?;
                                    id_writes.push((key, None));
                                }
                                continue;
                            };
                            match new_vectors.remove(&i) {
                                None => {
                                    // Unchanged text: revive the node if the row was soft-deleted.
                                    let r = old.expect("unchanged text has a record");
                                    if !r.live {
                                        g.set_deleted(r.ord, false, &mut loader)?;
                                        id_writes.push((key, Some(IdRecord { live: true, ..r })));
                                    }
                                }
                                Some(vector) => {
                                    if let Some(r) = old {
                                        g.set_deleted(r.ord, true, &mut loader)?;
                                    }
                                    match vector {
                                        Some(v) => {
                                            let ord = g.insert(*id, v, level_for(id, m), &mut loader)?;
                                            let rec = IdRecord { ord, text_hash: hash, live: true };
                                            id_writes.push((key, Some(rec)));
                                        }
                                        None => id_writes.push((key, None)),
                                    }
                                }
                            }
                        }
                        VecOp::SoftDelete(_) => {
                            if let Some(r) = old.filter(|r| r.live) {
                                g.set_deleted(r.ord, true, &mut loader)?;
                                id_writes.push((key, Some(IdRecord { live: false, ..r })));
                            }
                        }
                        VecOp::HardDelete(_) => {
                            if let Some(r) = old {
                                g.set_deleted(r.ord, true, &mut loader)?;
                                id_writes.push((key, None));
                            }
                        }
                    }
                }
                Ok(())
            })?;
        }
        for (k, r) in id_writes {
            match r {
                Some(r) => tx.put(k, r.encode())?,
                None => tx.delete(k)?,
            }
        }
        for (id, text) in keyword {
            keyword::set_document(tx, &tenant, table, &id, text.as_deref())?;
        }
        let meta = self.flush_graph(tx, table, meta)?;
        if meta.tombstones > meta.live.max(1000) {
            self.rebuild_graph(tx, rec, meta)?;
        }
        Ok(())
    }

    /// Record a new `ef_search` in `table`'s index header, if it has one.
    pub(crate) fn set_ef_search(&self, tx: &mut Tx<'_, S>, table: &str, ef_search: usize) -> Result<()> {
        if let Some(mut meta) = self.read_meta(tx, table)?
            && meta.ef_search != ef_search
        {
            meta.ef_search = ef_search;
            tx.put(layout::meta_key(self.tenant(), table), meta.encode())?;
        }
        Ok(())
    }

    /// Remove every record of `table`'s vector index (with `keywords`, its keyword index too).
    pub(crate) fn drop_vectors(&self, tx: &mut Tx<'_, S>, table: &str, keywords: bool) -> Result<()> {
        self.vectors.borrow_mut().remove(table);
        let mut prefixes = vec![layout::prefix(self.tenant(), table)];
        if keywords {
            prefixes.push(keyword::table_prefix(self.tenant(), table));
        }
        for prefix in prefixes {
            tx.delete_prefix(&prefix)?;
        }
        Ok(())
    }

    /// Build `table`'s index again from its live vectors (no re-embedding): drops tombstones.
    fn rebuild_graph(&self, tx: &mut Tx<'_, S>, rec: &SchemaRecord, meta: Meta) -> Result<Meta> {
        let tenant = self.tenant().to_string();
        let table = rec.name.as_str();
        let prefix = layout::id_prefix(&tenant, table);
        let prefix = prefix.as_slice();
        let mut live: Vec<([u8; 16], IdRecord)> = Vec::new();
        let mut scan = tx.scan_prefix(prefix)?;
        loop {
            let page = scan.next_page()?;
            if page.is_empty() {
                break;
            }
            for (k, v) in page {
                let r = IdRecord::decode(&v)?;
                if r.live {
                    let id: [u8; 16] =
                        k[prefix.len()..].try_into().map_err(|_| Error::Storage("corrupt vector id key".into()))?;
                    live.push((id, r));
                }
            }
        }
        let mut vectors: Vec<Box<[f32]>> = Vec::with_capacity(live.len());
        for chunk in live.chunks(1024) {
            let keys: Vec<Vec<u8>> = chunk.iter().map(|(_, r)| layout::vector_key(&tenant, table, r.ord)).collect();
            for b in tx.get_many(&keys)? {
                let b = b.ok_or_else(|| Error::Storage(format!("vector index of '{table}' lost a vector")))?;
                vectors.push(layout::decode_vector(&b)?.1);
            }
        }
        self.drop_vectors(tx, table, false)?;
        let fresh = Meta { entry: None, max_level: 0, count: 0, live: 0, tombstones: 0, ..meta };
        let items: Vec<IndexItem> = live.into_iter().zip(vectors).map(|((id, r), v)| (id, v, r.text_hash)).collect();
        self.insert_vectors(tx, table, fresh, items)
    }

    /// Insert `(id, normalised vector, text hash)` items into an empty index described by `meta`.
    fn insert_vectors(&self, tx: &mut Tx<'_, S>, table: &str, meta: Meta, items: Vec<IndexItem>) -> Result<Meta> {
        let tenant = self.tenant().to_string();
        let m = meta.m;
        let mut records = Vec::with_capacity(items.len());
        {
            let reader: &Tx<'_, S> = tx;
            let mut loader = TxLoader { tx: reader, tenant: &tenant, table };
            self.with_graph(&meta, table, |g| {
                for (id, v, hash) in items {
                    let ord = g.insert(id, v, level_for(&id, m), &mut loader)?;
                    records.push((id, IdRecord { ord, text_hash: hash, live: true }));
                }
                Ok(())
            })?;
        }
        for (id, r) in records {
            tx.put(layout::id_key(&tenant, table, &id), r.encode())?;
        }
        self.flush_graph(tx, table, meta)
    }

    /// Embed every live row of `rec`'s table into a new index (after a schema change).
    pub(crate) fn reembed_table(&self, tx: &mut Tx<'_, S>, rec: &SchemaRecord) -> Result<()> {
        self.drop_vectors(tx, &rec.name, true)?;
        if rec.embedding_fields.is_empty() {
            return Ok(());
        }
        let mut rows: Vec<([u8; 16], String)> = Vec::new();
        let mut scan = tx.scan_prefix(&keys::entity_prefix(self.tenant(), &rec.name))?;
        loop {
            let page = scan.next_page()?;
            if page.is_empty() {
                break;
            }
            for (_, bytes) in page {
                let e = decode_entity(&bytes)?;
                if let (true, Some(text)) = (e.is_live(), embedding_text(&e.properties, &rec.embedding_fields)) {
                    rows.push((*parse_id(&e.id)?.as_bytes(), text));
                }
            }
        }
        for (id, text) in &rows {
            keyword::set_document(tx, self.tenant(), &rec.name, id, Some(text))?;
        }
        let mut items = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(REEMBED_CHUNK) {
            let texts: Vec<String> = chunk.iter().map(|(_, t)| t.clone()).collect();
            for ((id, text), v) in chunk.iter().zip(self.embed_texts(rec, &texts)?) {
                if let Some(v) = v {
                    items.push((*id, v, text_hash(text)));
                }
            }
        }
        self.insert_vectors(tx, &rec.name, self.new_meta(rec), items)?;
        Ok(())
    }

    /// Resolve the model and dimension of a schema with embedding fields (one probe `embed` call).
    pub(crate) fn resolve_embedding(&self, rec: &mut SchemaRecord) -> Result<()> {
        if rec.embedding_fields.is_empty() {
            return Ok(());
        }
        let model = rec.embedding_provider.clone().unwrap_or_else(|| self.embedder.default_model());
        let probe = self.embedder.embed(&model, &["dimension probe".to_string()])?;
        let dims = probe.first().map(Vec::len).unwrap_or(0);
        if dims == 0 {
            return Err(Error::Embedding(format!("model '{model}' returned no vector for a probe text")));
        }
        rec.embedding_provider = Some(model);
        rec.embedding_dims = Some(dims);
        Ok(())
    }

    /// Ids of the live rows of `table` matching the SQL predicate `filter`.
    fn filter_ids(&self, table: &str, filter: &str) -> Result<HashSet<[u8; 16]>> {
        let mut parser = crate::sql::parsed::parser(filter)?;
        parser.parse_expr().map_err(|e| Error::query(format!("in where: {e}")))?;
        if parser.peek_token().token != Token::EOF {
            return Err(Error::query(format!(
                "where must be one predicate (as after WHERE), but {} follows it",
                parser.peek_token().token
            )));
        }
        // Quoted, so a table named like a keyword (`order`) reads as a name.
        let rows = self.query_rows(&format!("SELECT id FROM \"{table}\" WHERE {filter}"))?;
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
        if opts.k == 0 || opts.k > 10_000 {
            return Err(Error::InvalidArgument(format!("k (top-k) must be 1 to 10000, got {}", opts.k)));
        }
        let schema = self.require_table(table)?;
        let rec = &schema.record;
        if rec.embedding_fields.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "table '{table}' has no embedding_fields, so it cannot be searched semantically; add \
                 \"embedding_fields\" to its schema and register it again"
            )));
        }
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
            SearchQuery::Text(text) => match self.embed_texts(rec, &[text])?.pop().flatten() {
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
        let Some(meta) = self.read_meta(&tx, table)? else { return Ok(Vec::new()) };
        let tenant = self.tenant().to_string();
        // Hybrid fuses two deeper rankings; RRF needs more than k from each.
        let k = if opts.hybrid { opts.k.max(HYBRID_DEPTH) } else { opts.k };
        let ef = opts.ef_search.unwrap_or(meta.ef_search).max(k);
        let hits: Vec<(Hit, [u8; 16])> = {
            let mut loader = TxLoader { tx: &tx, tenant: &tenant, table };
            // Node ordinals of the matching rows.
            let allowed_ords: Option<Vec<u32>> = match &allowed {
                None => None,
                Some(ids) => {
                    let ids: Vec<[u8; 16]> = ids.iter().copied().collect();
                    let keys: Vec<Vec<u8>> = ids.iter().map(|id| layout::id_key(&tenant, table, id)).collect();
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
            self.with_graph(&meta, table, |g| {
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
                    .take(opts.k)
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

    /// Figures about `table`'s vector index as JSON: model, dims, parameters, nodes
    /// (`live`, `tombstones`, `count`), `max_level`, and `resident` (nodes read into memory).
    /// Errors: `SchemaNotFound`, `InvalidArgument` (no embedding fields), `Storage`.
    pub fn index_stats(&self, table: &str) -> Result<Value> {
        let schema = self.require_table(table)?;
        let rec = &schema.record;
        if rec.embedding_fields.is_empty() {
            return Err(Error::InvalidArgument(format!("table '{table}' has no embedding_fields, so no vector index")));
        }
        let tx = self.begin(false)?;
        let meta = self.read_meta(&tx, table)?.unwrap_or_else(|| self.new_meta(rec));
        let resident = self
            .vectors
            .borrow()
            .get(table)
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
        if rec.embedding_fields.is_empty() {
            return Err(Error::InvalidArgument(format!("table '{table}' has no embedding_fields, so no vector index")));
        }
        let mut tx = self.begin(true)?;
        match self.read_meta(&tx, table)? {
            Some(meta) if !reembed => {
                self.rebuild_graph(&mut tx, &rec, meta)?;
            }
            _ => self.reembed_table(&mut tx, &rec)?,
        }
        tx.commit()?;
        self.index_stats(table)
    }
}
