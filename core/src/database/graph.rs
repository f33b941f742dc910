//! Graph operations of a [`Database`]: edges, traversal and shortest paths.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::database::{Database, parse_json};
use crate::error::{Error, IssueKind, Result};
use crate::graph::walk::{self, Reader};
use crate::graph::{self, Direction, TraverseOptions};
use crate::json::record::decode_entity;
use crate::model::entity::{InlineEdge, merge_edges};
use crate::model::ids::parse_id;
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::Tx;

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(e.to_string()))
}

impl<S: Storage> Database<S> {
    /// The id of an entity given by id or by natural key; errors if none, or if a key is ambiguous.
    pub(crate) fn resolve_node(&self, tx: &Tx<'_, S>, id_or_key: &str) -> Result<Uuid> {
        if let Ok(id) = Uuid::parse_str(id_or_key) {
            return match tx.get(&crate::storage::keys::id_index(self.tenant(), id.as_bytes()))? {
                Some(_) => Ok(id),
                None => Err(Error::NotFound(format!("no entity with id {id_or_key} in tenant '{}'", self.tenant()))),
            };
        }
        let hits = self.lookup(id_or_key)?;
        match hits.as_slice() {
            [one] => {
                let e: Value = serde_json::from_str(one).map_err(|e| Error::Storage(e.to_string()))?;
                parse_id(e["id"].as_str().unwrap_or_default())
            }
            [] => Err(Error::NotFound(format!("no entity with id or key {id_or_key:?} in tenant '{}'", self.tenant()))),
            many => Err(Error::InvalidArgument(format!(
                "key {id_or_key:?} names {} entities in different tables; pass an id",
                many.len()
            ))),
        }
    }

    /// Add (upsert) the edge `src -[rel_type]-> dst` with optional JSON-object properties.
    /// Both endpoints (ids or natural keys) must exist in the tenant. Returns the edge as JSON.
    /// Errors: `NotFound`, `InvalidArgument`, `Storage`.
    pub fn add_edge(&self, src: &str, dst: &str, rel_type: &str, properties: Option<&str>) -> Result<String> {
        let props = match properties.map(|p| parse_json("edge properties", p)).transpose()? {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(Error::InvalidArgument("edge properties must be a JSON object".into())),
        };
        let mut tx = self.begin(true)?;
        let (s, d) = (self.resolve_node(&tx, src)?, self.resolve_node(&tx, dst)?);
        let edge = graph::put_edge(
            &mut tx,
            self.tenant(),
            &graph::new_edge(&s, &d, rel_type, props, &crate::model::time::now()),
        )?;
        self.show_edges(&mut tx, &s, std::slice::from_ref(&edge), &[])?;
        tx.commit()?;
        to_json(&edge)
    }

    /// Keep the `edges` field of `src`'s row in step with edge records an edge call wrote
    /// (`added`, merged in as inline edges are) or removed (`removed`: `(dst, rel_type)`), so an
    /// entity shows its edges however they were added. The row's text alone changes: what it
    /// owns (indexes, row copies, vectors) does not depend on `edges`, and `modified_at` stays.
    fn show_edges(
        &self,
        tx: &mut Tx<'_, S>,
        src: &Uuid,
        added: &[graph::Edge],
        removed: &[(String, String)],
    ) -> Result<()> {
        let Some((table, bytes)) = self.locate(tx, src)? else { return Ok(()) };
        let mut entity = decode_entity(&bytes)?;
        let before = entity.edges.clone();
        // Inline edges keep `dst` as written; compare in the canonical form edge records use.
        for e in &mut entity.edges {
            if let Ok(u) = Uuid::parse_str(&e.dst) {
                e.dst = u.to_string();
            }
        }
        let new = added
            .iter()
            .map(|e| InlineEdge {
                dst: e.dst.clone(),
                rel_type: e.rel_type.clone(),
                properties: e.properties.clone(),
                created_at: e.created_at.clone(),
            })
            .collect();
        entity.edges = merge_edges(&entity.edges, new);
        entity.edges.retain(|e| !removed.iter().any(|(dst, rel)| e.dst == *dst && e.rel_type == *rel));
        if entity.edges != before {
            tx.put(keys::entity(self.tenant(), &table, src.as_bytes()), crate::json::write::entity(&entity))?;
        }
        Ok(())
    }

