//! The HNSW graph: insertion, layered search, filtered search and tombstones.
//!
//! Algorithms 1 (INSERT), 2 (SEARCH-LAYER), 4 (SELECT-NEIGHBORS-HEURISTIC, without
//! candidate extension or kept pruned links) and 5 (K-NN-SEARCH) of Malkov &
//! Yashunin 2018 (arXiv:1603.09320). Level multiplier `mL = 1 / ln(M)` and `Mmax0 = 2M`
//! as the paper recommends. Filtered search and tombstones follow the usual
//! practice (hnswlib): filtered-out or deleted nodes still route the search but are
//! never returned, and the search continues until `ef` acceptable nodes are found.
//!
//! Nodes live in storage (see `layout`); the graph holds the ones read so far and
//! asks a [`Loader`] for the others, so opening a large index costs nothing.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap};

use super::distance::cosine_distance;
use crate::error::{Error, Result};
use crate::model::schema::HnswParams;

/// Highest layer a node may get (the expected top layer of 10^9 nodes at M=16 is 7).
pub const MAX_LEVEL: usize = 16;

/// The layer of a new node: `floor(-ln(u) * mL)` with `mL = 1/ln(M)` and `u` uniform in
/// (0, 1) taken from BLAKE3 of the entity id, so the same data builds the same graph.
pub fn level_for(id: &[u8; 16], m: usize) -> usize {
    let h = blake3::hash(id);
    let x = u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"));
    let u = (x as f64 + 0.5) / 18_446_744_073_709_551_616.0;
    let ml = 1.0 / (m.max(2) as f64).ln();
    ((-u.ln() * ml).floor() as usize).min(MAX_LEVEL)
}

/// One node: the entity it stands for, its normalised vector and its links per layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Entity id.
    pub id: [u8; 16],
    /// L2-normalised vector.
    pub vector: Box<[f32]>,
    /// `links[l]`: ordinals of the neighbours on layer `l` (the node's level is `links.len() - 1`).
    pub links: Vec<Vec<u32>>,
    /// Tombstone: routes searches, never returned.
    pub deleted: bool,
}

/// Which nodes a search may return (all still route it).
pub type Accept<'a> = &'a dyn Fn(u32, &Node) -> bool;

/// Reads nodes the graph has not seen yet.
pub trait Loader {
    /// The nodes with ordinals `ords`, in the same order. Errors: `Storage` when one is missing.
    fn load(&mut self, ords: &[u32]) -> Result<Vec<Node>>;
}

/// A node ordinal with its distance to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Cosine distance to the query.
    pub dist: f32,
    /// Node ordinal.
    pub ord: u32,
}

impl Eq for Hit {}
impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Hit {
    fn cmp(&self, other: &Self) -> Ordering {
        self.dist.total_cmp(&other.dist).then(self.ord.cmp(&other.ord))
    }
}

/// An HNSW graph over node ordinals `0..len()`.
#[derive(Debug)]
pub struct Graph {
    /// Vector dimension.
    pub dims: usize,
    /// Parameters.
    pub params: HnswParams,
    /// Entry point (a node on the top layer), `None` while empty.
    pub entry: Option<u32>,
    /// Top layer of the graph.
    pub max_level: usize,
    /// Nodes not tombstoned.
    pub live: u64,
    /// Tombstoned nodes.
    pub tombstones: u64,
    nodes: Vec<Option<Node>>,
    dirty: BTreeSet<u32>,
    fresh: Vec<u32>,
    visited: Vec<u32>,
    stamp: u32,
}

/// What changed since the last [`Graph::take_changes`].
#[derive(Debug, Default)]
pub struct Changes {
    /// Nodes added (write their vector records).
    pub added: Vec<u32>,
    /// Nodes whose links or tombstone changed (write their link records), added ones included.
    pub touched: Vec<u32>,
}

