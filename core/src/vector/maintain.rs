//! Keeping a table's vector and keyword indexes in step with its rows: the vector work of
//! every write (`VecOp`s, embedded in batches), re-embedding a table when its model or fields
//! change, rebuilding the HNSW graph, and the per-table graphs cached between calls.

use std::cell::RefCell;
use std::collections::HashMap;

use super::VecOp;
use super::distance::normalize;
use super::embed::{Embedder, embedding_text, text_hash};
use super::hnsw::{Graph, level_for};
use super::layout::{self, IdRecord, Meta, TxLoader};
use crate::error::{Error, Result};
use crate::json::record::decode_entity;
use crate::keyword;
use crate::model::ids::parse_id;
use crate::model::schema::{ALT_SUFFIX, NO_MODEL, SchemaRecord, alt_index_name, is_alt_index};
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::Tx;

/// Texts embedded per `embed` call while re-embedding a whole table.
const REEMBED_CHUNK: usize = 512;

/// A vector ready for the index: entity id, normalised vector, BLAKE3-128 of its text.
type IndexItem = ([u8; 16], Box<[f32]>, [u8; 16]);

/// A table's graph as cached between calls, with the build and generation it was read at.
pub struct CachedGraph {
    pub(crate) generation: u64,
    pub(crate) build: u64,
    pub(crate) graph: Graph,
}

/// An identifier for a new build of an index: the clock's nanoseconds plus a count of the builds
/// this instance made (two builds in one clock tick differ), never 0 (the value of headers
/// written before builds were told apart).
fn new_build() -> u64 {
    static BUILDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = jiff::Timestamp::now().as_nanosecond() as u64;
    nanos.wrapping_add(BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)).max(1)
}

/// The per-table graphs of one database handle, cached between calls.
pub type GraphCache = RefCell<HashMap<String, CachedGraph>>;

/// One tenant's vector indexes: where their records are, the embedder that fills them, and
/// the graphs cached between calls.
pub struct Maintainer<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The embedding provider.
    pub embedder: &'a dyn Embedder,
    /// The cached graphs.
    pub cache: &'a GraphCache,
}

