//! The graph: typed, weighted edges between entities of one tenant.
//!
//! One edge model. An edge is (source id, target id, relationship type) with
//! a JSON object of properties (`weight`, a number, by convention) and
//! `created_at`; the same triple upserts. It is stored twice in one
//! transaction, so a node's outgoing and incoming edges are each one range scan:
//!
//! ```text
//! T <tenant> G <src:16> <rel> <dst:16>  -> edge JSON   (forward)
//! T <tenant> R <dst:16> <rel> <src:16>  -> edge JSON   (reverse)
//! T <tenant> D <id:16>                  -> ""          (the entity is soft-deleted)
//! ```
//!
//! Inline edges written in an entity's `edges` array create the same records.
//! Hard-deleting an entity removes its edges in both directions; soft-deleted
//! nodes keep their edges but traversal skips them.

use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::keys;
use crate::store::{PrefixScan, Storage, Tx};

/// Deepest traversal allowed.
pub const MAX_DEPTH: u32 = 10;

/// Nodes a traversal returns at most unless told otherwise.
pub const DEFAULT_LIMIT: u32 = 10_000;

/// A stored edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// Source entity id.
    pub src: String,
    /// Target entity id.
    pub dst: String,
    /// Relationship type.
    pub rel_type: String,
    /// Properties (`weight` is a number by convention).
    pub properties: Map<String, Value>,
    /// RFC 3339 UTC time of the first write.
    pub created_at: String,
}

impl Edge {
    /// The `weight` property, 1.0 when absent or not a number.
    pub fn weight(&self) -> f64 {
        self.properties.get("weight").and_then(Value::as_f64).unwrap_or(1.0)
    }
}

/// Which edges of a node to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Edges leaving the node.
    Outgoing,
    /// Edges arriving at the node.
    Incoming,
    /// Both.
    Both,
}

impl Direction {
    /// Parse `out`/`outgoing`, `in`/`incoming`, `both`.
    pub fn parse(s: &str) -> Result<Direction> {
        match s.to_ascii_lowercase().as_str() {
            "out" | "outgoing" => Ok(Direction::Outgoing),
            "in" | "incoming" => Ok(Direction::Incoming),
            "both" => Ok(Direction::Both),
            other => Err(Error::InvalidArgument(format!("invalid direction {other:?}: use out, in or both"))),
        }
    }
}

/// One node reached by a traversal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reached {
    /// Entity id.
    pub id: String,
    /// Hops from the start (0 for the start itself).
    pub depth: u32,
    /// The edges that led here from the start, in order.
    pub path: Vec<Edge>,
}

fn space(tenant: &str, tag: u8, id: &[u8; 16]) -> Vec<u8> {
    let mut k = keys::tenant_space(tenant, tag);
    k.extend_from_slice(id);
    k
}

fn edge_key(tenant: &str, tag: u8, a: &[u8; 16], rel: &str, b: &[u8; 16]) -> Vec<u8> {
    let mut k = space(tenant, tag, a);
    keys::push_str(&mut k, rel);
    k.extend_from_slice(b);
    k
}

/// Key of the soft-delete marker of `id`.
pub fn deleted_marker(tenant: &str, id: &[u8; 16]) -> Vec<u8> {
    space(tenant, b'D', id)
}

fn id_bytes(id: &str) -> Result<[u8; 16]> {
    Ok(*crate::db::parse_id(id)?.as_bytes())
}

fn decode_edge(bytes: &[u8]) -> Result<Edge> {
    serde_json::from_slice(bytes).map_err(|e| Error::Storage(format!("corrupt edge record: {e}")))
}

fn check_rel(rel: &str) -> Result<()> {
    if rel.is_empty() || rel.len() > 256 {
        return Err(Error::InvalidArgument("rel_type must be 1 to 256 bytes".into()));
    }
    Ok(())
}

/// Write (upsert) an edge in both directions. The caller checks the endpoints exist.
pub fn put_edge<S: Storage + ?Sized>(tx: &mut Tx<'_, S>, tenant: &str, edge: &Edge) -> Result<Edge> {
    check_rel(&edge.rel_type)?;
    let (s, d) = (id_bytes(&edge.src)?, id_bytes(&edge.dst)?);
    let fwd = edge_key(tenant, b'G', &s, &edge.rel_type, &d);
    let stored = match tx.get(&fwd)? {
        Some(old) => Edge { created_at: decode_edge(&old)?.created_at, ..edge.clone() },
        None => edge.clone(),
    };
    let bytes = serde_json::to_vec(&stored).map_err(|e| Error::Internal(e.to_string()))?;
    tx.put(fwd, bytes.clone())?;
    tx.put(edge_key(tenant, b'R', &d, &edge.rel_type, &s), bytes)?;
    Ok(stored)
}

