//! Traversal and shortest paths over adjacency lists kept in memory between calls.
//!
//! A traversal expands a node by reading its adjacency (one range scan of
//! `G id` or `R id`) and the soft-delete markers of its neighbours. Both are
//! kept in an [`AdjacencyCache`] owned by the database handle, valid for one
//! value of the tenant's graph generation (`graph::generation_key`), which every
//! call that writes an edge or a soft-delete marker bumps at commit. Each
//! traversal reads the generation first and drops the cache when it moved, so
//! a write by this handle, another handle or another process is always seen.
//! The cache holds each edge's stored JSON, so results are written by copying
//! it, not by decoding and re-encoding. It is emptied when it outgrows
//! [`CACHE_BUDGET`] bytes.

use std::cell::Cell;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::graph::{self, Direction, Edge, MAX_DEPTH, TraverseOptions};
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::PrefixScan;

/// Bytes of adjacency the cache holds before it starts over (edge JSON plus ~64 bytes per edge).
pub const CACHE_BUDGET: usize = 64 << 20;

/// One edge as the cache holds it.
pub(crate) struct CachedEdge {
    /// Relationship type.
    rel: Box<str>,
    /// The node at the other end (target of an outgoing edge, source of an incoming one).
    other: [u8; 16],
    /// The stored edge JSON (an [`Edge`]), checked to be UTF-8 once when read.
    raw: Box<str>,
    /// Whether `other` is soft-deleted, once known (from `AdjacencyCache::dead`).
    other_dead: Cell<Option<bool>>,
}

impl CachedEdge {
    fn edge(&self) -> Result<Edge> {
        graph::decode_edge(self.raw.as_bytes())
    }
}

type List = Rc<[Rc<CachedEdge>]>;

/// Hashes entity ids by folding their bytes: ids are BLAKE3 output or random UUIDs,
/// already uniform, so SipHash's protection against chosen keys buys nothing here.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
}

type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;
type IdSet = HashSet<[u8; 16], BuildHasherDefault<IdHasher>>;

/// Adjacency lists and soft-delete flags read at one graph generation.
pub(crate) struct AdjacencyCache {
    generation: Option<u64>,
    lists: IdMap<([u8; 16], u8), List>,
    dead: IdMap<[u8; 16], bool>,
    bytes: usize,
    /// Bytes held before starting over ([`CACHE_BUDGET`]; smaller in tests).
    budget: usize,
}

impl Default for AdjacencyCache {
    fn default() -> Self {
        AdjacencyCache {
            generation: None,
            lists: IdMap::default(),
            dead: IdMap::default(),
            bytes: 0,
            budget: CACHE_BUDGET,
        }
    }
}

impl AdjacencyCache {
    /// Forget everything (the next traversal re-reads what it needs).
    pub(crate) fn clear(&mut self) {
        *self = AdjacencyCache { budget: self.budget, ..AdjacencyCache::default() };
    }

    /// Adjacency lists held and their accounted bytes (for `stats`).
    pub(crate) fn size(&self) -> (usize, usize) {
        (self.lists.len(), self.bytes)
    }

    /// Account for `bytes` more, first starting over (at the same generation) past the budget.
    fn reserve(&mut self, bytes: usize) {
        if self.bytes + bytes > self.budget {
            *self = AdjacencyCache { generation: self.generation, budget: self.budget, ..AdjacencyCache::default() };
        }
        self.bytes += bytes;
    }
}

/// Reads adjacency through the cache for the length of one read call.
pub(crate) struct Reader<'a, S: Storage + ?Sized> {
    store: &'a S,
    tenant: &'a str,
    cache: &'a mut AdjacencyCache,
}

impl<'a, S: Storage + ?Sized> Reader<'a, S> {
    /// Check the generation and drop a stale cache.
    pub(crate) fn open(store: &'a S, tenant: &'a str, cache: &'a mut AdjacencyCache) -> Result<Self> {
        Ok(Self::open_probing(store, tenant, cache, None)?.0)
    }