impl Maintainer<'_> {
    pub(crate) fn read_meta<S: Storage>(&self, tx: &Tx<'_, S>, table: &str) -> Result<Option<Meta>> {
        tx.get(&layout::meta_key(self.tenant, table))?.map(|b| Meta::decode(&b)).transpose()
    }

    /// Run `f` on `table`'s graph (read or made from `meta`), dropping a cached one that is stale.
    pub(crate) fn with_graph<T>(&self, meta: &Meta, table: &str, f: impl FnOnce(&mut Graph) -> Result<T>) -> Result<T> {
        let mut cache = self.cache.borrow_mut();
        let fresh = cache
            .get(table)
            .is_some_and(|c| c.generation == meta.generation && c.build == meta.build && !c.graph.has_changes());
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
            cache.insert(table.to_string(), CachedGraph { generation: meta.generation, build: meta.build, graph: g });
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
    pub(crate) fn flush_graph<S: Storage>(&self, tx: &mut Tx<'_, S>, table: &str, mut meta: Meta) -> Result<Meta> {
        let tenant = self.tenant.to_string();
        let mut cache = self.cache.borrow_mut();
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
    pub(crate) fn embed_texts(&self, rec: &SchemaRecord, texts: &[String]) -> Result<Vec<Option<Box<[f32]>>>> {
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

    pub(crate) fn new_meta(&self, rec: &SchemaRecord) -> Meta {
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
            build: new_build(),
        }
    }

    /// Keep `rec`'s vector index in step with written rows (in the caller's transaction):
    /// embed new or changed texts in one `embed` call, tombstone replaced and deleted
    /// vectors, revive restored ones, and compact when tombstones outnumber live vectors.
    pub(crate) fn index_vectors<S: Storage>(
        &self,
        tx: &mut Tx<'_, S>,
        rec: &SchemaRecord,
        ops: Vec<VecOp>,
    ) -> Result<()> {
        if !rec.has_vectors() || ops.is_empty() {
            return Ok(());
        }
        if let Some(alt) = rec.alt_index() {
            // The second model's index follows the same rows; a vector a row brought is the
            // first model's, so the second embeds the text.
            let alt_ops = ops
                .iter()
                .map(|op| match op {
                    VecOp::Upsert(id, text, _) => VecOp::Upsert(*id, text.clone(), None),
                    VecOp::SoftDelete(id) => VecOp::SoftDelete(*id),
                    VecOp::HardDelete(id) => VecOp::HardDelete(*id),
                })
                .collect();
            self.index_vectors(tx, &alt, alt_ops)?;
        }
        let keywords = !is_alt_index(&rec.name);
        let tenant = self.tenant.to_string();
        let table = rec.name.as_str();
        // The last operation on an id wins; a vector the row brought earlier in the batch stays
        // with it while its text is the same (as it would over two calls).
        let mut last: HashMap<[u8; 16], usize> = HashMap::new();
        let mut ops: Vec<Option<VecOp>> = ops.into_iter().map(Some).collect();
        for i in 0..ops.len() {
            let Some(id) = ops[i].as_ref().map(VecOp::id) else { continue };
            if let Some(j) = last.insert(id, i) {
                let earlier = ops[j].take();
                if let (Some(VecOp::Upsert(_, old_text, Some(v))), Some(VecOp::Upsert(_, text, slot @ None))) =
                    (earlier, ops[i].as_mut())
                    && old_text == *text
                {
                    *slot = Some(v);
                }
            }
        }
        let ops: Vec<VecOp> = ops.into_iter().flatten().collect();
        let id_keys: Vec<Vec<u8>> = ops.iter().map(|op| layout::id_key(&tenant, table, &op.id())).collect();
        let existing: Vec<Option<IdRecord>> = tx
            .get_many(&id_keys)?
            .into_iter()
            .map(|b| b.map(|b| IdRecord::decode(&b)).transpose())
            .collect::<Result<_>>()?;
        // Each live row's hash: of its text, or of "" for a row without text (whose vector, if
        // it has one, the row brought). A stored vector with the same hash is kept as it is.
        let hashes: Vec<[u8; 16]> = ops
            .iter()
            .map(|op| match op {
                VecOp::Upsert(_, Some(text), _) => text_hash(text),
                _ => text_hash(""),
            })
            .collect();
        // New vectors by op index: brought by the row, or embedded from a changed text. And the
        // keyword-index changes (Some(text) indexes the text, None removes the row).
        let mut new_vectors: HashMap<usize, Option<Box<[f32]>>> = HashMap::new();
        let mut to_embed: Vec<(usize, String)> = Vec::new();
        let mut keyword: Vec<([u8; 16], Option<String>)> = Vec::new();
        let dims = rec.embedding_dims.unwrap_or(0);
        for (i, op) in ops.iter().enumerate() {
            let same = existing[i].filter(|r| r.text_hash == hashes[i]);
            match op {
                VecOp::Upsert(id, text, Some(v)) => {
                    if v.len() != dims {
                        return Err(Error::InvalidArgument(format!(
                            "a vector of {} dimensions for table '{table}', whose vectors have {dims}",
                            v.len()
                        )));
                    }
                    let mut v = v.clone();
                    new_vectors.insert(i, normalize(&mut v).then(|| v.into_boxed_slice()));
                    match text {
                        Some(t) if !same.is_some_and(|r| r.live) => keyword.push((*id, Some(t.clone()))),
                        Some(_) => {}
                        None => keyword.push((*id, None)),
                    }
                }
                VecOp::Upsert(id, Some(text), None) => {
                    if same.is_none() {
                        to_embed.push((i, text.clone()));
                    }
                    if !same.is_some_and(|r| r.live) {
                        keyword.push((*id, Some(text.clone())));
                    }
                }
                VecOp::Upsert(id, None, None) | VecOp::SoftDelete(id) | VecOp::HardDelete(id) => {
                    keyword.push((*id, None))
                }
            }
        }
        let texts: Vec<String> = to_embed.iter().map(|(_, t)| t.clone()).collect();
        let vectors = self.embed_texts(rec, &texts)?;
        new_vectors.extend(to_embed.iter().map(|(i, _)| *i).zip(vectors));
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
                        VecOp::Upsert(id, ..) => match new_vectors.remove(&i) {
                            Some(vector) => {
                                if let Some(r) = old {
                                    g.set_deleted(r.ord, true, &mut loader)?;
                                }
                                match vector {
                                    Some(v) => {
                                        let ord = g.insert(*id, v, level_for(id, m), &mut loader)?;
                                        let rec = IdRecord { ord, text_hash: hashes[i], live: true };
                                        id_writes.push((key, Some(rec)));
                                    }
                                    None => id_writes.push((key, None)),
                                }
                            }
                            None => match old {
                                // Unchanged: revive the node if the row was soft-deleted.
                                Some(r) if r.text_hash == hashes[i] && !r.live => {
                                    g.set_deleted(r.ord, false, &mut loader)?;
                                    id_writes.push((key, Some(IdRecord { live: true, ..r })));
                                }
                                Some(r) if r.text_hash == hashes[i] => {}
                                // The row has no text (or its text was embedded to nothing) any more.
                                Some(r) => {
                                    g.set_deleted(r.ord, true, &mut loader)?;
                                    id_writes.push((key, None));
                                }
                                None => {}
                            },
                        },
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
        for (id, text) in keyword.into_iter().filter(|_| keywords) {
            keyword::set_document(tx, &tenant, table, &id, text.as_deref())?;
        }
        let meta = self.flush_graph(tx, table, meta)?;
        if meta.tombstones > meta.live.max(1000) {
            self.rebuild_graph(tx, rec, meta)?;
        }
        Ok(())
    }

    /// Record a new `ef_search` in `table`'s index header, if it has one.
    pub(crate) fn set_ef_search<S: Storage>(&self, tx: &mut Tx<'_, S>, table: &str, ef_search: usize) -> Result<()> {
        if let Some(mut meta) = self.read_meta(tx, table)?
            && meta.ef_search != ef_search
        {
            meta.ef_search = ef_search;
            tx.put(layout::meta_key(self.tenant, table), meta.encode())?;
        }
        Ok(())
    }

    /// Remove every record of `table`'s vector index (with `keywords`, its keyword index too).
    pub(crate) fn drop_vectors<S: Storage>(&self, tx: &mut Tx<'_, S>, table: &str, keywords: bool) -> Result<()> {
        self.cache.borrow_mut().remove(table);
        let mut prefixes = vec![layout::prefix(self.tenant, table)];
        if keywords {
            prefixes.push(keyword::table_prefix(self.tenant, table));
        }
        for prefix in prefixes {
            tx.delete_prefix(&prefix)?;
        }
        Ok(())
    }

    /// Build `table`'s index again from its live vectors (no re-embedding): drops tombstones.
    pub(crate) fn rebuild_graph<S: Storage>(&self, tx: &mut Tx<'_, S>, rec: &SchemaRecord, meta: Meta) -> Result<Meta> {
        let tenant = self.tenant.to_string();
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
    pub(crate) fn insert_vectors<S: Storage>(
        &self,
        tx: &mut Tx<'_, S>,
        table: &str,
        meta: Meta,
        items: Vec<IndexItem>,
    ) -> Result<Meta> {
        let tenant = self.tenant.to_string();
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

    /// Embed every live row of `rec`'s table into a new index (after a change of model or
    /// fields, or `rebuild-index` with `reembed`). Vectors rows brought are replaced by their
    /// text's embedding. A table without a model embeds nothing: its vectors are kept (the graph
    /// rebuilt with `rec`'s parameters) when it had no model before either and the dimension
    /// stays, and dropped otherwise (rows bring them again).
    pub(crate) fn reembed_table<S: Storage>(&self, tx: &mut Tx<'_, S>, rec: &SchemaRecord) -> Result<()> {
        if rec.has_no_model()
            && let Some(old) =
                self.read_meta(tx, &rec.name)?.filter(|m| m.model == NO_MODEL && Some(m.dims) == rec.embedding_dims)
        {
            self.rebuild_graph(tx, rec, self.with_params(rec, old))?;
            return Ok(());
        }
        self.drop_vectors(tx, &rec.name, true)?;
        let alt = !is_alt_index(&rec.name);
        if alt {
            // The second model's index is built again below, or dropped when there is none now.
            self.drop_vectors(tx, &alt_index_name(&rec.name), false)?;
        }
        if rec.embedding_fields.is_empty() {
            return Ok(());
        }
        let mut rows: Vec<([u8; 16], String)> = Vec::new();
        // The rows are the table's, whichever of its indexes is built.
        let table = rec.name.strip_suffix(ALT_SUFFIX).unwrap_or(&rec.name);
        let mut scan = tx.scan_prefix(&keys::entity_prefix(self.tenant, table))?;
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
        for (id, text) in rows.iter().filter(|_| alt) {
            keyword::set_document(tx, self.tenant, &rec.name, id, Some(text))?;
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
        if let Some(second) = rec.alt_index().filter(|_| alt) {
            self.reembed_table(tx, &second)?;
        }
        Ok(())
    }

    /// `meta` (an index's header) with `rec`'s model and graph parameters.
    pub(crate) fn with_params(&self, rec: &SchemaRecord, meta: Meta) -> Meta {
        let fresh = self.new_meta(rec);
        Meta {
            model: fresh.model,
            m: fresh.m,
            ef_construction: fresh.ef_construction,
            ef_search: fresh.ef_search,
            ..meta
        }
    }

    /// Rebuild `rec`'s graphs (its own and its second model's) from their stored vectors with
    /// `rec`'s parameters: a change of `hnsw_m` or `hnsw_ef_construction` alone keeps every vector.
    pub(crate) fn rebuild_with_params<S: Storage>(&self, tx: &mut Tx<'_, S>, rec: &SchemaRecord) -> Result<()> {
        for index in std::iter::once(rec.clone()).chain(rec.alt_index()) {
            if let Some(meta) = self.read_meta(tx, &index.name)? {
                self.rebuild_graph(tx, &index, self.with_params(&index, meta))?;
            }
        }
        Ok(())
    }

    /// Resolve the model and dimension of a schema with embedding fields (one probe `embed` call);
    /// a stated `embedding_dims` must be the model's. A table without a model keeps its own.
    /// Errors: `Embedding` (the probe), `InvalidSchema` (a stated dimension the model does not have).
    pub(crate) fn resolve_embedding(&self, rec: &mut SchemaRecord) -> Result<()> {
        if rec.embedding_fields.is_empty() || rec.has_no_model() {
            return Ok(());
        }
        let model = rec.embedding_provider.clone().unwrap_or_else(|| self.embedder.default_model());
        let dims = self.probe(&model)?;
        if let Some(alt) = rec.embedding_provider_alt.clone().or_else(|| self.embedder.alt_model()) {
            rec.embedding_dims_alt = Some(self.probe(&alt)?);
            rec.embedding_provider_alt = Some(alt);
        }
        if let Some(stated) = rec.embedding_dims.filter(|d| *d != dims) {
            return Err(Error::InvalidSchema(format!(
                "embedding_dims is {stated}, but model '{model}' makes {dims}-dimensional vectors: \
                 drop the setting or state {dims}"
            )));
        }
        rec.embedding_provider = Some(model);
        rec.embedding_dims = Some(dims);
        Ok(())
    }

    /// The dimension of `model`'s vectors (one `embed` call). Errors: `Embedding`.
    fn probe(&self, model: &str) -> Result<usize> {
        let probe = self.embedder.embed(model, &["dimension probe".to_string()])?;
        match probe.first().map(Vec::len).unwrap_or(0) {
            0 => Err(Error::Embedding(format!("model '{model}' returned no vector for a probe text"))),
            dims => Ok(dims),
        }
    }
}