    /// Add (upsert) many edges, all or none. Each item is a JSON object
    /// `{src, dst, rel_type, properties?}` whose ends are ids or natural keys (each key
    /// resolved once per call). Returns the number written. A bad item is a `Validation`
    /// issue whose `loc` starts with its index. Errors: `Validation`, `Storage`.
    pub fn add_edges(&self, edges: &[String]) -> Result<u32> {
        let mut tx = self.begin(true)?;
        let now = crate::model::time::now();
        let mut resolved: std::collections::HashMap<String, Uuid> = std::collections::HashMap::new();
        // Edges written, by source, to show in each source row once at the end.
        let mut by_src: std::collections::BTreeMap<Uuid, Vec<graph::Edge>> = std::collections::BTreeMap::new();
        let bad = |i: usize, field: &str, kind: IssueKind, msg: String| {
            let mut loc = vec![crate::PathSegment::Index(i as u32)];
            if !field.is_empty() {
                loc.push(crate::PathSegment::Field(field.into()));
            }
            Error::Validation(vec![crate::Issue { loc, kind, msg }])
        };
        for (i, text) in edges.iter().enumerate() {
            let Ok(Value::Object(mut e)) = serde_json::from_str::<Value>(text) else {
                return Err(bad(
                    i,
                    "",
                    IssueKind::JsonInvalid,
                    "an edge must be a JSON object {src, dst, rel_type, properties}".into(),
                ));
            };
            let mut ends = Vec::new();
            for field in ["src", "dst"] {
                let Some(Value::String(v)) = e.remove(field) else {
                    return Err(bad(i, field, IssueKind::Missing, format!("{field} must be an id or natural key")));
                };
                let id = match resolved.get(&v) {
                    Some(id) => *id,
                    None => {
                        let id = self
                            .resolve_node(&tx, &v)
                            .map_err(|err| bad(i, field, IssueKind::EdgeTargetMissing, err.to_string()))?;
                        resolved.insert(v, id);
                        id
                    }
                };
                ends.push(id);
            }
            let Some(Value::String(rel)) = e.remove("rel_type") else {
                return Err(bad(i, "rel_type", IssueKind::Missing, "rel_type must be a string".into()));
            };
            let props = match e.remove("properties") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(m)) => m,
                Some(_) => {
                    return Err(bad(i, "properties", IssueKind::DictType, "properties must be an object".into()));
                }
            };
            let edge = graph::put_edge(&mut tx, self.tenant(), &graph::new_edge(&ends[0], &ends[1], &rel, props, &now))
                .map_err(|err| bad(i, "rel_type", IssueKind::ValueError, err.to_string()))?;
            by_src.entry(ends[0]).or_default().push(edge);
        }
        for (src, added) in by_src {
            self.show_edges(&mut tx, &src, &added, &[])?;
        }
        tx.commit()?;
        Ok(edges.len() as u32)
    }

    /// Edges of `id` (or natural key) in `direction`, filtered by `rel_types` (empty: all), as a JSON array.
    pub fn get_edges(&self, id: &str, direction: Direction, rel_types: &[String]) -> Result<String> {
        let tx = self.begin(false)?;
        let node = self.resolve_node(&tx, id)?;
        to_json(&graph::edges_of(self.store(), self.tenant(), node.as_bytes(), direction, rel_types)?)
    }

    /// Remove the edge `src -[rel_type]-> dst`; returns it. Errors: `NotFound`.
    pub fn delete_edge(&self, src: &str, dst: &str, rel_type: &str) -> Result<String> {
        let mut tx = self.begin(true)?;
        let (s, d) = (self.resolve_node(&tx, src)?, self.resolve_node(&tx, dst)?);
        let Some(edge) = graph::remove_edge(&mut tx, self.tenant(), &s.to_string(), &d.to_string(), rel_type)? else {
            return Err(Error::NotFound(format!("no edge {src} -[{rel_type}]-> {dst}")));
        };
        self.show_edges(&mut tx, &s, &[], &[(d.to_string(), rel_type.to_string())])?;
        tx.commit()?;
        to_json(&edge)
    }

    /// Walk from `start` (id or natural key); returns a JSON array of `{id, depth, path}`,
    /// the start first at depth 0. Errors: `NotFound`, `InvalidArgument` (depth outside 1..=10).
    pub fn traverse(&self, start: &str, options: &TraverseOptions) -> Result<String> {
        let tx = self.begin(false)?;
        // An id start is checked in the same storage read as the graph generation.
        let id = Uuid::parse_str(start).ok();
        let node = match id {
            Some(id) => id,
            None => self.resolve_node(&tx, start)?,
        };
        let mut cache = self.adjacency.borrow_mut();
        let (mut reader, exists) =
            Reader::open_probing(self.store(), self.tenant(), &mut cache, id.as_ref().map(Uuid::as_bytes))?;
        if id.is_some() && !exists {
            return Err(Error::NotFound(format!("no entity with id {start} in tenant '{}'", self.tenant())));
        }
        walk::traverse(&mut reader, *node.as_bytes(), options)
    }

    /// Shortest path from `source` to `target` (ids or natural keys) within `options.depth` hops:
    /// `{source, target, hops, cost, nodes, path}`. Errors: `NotFound` ("no path within N hops").
    pub fn shortest_path(
        &self,
        source: &str,
        target: &str,
        options: &TraverseOptions,
        weighted: bool,
    ) -> Result<String> {
        let tx = self.begin(false)?;
        let (s, t) = (self.resolve_node(&tx, source)?, self.resolve_node(&tx, target)?);
        let path = {
            let mut cache = self.adjacency.borrow_mut();
            let mut reader = Reader::open(self.store(), self.tenant(), &mut cache)?;
            walk::shortest_path(&mut reader, *s.as_bytes(), *t.as_bytes(), options, weighted)?
        };
        let (s, t) = (s.to_string(), t.to_string());
        let mut nodes = vec![s.clone()];
        let mut cur = s.clone();
        for e in &path {
            cur = if e.src == cur { e.dst.clone() } else { e.src.clone() };
            nodes.push(cur.clone());
        }
        let cost: f64 = path.iter().map(graph::Edge::weight).sum();
        to_json(&serde_json::json!({
            "source": s, "target": t, "hops": path.len(),
            "cost": if weighted { Value::from(cost) } else { Value::from(path.len()) },
            "nodes": nodes, "path": path,
        }))
    }
}