/// Remove an edge in both directions; returns it, or `None` if absent.
pub fn remove_edge<S: Storage + ?Sized>(
    tx: &mut Tx<'_, S>,
    tenant: &str,
    src: &str,
    dst: &str,
    rel: &str,
) -> Result<Option<Edge>> {
    let (s, d) = (id_bytes(src)?, id_bytes(dst)?);
    let fwd = edge_key(tenant, b'G', &s, rel, &d);
    let Some(old) = tx.get(&fwd)? else { return Ok(None) };
    tx.delete(fwd)?;
    tx.delete(edge_key(tenant, b'R', &d, rel, &s))?;
    Ok(Some(decode_edge(&old)?))
}

/// Edges of `id` in `dir`, filtered by relationship types (empty: all).
pub fn edges_of<S: Storage + ?Sized>(
    store: &S,
    tenant: &str,
    id: &[u8; 16],
    dir: Direction,
    rels: &[String],
) -> Result<Vec<Edge>> {
    let mut out = Vec::new();
    let tags: &[u8] = match dir {
        Direction::Outgoing => b"G",
        Direction::Incoming => b"R",
        Direction::Both => b"GR",
    };
    for &tag in tags {
        let base = space(tenant, tag, id);
        let prefixes: Vec<Vec<u8>> = if rels.is_empty() {
            vec![base]
        } else {
            rels.iter()
                .map(|r| {
                    let mut p = base.clone();
                    keys::push_str(&mut p, r);
                    p
                })
                .collect()
        };
        for p in prefixes {
            let mut scan = PrefixScan::new(store, &p);
            loop {
                let page = scan.next_page()?;
                if page.is_empty() {
                    break;
                }
                for (_, v) in page {
                    out.push(decode_edge(&v)?);
                }
            }
        }
    }
    Ok(out)
}

/// Remove every edge touching `id`, both directions (hard delete).
pub fn remove_all_edges<S: Storage + ?Sized>(tx: &mut Tx<'_, S>, tenant: &str, id: &[u8; 16]) -> Result<()> {
    let edges = {
        tx.flush()?;
        edges_of(tx.store(), tenant, id, Direction::Both, &[])?
    };
    for e in edges {
        remove_edge(tx, tenant, &e.src, &e.dst, &e.rel_type)?;
    }
    Ok(())
}

/// The neighbour reached over `e` when walking in `dir` from `from`.
fn other_end<'e>(e: &'e Edge, from: &str) -> &'e str {
    if e.src == from { &e.dst } else { &e.src }
}

/// Options of a traversal.
#[derive(Debug, Clone)]
pub struct TraverseOptions {
    /// Edge direction to follow.
    pub direction: Direction,
    /// Maximum hops (1..=10).
    pub depth: u32,
    /// Relationship types to follow on every hop (empty: all).
    pub rel_types: Vec<String>,
    /// Depth-first instead of breadth-first.
    pub dfs: bool,
    /// Nodes to return at most.
    pub limit: u32,
    /// Also walk through soft-deleted nodes.
    pub include_deleted: bool,
}

/// Which of `ids` are soft-deleted (one batched read of the markers).
fn deleted_among<S: Storage + ?Sized>(store: &S, tenant: &str, ids: &[String]) -> Result<HashSet<String>> {
    let keys: Vec<Vec<u8>> =
        ids.iter().map(|i| id_bytes(i).map(|b| deleted_marker(tenant, &b))).collect::<Result<_>>()?;
    Ok(ids.iter().zip(store.get_many(&keys)?).filter(|(_, v)| v.is_some()).map(|(i, _)| i.clone()).collect())
}

/// Walk from `start`; each node once, with its depth and the path that first reached it.
pub fn traverse<S: Storage + ?Sized>(
    store: &S,
    tenant: &str,
    start: &str,
    o: &TraverseOptions,
) -> Result<Vec<Reached>> {
    if o.depth == 0 || o.depth > MAX_DEPTH {
        return Err(Error::InvalidArgument(format!("depth must be 1 to {MAX_DEPTH}, got {}", o.depth)));
    }
    let mut seen: HashSet<String> = HashSet::from([start.to_string()]);
    let mut out = vec![Reached { id: start.to_string(), depth: 0, path: Vec::new() }];
    if o.dfs {
        // Pre-order DFS with an explicit stack; neighbours pushed in reverse to visit them in stored order.
        let mut stack: Vec<(String, u32, Vec<Edge>)> = vec![(start.to_string(), 0, Vec::new())];
        while let Some((node, depth, path)) = stack.pop() {
            if depth >= o.depth {
                continue;
            }
            let edges = edges_of(store, tenant, &id_bytes(&node)?, o.direction, &o.rel_types)?;
            let next: Vec<String> = edges.iter().map(|e| other_end(e, &node).to_string()).collect();
            let dead = if o.include_deleted { HashSet::new() } else { deleted_among(store, tenant, &next)? };
            let mut children = Vec::new();
            for (e, n) in edges.into_iter().zip(next) {
                if dead.contains(&n) || !seen.insert(n.clone()) {
                    continue;
                }
                let mut p = path.clone();
                p.push(e);
                out.push(Reached { id: n.clone(), depth: depth + 1, path: p.clone() });
                if out.len() as u32 >= o.limit {
                    return Ok(out);
                }
                children.push((n, depth + 1, p));
            }
            stack.extend(children.into_iter().rev());
        }
        return Ok(out);
    }
    let mut frontier: Vec<usize> = vec![0];
    for depth in 1..=o.depth {
        let mut next_frontier = Vec::new();
        for &i in &frontier {
            let node = out[i].id.clone();
            let edges = edges_of(store, tenant, &id_bytes(&node)?, o.direction, &o.rel_types)?;
            let next: Vec<String> = edges.iter().map(|e| other_end(e, &node).to_string()).collect();
            let dead = if o.include_deleted { HashSet::new() } else { deleted_among(store, tenant, &next)? };
            for (e, n) in edges.into_iter().zip(next) {
                if dead.contains(&n) || !seen.insert(n.clone()) {
                    continue;
                }
                let mut path = out[i].path.clone();
                path.push(e);
                out.push(Reached { id: n, depth, path });
                next_frontier.push(out.len() - 1);
                if out.len() as u32 >= o.limit {
                    return Ok(out);
                }
            }
        }
        if next_frontier.is_empty() {
            break;
        }
        frontier = next_frontier;
    }
    Ok(out)
}