    /// [`Reader::open`], also telling whether the entity `probe` exists (both in one storage read).
    pub(crate) fn open_probing(
        store: &'a S,
        tenant: &'a str,
        cache: &'a mut AdjacencyCache,
        probe: Option<&[u8; 16]>,
    ) -> Result<(Self, bool)> {
        let mut wanted = vec![graph::generation_key(tenant)];
        wanted.extend(probe.map(|id| keys::id_index(tenant, id)));
        let mut got = store.get_many(&wanted)?.into_iter();
        let generation =
            got.next().flatten().and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok()).map_or(0, u64::from_le_bytes);
        let exists = got.next().flatten().is_some();
        if cache.generation != Some(generation) {
            cache.clear();
            cache.generation = Some(generation);
        }
        Ok((Reader { store, tenant, cache }, exists))
    }

    /// Every edge of `id` under `tag` (`G` outgoing, `R` incoming), in stored order.
    fn list(&mut self, id: &[u8; 16], tag: u8) -> Result<List> {
        if let Some(l) = self.cache.lists.get(&(*id, tag)) {
            return Ok(l.clone());
        }
        let corrupt = || Error::Storage("corrupt edge key".into());
        let prefix = graph::space(self.tenant, tag, id);
        let mut scan = PrefixScan::new(self.store, &prefix);
        let (mut edges, mut bytes) = (Vec::new(), 0);
        loop {
            let page = scan.next_page()?;
            if page.is_empty() {
                break;
            }
            for (k, v) in page {
                let (rel, tail) = keys::pop_str(&k[prefix.len()..]).ok_or_else(corrupt)?;
                let other: [u8; 16] = tail.try_into().map_err(|_| corrupt())?;
                bytes += v.len() + rel.len() + 64;
                let raw = String::from_utf8(v).map_err(|_| Error::Storage("edge record is not UTF-8".into()))?;
                edges.push(Rc::new(CachedEdge {
                    rel: rel.into(),
                    other,
                    raw: raw.into_boxed_str(),
                    other_dead: Cell::new(None),
                }));
            }
        }
        self.cache.reserve(bytes + 64);
        let list: List = edges.into();
        self.cache.lists.insert((*id, tag), list.clone());
        Ok(list)
    }

    /// Whether each of `ids` is soft-deleted (the unknown ones read in one batch). The answers
    /// are taken before the cache may start over, so none is lost to it.
    fn dead(&mut self, ids: &[[u8; 16]]) -> Result<Vec<bool>> {
        let mut out: Vec<Option<bool>> = ids.iter().map(|i| self.cache.dead.get(i).copied()).collect();
        let mut missing: Vec<[u8; 16]> = ids.iter().zip(&out).filter(|(_, d)| d.is_none()).map(|(i, _)| *i).collect();
        if !missing.is_empty() {
            missing.sort_unstable();
            missing.dedup();
            let markers: Vec<Vec<u8>> = missing.iter().map(|i| graph::deleted_marker(self.tenant, i)).collect();
            let found = self.store.get_many(&markers)?;
            self.cache.reserve(missing.len() * 48);
            for (id, v) in missing.into_iter().zip(found) {
                self.cache.dead.insert(id, v.is_some());
            }
            for (d, id) in out.iter_mut().zip(ids) {
                if d.is_none() {
                    *d = self.cache.dead.get(id).copied();
                }
            }
        }
        Ok(out.into_iter().map(|d| d.unwrap_or(false)).collect())
    }

    /// Read (or find cached) the adjacency of `id` that `o` follows, and the soft-delete
    /// flags of its neighbours; iterate it with [`Reader::live`].
    fn step(&mut self, id: &[u8; 16], o: &TraverseOptions) -> Result<Step> {
        let tags: &[u8] = match o.direction {
            Direction::Outgoing => b"G",
            Direction::Incoming => b"R",
            Direction::Both => b"GR",
        };
        let mut lists = [None, None];
        for (slot, &tag) in lists.iter_mut().zip(tags) {
            let list = self.list(id, tag)?;
            if !o.include_deleted && list.iter().any(|e| e.other_dead.get().is_none()) {
                let others: Vec<[u8; 16]> = list.iter().map(|e| e.other).collect();
                for (e, dead) in list.iter().zip(self.dead(&others)?) {
                    e.other_dead.set(Some(dead));
                }
            }
            *slot = Some(list);
        }
        Ok(lists)
    }

    /// The edges of `step` that `o` follows: of a wanted type, to a live node (unless
    /// `include_deleted`); outgoing first, then incoming, each in stored order.
    fn live<'s>(&'s self, step: &'s Step, o: &'s TraverseOptions) -> impl Iterator<Item = &'s Rc<CachedEdge>> + 's {
        step.iter().flatten().flat_map(|l| l.iter()).filter(move |e| {
            (o.rel_types.is_empty() || o.rel_types.iter().any(|r| **r == *e.rel))
                && (o.include_deleted || e.other_dead.get() == Some(false))
        })
    }
}

