//! The stored entity: system fields plus the user's properties.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Issue, IssueKind, PathSegment};

/// An inline edge written in an entity's `edges` array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlineEdge {
    /// Target entity id.
    pub dst: String,
    /// Relationship type, e.g. `depends_on`.
    pub rel_type: String,
    /// Edge properties (`weight` is a number by convention).
    #[serde(default)]
    pub properties: Map<String, Value>,
    /// RFC 3339 UTC time the edge was first written.
    #[serde(default)]
    pub created_at: String,
}

/// An entity as stored and returned (`get`, `list`, `insert`). `Default` is an empty, live
/// entity whose fields decoders fill in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// UUID string.
    pub id: String,
    /// The table it belongs to.
    pub entity_type: String,
    /// RFC 3339 UTC, microseconds, set on first insert and kept by upserts.
    pub created_at: String,
    /// RFC 3339 UTC, microseconds, set on every write.
    pub modified_at: String,
    /// RFC 3339 UTC when soft-deleted, else `null`.
    pub deleted_at: Option<String>,
    /// Inline edges.
    #[serde(default)]
    pub edges: Vec<InlineEdge>,
    /// The validated user data (schema defaults applied).
    pub properties: Map<String, Value>,
}

impl Entity {
    /// Whether the entity is live (not soft-deleted).
    pub fn is_live(&self) -> bool {
        self.deleted_at.is_none()
    }
}

/// Parse an `edges` input array into inline edges, collecting issues with `loc` under `edges`.
pub fn parse_edges(value: Value, now: &str, issues: &mut Vec<Issue>) -> Vec<InlineEdge> {
    let issue = |loc: Vec<PathSegment>, kind: IssueKind, msg: &str| Issue { loc, kind, msg: msg.into() };
    let edges_loc = || vec![PathSegment::Field("edges".into())];
    let Value::Array(items) = value else {
        issues.push(issue(edges_loc(), IssueKind::ListType, "edges must be a list of {dst, rel_type, properties}"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let at = |field: &str| {
            let mut l = edges_loc();
            l.push(PathSegment::Index(i as u32));
            if !field.is_empty() {
                l.push(PathSegment::Field(field.into()));
            }
            l
        };
        let Value::Object(mut obj) = item else {
            issues.push(issue(at(""), IssueKind::DictType, "an edge must be an object {dst, rel_type, properties}"));
            continue;
        };
        let dst = match obj.remove("dst") {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            None => {
                issues.push(issue(at("dst"), IssueKind::Missing, "Field required"));
                None
            }
            Some(_) => {
                issues.push(issue(at("dst"), IssueKind::StringType, "dst must be a non-empty string id"));
                None
            }
        };
        let rel = match obj.remove("rel_type") {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            None => {
                issues.push(issue(at("rel_type"), IssueKind::Missing, "Field required"));
                None
            }
            Some(_) => {
                issues.push(issue(at("rel_type"), IssueKind::StringType, "rel_type must be a non-empty string"));
                None
            }
        };
        let properties = match obj.remove("properties") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => {
                issues.push(issue(at("properties"), IssueKind::DictType, "edge properties must be an object"));
                Map::new()
            }
        };
        if let (Some(dst), Some(rel_type)) = (dst, rel) {
            out.push(InlineEdge { dst, rel_type, properties, created_at: now.to_string() });
        }
    }
    out
}

/// Merge `new` edges into `old` by (dst, rel_type): matching edges take the new
/// properties and keep their `created_at`; others are appended; none are removed.
pub fn merge_edges(old: &[InlineEdge], new: Vec<InlineEdge>) -> Vec<InlineEdge> {
    let mut merged = old.to_vec();
    for e in new {
        match merged.iter_mut().find(|m| m.dst == e.dst && m.rel_type == e.rel_type) {
            Some(m) => m.properties = e.properties,
            None => merged.push(e),
        }
    }
    merged
}