/// Shortest path from `from` to `to` within `max_depth` hops: fewest hops (BFS),
/// or least total `weight` (Dijkstra, weights must be ≥ 0) when `weighted`.
/// Errors: `NotFound` ("no path within N hops").
pub fn shortest_path<S: Storage + ?Sized>(
    store: &S,
    tenant: &str,
    from: &str,
    to: &str,
    o: &TraverseOptions,
    weighted: bool,
) -> Result<Vec<Edge>> {
    if from == to {
        return Ok(Vec::new());
    }
    let no_path = || Error::NotFound(format!("no path from {from} to {to} within {} hops", o.depth));
    let neighbours = |node: &str| -> Result<Vec<(Edge, String)>> {
        let edges = edges_of(store, tenant, &id_bytes(node)?, o.direction, &o.rel_types)?;
        let next: Vec<String> = edges.iter().map(|e| other_end(e, node).to_string()).collect();
        let dead = if o.include_deleted { HashSet::new() } else { deleted_among(store, tenant, &next)? };
        Ok(edges.into_iter().zip(next).filter(|(_, n)| !dead.contains(n)).collect())
    };
    let mut parent: HashMap<String, (String, Edge)> = HashMap::new();
    let rebuild = |parent: &HashMap<String, (String, Edge)>| {
        let mut path = Vec::new();
        let mut cur = to.to_string();
        while cur != from {
            let (p, e) = parent[&cur].clone();
            path.push(e);
            cur = p;
        }
        path.reverse();
        path
    };
    if !weighted {
        let mut queue = VecDeque::from([(from.to_string(), 0u32)]);
        let mut seen = HashSet::from([from.to_string()]);
        while let Some((node, d)) = queue.pop_front() {
            if d >= o.depth {
                continue;
            }
            for (e, n) in neighbours(&node)? {
                if seen.insert(n.clone()) {
                    parent.insert(n.clone(), (node.clone(), e));
                    if n == to {
                        return Ok(rebuild(&parent));
                    }
                    queue.push_back((n, d + 1));
                }
            }
        }
        return Err(no_path());
    }
    // Dijkstra (E. W. Dijkstra, 1959) over (node, hops) states, so the hop
    // bound never hides a costlier path with fewer hops.
    #[derive(PartialEq)]
    struct State(f64, u32, String);
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
    type Key = (String, u32);
    let mut best: HashMap<Key, f64> = HashMap::from([((from.to_string(), 0), 0.0)]);
    let mut back: HashMap<Key, (Key, Edge)> = HashMap::new();
    let mut heap = BinaryHeap::from([State(0.0, 0, from.to_string())]);
    while let Some(State(cost, hops, node)) = heap.pop() {
        if node == to {
            let mut path = Vec::new();
            let mut cur: Key = (node, hops);
            while let Some((prev, e)) = back.get(&cur) {
                path.push(e.clone());
                cur = prev.clone();
            }
            path.reverse();
            return Ok(path);
        }
        if cost > best.get(&(node.clone(), hops)).copied().unwrap_or(f64::INFINITY) || hops >= o.depth {
            continue;
        }
        for (e, n) in neighbours(&node)? {
            let w = e.weight();
            if w < 0.0 {
                return Err(Error::InvalidArgument(format!("negative weight {w} on edge {} -> {}", e.src, e.dst)));
            }
            let c = cost + w;
            let k = (n.clone(), hops + 1);
            if c < best.get(&k).copied().unwrap_or(f64::INFINITY) {
                best.insert(k.clone(), c);
                back.insert(k, ((node.clone(), hops), e));
                heap.push(State(c, hops + 1, n));
            }
        }
    }
    Err(no_path())
}

/// A new edge value for `put_edge`.
pub fn new_edge(src: &Uuid, dst: &Uuid, rel: &str, properties: Map<String, Value>, now: &str) -> Edge {
    Edge {
        src: src.to_string(),
        dst: dst.to_string(),
        rel_type: rel.to_string(),
        properties,
        created_at: now.to_string(),
    }
}