impl Graph {
    /// An empty graph.
    pub fn new(dims: usize, params: HnswParams) -> Graph {
        Graph::restore(dims, params, None, 0, 0, 0, 0)
    }

    /// A graph of `count` stored nodes, none read yet.
    pub fn restore(
        dims: usize,
        params: HnswParams,
        entry: Option<u32>,
        max_level: usize,
        count: u32,
        live: u64,
        tombstones: u64,
    ) -> Graph {
        let mut nodes = Vec::new();
        nodes.resize_with(count as usize, || None);
        Graph {
            dims,
            params,
            entry,
            max_level,
            live,
            tombstones,
            nodes,
            dirty: BTreeSet::new(),
            fresh: Vec::new(),
            visited: Vec::new(),
            stamp: 0,
        }
    }

    /// Number of nodes ever added (ordinals are `0..len()`).
    pub fn len(&self) -> u32 {
        self.nodes.len() as u32
    }

    /// Whether no node was ever added.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Number of nodes read from storage or added so far.
    pub fn resident(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_some()).count()
    }

    /// The node `ord` if it has been read.
    pub fn get(&self, ord: u32) -> Option<&Node> {
        self.nodes.get(ord as usize).and_then(Option::as_ref)
    }

    fn node(&self, ord: u32) -> &Node {
        self.nodes[ord as usize].as_ref().expect("node read before use")
    }

    fn node_mut(&mut self, ord: u32) -> &mut Node {
        self.nodes[ord as usize].as_mut().expect("node read before use")
    }

    /// Read every node of `ords` not yet resident.
    pub fn ensure(&mut self, ords: &[u32], loader: &mut dyn Loader) -> Result<()> {
        let mut missing: Vec<u32> = Vec::new();
        for &o in ords {
            match self.nodes.get(o as usize) {
                None => return Err(Error::Storage(format!("vector index refers to node {o} beyond its size"))),
                Some(None) => missing.push(o),
                Some(Some(_)) => {}
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort_unstable();
        missing.dedup();
        let got = loader.load(&missing)?;
        if got.len() != missing.len() {
            return Err(Error::Storage("vector index: loader returned the wrong number of nodes".into()));
        }
        for (o, n) in missing.into_iter().zip(got) {
            if n.vector.len() != self.dims {
                return Err(Error::Storage(format!(
                    "vector index node {o} has {} dimensions, the index {}",
                    n.vector.len(),
                    self.dims
                )));
            }
            self.nodes[o as usize] = Some(n);
        }
        Ok(())
    }

    fn fresh_stamp(&mut self) {
        if self.visited.len() < self.nodes.len() {
            self.visited.resize(self.nodes.len(), 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.visited.iter_mut().for_each(|v| *v = 0);
            self.stamp = 1;
        }
    }

    /// Mark `ord` visited; true the first time in this search.
    fn visit(&mut self, ord: u32) -> bool {
        let slot = &mut self.visited[ord as usize];
        if *slot == self.stamp {
            false
        } else {
            *slot = self.stamp;
            true
        }
    }

    fn dist(&self, q: &[f32], ord: u32) -> f32 {
        cosine_distance(q, &self.node(ord).vector)
    }

    /// Algorithm 2: the `ef` nearest nodes to `q` on `layer` reachable from `entry`,
    /// ascending by distance. With `accept`, only accepted nodes are collected (all still route).
    fn search_layer(
        &mut self,
        q: &[f32],
        entry: &[Hit],
        ef: usize,
        layer: usize,
        accept: Option<Accept<'_>>,
        loader: &mut dyn Loader,
    ) -> Result<Vec<Hit>> {
        self.fresh_stamp();
        let mut candidates: BinaryHeap<Reverse<Hit>> = BinaryHeap::new();
        let mut found: BinaryHeap<Hit> = BinaryHeap::new();
        let ok = |g: &Graph, o: u32| accept.is_none_or(|f| f(o, g.node(o)));
        for &h in entry {
            self.visit(h.ord);
            candidates.push(Reverse(h));
            if ok(self, h.ord) {
                found.push(h);
            }
        }
        while found.len() > ef {
            found.pop();
        }
        while let Some(Reverse(c)) = candidates.pop() {
            let bound = found.peek().map_or(f32::INFINITY, |h| h.dist);
            if c.dist > bound && found.len() >= ef {
                break;
            }
            let links = match self.node(c.ord).links.get(layer) {
                Some(l) => l.clone(),
                None => continue,
            };
            let new: Vec<u32> = links.into_iter().filter(|&n| self.visit(n)).collect();
            self.ensure(&new, loader)?;
            for n in new {
                let d = self.dist(q, n);
                let bound = found.peek().map_or(f32::INFINITY, |h| h.dist);
                if found.len() < ef || d < bound {
                    let h = Hit { dist: d, ord: n };
                    candidates.push(Reverse(h));
                    if ok(self, n) {
                        found.push(h);
                        if found.len() > ef {
                            found.pop();
                        }
                    }
                }
            }
        }
        Ok(found.into_sorted_vec())
    }

    /// Greedy descent (ef = 1) from `ep` on layers `from` down to `to + 1`.
    fn descend(&mut self, q: &[f32], mut ep: Hit, from: usize, to: usize, loader: &mut dyn Loader) -> Result<Hit> {
        for layer in (to + 1..=from).rev() {
            loop {
                let links = self.node(ep.ord).links.get(layer).cloned().unwrap_or_default();
                self.ensure(&links, loader)?;
                let mut moved = false;
                for n in links {
                    let d = self.dist(q, n);
                    if d < ep.dist {
                        ep = Hit { dist: d, ord: n };
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        Ok(ep)
    }

    /// Algorithm 4: keep a candidate only if it is closer to the base than to every kept one.
    /// `candidates` ascending by distance to the base; all resident.
    fn select(&self, candidates: &[Hit], m: usize) -> Vec<u32> {
        if candidates.len() <= m {
            return candidates.iter().map(|h| h.ord).collect();
        }
        let mut kept: Vec<Hit> = Vec::with_capacity(m);
        for c in candidates {
            if kept.len() >= m {
                break;
            }
            let v = &self.node(c.ord).vector;
            if kept.iter().all(|k| cosine_distance(v, &self.node(k.ord).vector) > c.dist) {
                kept.push(*c);
            }
        }
        kept.into_iter().map(|h| h.ord).collect()
    }

    /// Add the link `from -> to` on `layer`, shrinking `from`'s list with the heuristic when full.
    fn connect(&mut self, from: u32, to: u32, layer: usize, loader: &mut dyn Loader) -> Result<()> {
        let max = self.params.max_links(layer);
        self.dirty.insert(from);
        let links = &mut self.node_mut(from).links[layer];
        if links.contains(&to) {
            return Ok(());
        }
        links.push(to);
        if links.len() <= max {
            return Ok(());
        }
        let all = links.clone();
        self.ensure(&all, loader)?;
        let base = self.node(from).vector.clone();
        let mut hits: Vec<Hit> =
            all.into_iter().map(|o| Hit { dist: cosine_distance(&base, &self.node(o).vector), ord: o }).collect();
        hits.sort_unstable();
        let kept = self.select(&hits, max);
        self.node_mut(from).links[layer] = kept;
        Ok(())
    }

    /// Algorithm 1: add a node for entity `id` with normalised `vector` at `level`; returns its ordinal.
    pub fn insert(&mut self, id: [u8; 16], vector: Box<[f32]>, level: usize, loader: &mut dyn Loader) -> Result<u32> {
        if vector.len() != self.dims {
            return Err(Error::Internal(format!("vector of {} dims into a {}-dim index", vector.len(), self.dims)));
        }
        let ord = self.len();
        let q = vector.clone();
        self.nodes.push(Some(Node { id, vector, links: vec![Vec::new(); level + 1], deleted: false }));
        self.fresh.push(ord);
        self.dirty.insert(ord);
        self.live += 1;
        let Some(entry) = self.entry else {
            self.entry = Some(ord);
            self.max_level = level;
            return Ok(ord);
        };
        self.ensure(&[entry], loader)?;
        let mut ep = Hit { dist: self.dist(&q, entry), ord: entry };
        if self.max_level > level {
            ep = self.descend(&q, ep, self.max_level, level, loader)?;
        }
        let mut entry_points = vec![ep];
        for layer in (0..=level.min(self.max_level)).rev() {
            let found = self.search_layer(&q, &entry_points, self.params.ef_construction, layer, None, loader)?;
            let chosen = self.select(&found, self.params.m);
            for &n in &chosen {
                self.connect(n, ord, layer, loader)?;
            }
            self.node_mut(ord).links[layer] = chosen;
            entry_points = found;
        }
        if level > self.max_level {
            self.max_level = level;
            self.entry = Some(ord);
        }
        Ok(ord)
    }

    /// Tombstone or revive `ord`.
    pub fn set_deleted(&mut self, ord: u32, deleted: bool, loader: &mut dyn Loader) -> Result<()> {
        self.ensure(&[ord], loader)?;
        if self.node(ord).deleted == deleted {
            return Ok(());
        }
        self.node_mut(ord).deleted = deleted;
        self.dirty.insert(ord);
        if deleted {
            self.live -= 1;
            self.tombstones += 1;
        } else {
            self.live += 1;
            self.tombstones -= 1;
        }
        Ok(())
    }

    /// Algorithm 5: the `k` nearest accepted, non-deleted nodes, searching layer 0 with `ef` (at least `k`).
    pub fn search(
        &mut self,
        q: &[f32],
        k: usize,
        ef: usize,
        accept: &dyn Fn(u32, &Node) -> bool,
        loader: &mut dyn Loader,
    ) -> Result<Vec<Hit>> {
        let Some(entry) = self.entry else { return Ok(Vec::new()) };
        self.ensure(&[entry], loader)?;
        let ep = Hit { dist: self.dist(q, entry), ord: entry };
        let ep = self.descend(q, ep, self.max_level, 0, loader)?;
        let both = |o: u32, n: &Node| !n.deleted && accept(o, n);
        let mut hits = self.search_layer(q, &[ep], ef.max(k), 0, Some(&both), loader)?;
        hits.truncate(k);
        Ok(hits)
    }

    /// Exact top-`k` over `ords` (non-deleted ones), ascending by distance.
    pub fn exact(&mut self, q: &[f32], ords: &[u32], k: usize, loader: &mut dyn Loader) -> Result<Vec<Hit>> {
        let mut heap: BinaryHeap<Hit> = BinaryHeap::new();
        for chunk in ords.chunks(512) {
            self.ensure(chunk, loader)?;
            for &o in chunk {
                let n = self.node(o);
                if n.deleted {
                    continue;
                }
                let h = Hit { dist: cosine_distance(q, &n.vector), ord: o };
                if heap.len() < k {
                    heap.push(h);
                } else if heap.peek().is_some_and(|w| h < *w) {
                    heap.pop();
                    heap.push(h);
                }
            }
        }
        Ok(heap.into_sorted_vec())
    }

    /// Nodes added and nodes changed since the last call (each once, ascending).
    pub fn take_changes(&mut self) -> Changes {
        Changes {
            added: std::mem::take(&mut self.fresh),
            touched: std::mem::take(&mut self.dirty).into_iter().collect(),
        }
    }

    /// Whether there are changes not yet taken.
    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty() || !self.fresh.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::distance::normalize;

    /// A loader for graphs that never leave memory.
    struct NoStore;
    impl Loader for NoStore {
        fn load(&mut self, ords: &[u32]) -> Result<Vec<Node>> {
            Err(Error::Storage(format!("nothing stored ({ords:?})")))
        }
    }

    fn random_unit(rng: &mut fastrand::Rng, dims: usize) -> Box<[f32]> {
        // Clustered data (a centre plus noise) is closer to real embeddings than uniform noise.
        let centre = rng.usize(0..20) as f32;
        let mut v: Vec<f32> = (0..dims).map(|i| ((centre * 7.0 + i as f32).sin()) + rng.f32() * 0.8).collect();
        normalize(&mut v);
        v.into_boxed_slice()
    }

    fn id(i: u32) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&i.to_be_bytes());
        b
    }

    #[test]
    fn recall_at_10_against_exact_search_is_high() {
        let mut rng = fastrand::Rng::with_seed(7);
        let dims = 32;
        let mut g = Graph::new(dims, HnswParams::default());
        let data: Vec<Box<[f32]>> = (0..3000).map(|_| random_unit(&mut rng, dims)).collect();
        for (i, v) in data.iter().enumerate() {
            g.insert(id(i as u32), v.clone(), level_for(&id(i as u32), 16), &mut NoStore).unwrap();
        }
        let all: Vec<u32> = (0..g.len()).collect();
        let (mut hit, mut total) = (0, 0);
        for _ in 0..100 {
            let q = random_unit(&mut rng, dims);
            let exact: Vec<u32> = g.exact(&q, &all, 10, &mut NoStore).unwrap().iter().map(|h| h.ord).collect();
            let approx: Vec<u32> =
                g.search(&q, 10, 64, &|_, _| true, &mut NoStore).unwrap().iter().map(|h| h.ord).collect();
            assert_eq!(approx.len(), 10);
            hit += approx.iter().filter(|o| exact.contains(o)).count();
            total += 10;
        }
        let recall = hit as f64 / total as f64;
        assert!(recall >= 0.95, "recall@10 = {recall}");
    }

    #[test]
    fn tombstoned_and_filtered_nodes_are_never_returned() {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut g = Graph::new(8, HnswParams::default());
        for i in 0..500u32 {
            g.insert(id(i), random_unit(&mut rng, 8), level_for(&id(i), 16), &mut NoStore).unwrap();
        }
        for o in (0..500).step_by(2) {
            g.set_deleted(o, true, &mut NoStore).unwrap();
        }
        assert_eq!((g.live, g.tombstones), (250, 250));
        let q = random_unit(&mut rng, 8);
        let hits = g.search(&q, 20, 64, &|o, _| o % 3 != 0, &mut NoStore).unwrap();
        assert_eq!(hits.len(), 20);
        assert!(hits.iter().all(|h| h.ord % 2 == 1 && h.ord % 3 != 0));
        assert!(hits.windows(2).all(|w| w[0].dist <= w[1].dist));
        g.set_deleted(0, false, &mut NoStore).unwrap();
        assert_eq!((g.live, g.tombstones), (251, 249));
    }

    #[test]
    fn the_first_node_is_the_entry_and_changes_are_reported_once() {
        let mut g = Graph::new(2, HnswParams::default());
        assert!(g.search(&[1.0, 0.0], 5, 10, &|_, _| true, &mut NoStore).unwrap().is_empty());
        g.insert(id(1), vec![1.0, 0.0].into(), 0, &mut NoStore).unwrap();
        g.insert(id(2), vec![0.0, 1.0].into(), 2, &mut NoStore).unwrap();
        assert_eq!((g.entry, g.max_level), (Some(1), 2));
        let c = g.take_changes();
        assert_eq!((c.added, c.touched), (vec![0, 1], vec![0, 1]));
        assert!(!g.has_changes());
        let hits = g.search(&[1.0, 0.0], 5, 10, &|_, _| true, &mut NoStore).unwrap();
        assert_eq!(hits.iter().map(|h| h.ord).collect::<Vec<_>>(), vec![0, 1]);
    }
}
