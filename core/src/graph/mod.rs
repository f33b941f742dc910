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
//! T <tenant> H                          -> u64 LE      (generation: bumped by every call that writes G, R or D)
//! ```
//!
//! The generation lets the engine keep adjacency lists read by traversals in
//! memory across calls (`graph_walk`) and drop them when the graph changed,
//! whichever process changed it.
//!
//! Inline edges written in an entity's `edges` array create the same records.
//! Hard-deleting an entity removes its edges in both directions; soft-deleted
//! nodes keep their edges but traversal skips them.

pub(crate) mod refs;
pub(crate) mod walk;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::{PrefixScan, Tx};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Edges leaving the node (the default).
    #[default]
    Outgoing,
    /// Edges arriving at the node.
    Incoming,
    /// Both.
    Both,
}

impl std::str::FromStr for Direction {
    type Err = Error;
    /// `out`/`outgoing`, `in`/`incoming`, `both` (any case). Errors: `InvalidArgument`.
    fn from_str(s: &str) -> Result<Self> {
        Direction::parse(s)
    }
}

/// Traversal order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Breadth-first (depths are hop distances; the default).
    #[default]
    Bfs,
    /// Depth-first, pre-order.
    Dfs,
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

/// Options of a traversal or a shortest-path search.
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

pub(crate) fn space(tenant: &str, tag: u8, id: &[u8; 16]) -> Vec<u8> {
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

/// Key of the tenant's graph generation counter.
pub fn generation_key(tenant: &str) -> Vec<u8> {
    keys::tenant_space(tenant, keys::GRAPH_GENERATION)
}

/// Mark the graph of `tenant` changed by this call (its generation is bumped at commit).
pub fn touch<S: Storage + ?Sized>(tx: &mut Tx<'_, S>, tenant: &str) {
    tx.bump_on_commit(generation_key(tenant));
}

/// Key of the soft-delete marker of `id`.
pub fn deleted_marker(tenant: &str, id: &[u8; 16]) -> Vec<u8> {
    space(tenant, keys::DELETED, id)
}

pub(crate) fn id_bytes(id: &str) -> Result<[u8; 16]> {
    Ok(*crate::model::ids::parse_id(id)?.as_bytes())
}

pub(crate) fn decode_edge(bytes: &[u8]) -> Result<Edge> {
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
    let fwd = edge_key(tenant, keys::EDGE_OUT, &s, &edge.rel_type, &d);
    let stored = match tx.get(&fwd)? {
        Some(old) => Edge { created_at: decode_edge(&old)?.created_at, ..edge.clone() },
        None => edge.clone(),
    };
    let bytes = serde_json::to_vec(&stored).map_err(|e| Error::Internal(e.to_string()))?;
    touch(tx, tenant);
    tx.put(fwd, bytes.clone())?;
    tx.put(edge_key(tenant, keys::EDGE_IN, &d, &edge.rel_type, &s), bytes)?;
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
    let fwd = edge_key(tenant, keys::EDGE_OUT, &s, rel, &d);
    let Some(old) = tx.get(&fwd)? else { return Ok(None) };
    touch(tx, tenant);
    tx.delete(fwd)?;
    tx.delete(edge_key(tenant, keys::EDGE_IN, &d, rel, &s))?;
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