/// The adjacency lists one expansion follows (outgoing, incoming).
type Step = [Option<List>; 2];

/// One node reached: its id, hops from the start, and the hit it was reached from.
struct Hit {
    id: [u8; 16],
    depth: u32,
    /// Index of the previous hit and the edge from it (`None` for the start).
    via: Option<(usize, Rc<CachedEdge>)>,
}

/// Walk from `start`; each node once, with its depth and the path that first reached it.
/// Returns the JSON array `[{id, depth, path: [edge, ...]}, ...]`, the start first.
/// Errors: `InvalidArgument` (depth outside 1..=10), `Storage`.
pub(crate) fn traverse<S: Storage + ?Sized>(
    r: &mut Reader<'_, S>,
    start: [u8; 16],
    o: &TraverseOptions,
) -> Result<String> {
    if o.depth == 0 || o.depth > MAX_DEPTH {
        return Err(Error::InvalidArgument(format!("depth must be 1 to {MAX_DEPTH}, got {}", o.depth)));
    }
    let mut seen = IdSet::default();
    seen.insert(start);
    let mut hits = vec![Hit { id: start, depth: 0, via: None }];
    let full = |hits: &Vec<Hit>| hits.len() as u32 >= o.limit;
    if o.dfs {
        // Pre-order DFS with an explicit stack; children pushed in reverse to visit them in stored order.
        let mut stack = vec![0usize];
        while let Some(i) = stack.pop() {
            let (node, depth) = (hits[i].id, hits[i].depth);
            if depth >= o.depth {
                continue;
            }
            let mut children = Vec::new();
            let step = r.step(&node, o)?;
            for e in r.live(&step, o) {
                if !seen.insert(e.other) {
                    continue;
                }
                hits.push(Hit { id: e.other, depth: depth + 1, via: Some((i, e.clone())) });
                if full(&hits) {
                    return Ok(to_json(&hits));
                }
                children.push(hits.len() - 1);
            }
            stack.extend(children.into_iter().rev());
        }
        return Ok(to_json(&hits));
    }
    let mut frontier = vec![0usize];
    for depth in 1..=o.depth {
        let mut next = Vec::new();
        for &i in &frontier {
            let node = hits[i].id;
            let step = r.step(&node, o)?;
            for e in r.live(&step, o) {
                if !seen.insert(e.other) {
                    continue;
                }
                hits.push(Hit { id: e.other, depth, via: Some((i, e.clone())) });
                next.push(hits.len() - 1);
                if full(&hits) {
                    return Ok(to_json(&hits));
                }
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    Ok(to_json(&hits))
}

/// The JSON of a traversal: each hit's path is the stored JSON of its edges, copied.
fn to_json(hits: &[Hit]) -> String {
    let mut out = String::with_capacity(hits.len() * 512);
    let mut path: Vec<&CachedEdge> = Vec::new();
    out.push('[');
    for (n, h) in hits.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str("{\"id\":\"");
        out.push_str(uuid::Uuid::from_bytes(h.id).hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()));
        out.push_str("\",\"depth\":");
        let _ = write!(out, "{}", h.depth);
        out.push_str(",\"path\":[");
        path.clear();
        let mut cur = h;
        while let Some((prev, e)) = &cur.via {
            path.push(e);
            cur = &hits[*prev];
        }
        for (k, e) in path.iter().rev().enumerate() {
            if k > 0 {
                out.push(',');
            }
            out.push_str(&e.raw);
        }
        out.push_str("]}");
    }
    out.push(']');
    out
}

/// Shortest path from `from` to `to` within `o.depth` hops: fewest hops (BFS),
/// or least total `weight` (Dijkstra, weights must be ≥ 0) when `weighted`.
/// Errors: `NotFound` ("no path within N hops"), `InvalidArgument` (a negative weight).
pub(crate) fn shortest_path<S: Storage + ?Sized>(
    r: &mut Reader<'_, S>,
    from: [u8; 16],
    to: [u8; 16],
    o: &TraverseOptions,
    weighted: bool,
) -> Result<Vec<Edge>> {
    if from == to {
        return Ok(Vec::new());
    }
    let no_path = || {
        Error::NotFound(format!(
            "no path from {} to {} within {} hops",
            uuid::Uuid::from_bytes(from),
            uuid::Uuid::from_bytes(to),
            o.depth
        ))
    };
    if !weighted {
        let mut parent: IdMap<[u8; 16], ([u8; 16], Rc<CachedEdge>)> = IdMap::default();
        let mut queue = VecDeque::from([(from, 0u32)]);
        let mut seen = IdSet::default();
        seen.insert(from);
        while let Some((node, d)) = queue.pop_front() {
            if d >= o.depth {
                continue;
            }
            let step = r.step(&node, o)?;
            for e in r.live(&step, o) {
                if seen.insert(e.other) {
                    parent.insert(e.other, (node, e.clone()));
                    if e.other == to {
                        let mut path = Vec::new();
                        let mut cur = to;
                        while cur != from {
                            let (p, e) = &parent[&cur];
                            path.push(e.edge()?);
                            cur = *p;
                        }
                        path.reverse();
                        return Ok(path);
                    }
                    queue.push_back((e.other, d + 1));
                }
            }
        }
        return Err(no_path());
    }
    // Dijkstra (E. W. Dijkstra, 1959) over (node, hops) states, so the hop
    // bound never hides a costlier path with fewer hops.
    #[derive(PartialEq)]
    struct State(f64, u32, [u8; 16]);
    impl Eq for State {}
    impl PartialOrd for State {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for State {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            other.0.total_cmp(&self.0).then_with(|| other.1.cmp(&self.1))
        }
    }
    type Key = ([u8; 16], u32);
    let mut best: HashMap<Key, f64> = HashMap::from([((from, 0), 0.0)]);
    let mut back: HashMap<Key, (Key, Rc<CachedEdge>)> = HashMap::new();
    let mut heap = BinaryHeap::from([State(0.0, 0, from)]);
    while let Some(State(cost, hops, node)) = heap.pop() {
        if node == to {
            let mut path = Vec::new();
            let mut cur: Key = (node, hops);
            while let Some((prev, e)) = back.get(&cur) {
                path.push(e.edge()?);
                cur = *prev;
            }
            path.reverse();
            return Ok(path);
        }
        if cost > best.get(&(node, hops)).copied().unwrap_or(f64::INFINITY) || hops >= o.depth {
            continue;
        }
        let step = r.step(&node, o)?;
        for e in r.live(&step, o) {
            let edge = e.edge()?;
            let w = edge.weight();
            if w < 0.0 {
                return Err(Error::InvalidArgument(format!(
                    "negative weight {w} on edge {} -> {}",
                    edge.src, edge.dst
                )));
            }
            let c = cost + w;
            let k = (e.other, hops + 1);
            if c < best.get(&k).copied().unwrap_or(f64::INFINITY) {
                best.insert(k, c);
                back.insert(k, ((node, hops), e.clone()));
                heap.push(State(c, hops + 1, e.other));
            }
        }
    }
    Err(no_path())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::graph::{Direction, TraverseOptions};
    use crate::{Database, MemoryStore};

    /// A cache that starts over on nearly every read gives the same answers as one that never does.
    #[test]
    fn starting_over_mid_traversal_loses_nothing() {
        let store = MemoryStore::new();
        let db = Database::new(&store, "t").unwrap();
        db.register_schema(
            "n",
            &json!({"type": "object", "key_field": "k", "properties": {"k": {"type": "string"}}}).to_string(),
        )
        .unwrap();
        let ids: Vec<String> = (0..40)
            .map(|i| {
                let e: serde_json::Value =
                    serde_json::from_str(&db.insert("n", &json!({"k": format!("n{i}")}).to_string()).unwrap()).unwrap();
                e["id"].as_str().unwrap().to_string()
            })
            .collect();
        for i in 0..40 {
            for j in [(i * 7 + 1) % 40, (i * 13 + 5) % 40, (i + 1) % 40] {
                db.add_edge(&ids[i], &ids[j], "r", None).unwrap();
            }
        }
        db.delete(&ids[9], false).unwrap();
        let o = TraverseOptions {
            direction: Direction::Both,
            depth: 4,
            rel_types: vec![],
            dfs: false,
            limit: 10_000,
            include_deleted: false,
        };
        // Walks from every start, so each call finds flags left by earlier ones.
        let walks = || ids.iter().map(|s| db.traverse(s, &o).unwrap()).collect::<Vec<_>>();
        let roomy = walks();
        for budget in (1..6_000).step_by(37) {
            db.discard_caches();
            db.adjacency.borrow_mut().budget = budget;
            assert_eq!(walks(), roomy, "budget {budget}");
        }
    }
}
