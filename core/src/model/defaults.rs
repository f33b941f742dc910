//! Schema `default`s, applied to absent properties on every write.
//!
//! The rules walk the JSON Schema document: recurse into present objects and
//! arrays through `$ref`, `allOf` and the first fitting branch of
//! `anyOf`/`oneOf` (what Pydantic emits for `Optional[Model]`). Interpreting
//! the document on each write cost a quarter of a batch insert in profiles (a
//! hashed key lookup per keyword per node, also under arrays with no defaults
//! anywhere below), so the walk is compiled once per schema into a graph of
//! [`Node`]s, and parts of the schema that cannot produce a default are pruned.

use std::collections::HashMap;

use serde_json::Value;

/// Deepest nesting the walk follows (a recursive schema stops here).
const MAX_DEPTH: u32 = 64;

/// The compiled default rules of one schema.
#[derive(Debug)]
pub(crate) struct Defaults {
    nodes: Vec<Node>,
}

/// One resolved subschema.
#[derive(Debug, Default)]
struct Node {
    /// Whether this node or anything reachable from it sets a default.
    active: bool,
    /// `allOf` branches: all apply.
    all_of: Vec<usize>,
    /// `anyOf` then `oneOf` branches: the first that fits the value applies.
    one_of: Vec<Vec<Branch>>,
    /// Properties that have a default or an active subschema.
    props: Vec<Prop>,
    /// The `items` subschema.
    items: Option<usize>,
}

#[derive(Debug)]
struct Branch {
    fits_object: bool,
    fits_array: bool,
    node: usize,
}

#[derive(Debug)]
struct Prop {
    name: String,
    default: Option<Value>,
    node: usize,
}

/// Follow `$ref`s (local JSON pointers, up to 32 hops) to the schema they name.
pub(crate) fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..32 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => match root.pointer(&r[1..]) {
                Some(target) => current = target,
                None => return current,
            },
            _ => return current,
        }
    }
    current
}

struct Compiler<'a> {
    root: &'a Value,
    nodes: Vec<Node>,
    /// Resolved subschema (by address inside `root`) → node index; makes recursive schemas finite.
    seen: HashMap<*const Value, usize>,
}

impl<'a> Compiler<'a> {
    fn node(&mut self, schema: &'a Value) -> usize {
        let schema = resolve(self.root, schema);
        if let Some(&n) = self.seen.get(&(schema as *const Value)) {
            return n;
        }
        let n = self.nodes.len();
        self.nodes.push(Node::default());
        self.seen.insert(schema as *const Value, n);
        let branches = |key: &str| schema.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let all_of: Vec<usize> = branches("allOf").iter().map(|b| self.node(b)).collect();
        let mut one_of = Vec::new();
        for key in ["anyOf", "oneOf"] {
            let list = branches(key);
            if list.is_empty() {
                continue;
            }
            let compiled = list
                .iter()
                .map(|b| {
                    let r = resolve(self.root, b);
                    Branch {
                        fits_object: r.get("properties").is_some() || r.get("type") == Some(&Value::from("object")),
                        fits_array: r.get("items").is_some(),
                        node: self.node(b),
                    }
                })
                .collect();
            one_of.push(compiled);
        }
        let mut props = Vec::new();
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, sub) in properties {
                // A sibling `default` beside `$ref` wins over the target's.
                let default = sub.get("default").or_else(|| resolve(self.root, sub).get("default")).cloned();
                props.push(Prop { name: name.clone(), default, node: self.node(sub) });
            }
        }
        let items = schema.get("items").filter(|s| s.is_object()).map(|s| self.node(s));
        self.nodes[n] = Node { active: false, all_of, one_of, props, items };
        n
    }
}

impl Defaults {
    /// Compile the default rules of the schema document `root`.
    pub(crate) fn compile(root: &Value) -> Defaults {
        let mut c = Compiler { root, nodes: Vec::new(), seen: HashMap::new() };
        c.node(root);
        let mut nodes = c.nodes;
        // A node is active when it sets a default or reaches an active node; iterate to a fixed
        // point (schemas may be recursive).
        loop {
            let mut changed = false;
            for i in 0..nodes.len() {
                if nodes[i].active {
                    continue;
                }
                let n = &nodes[i];
                let active = n.props.iter().any(|p| p.default.is_some() || nodes[p.node].active)
                    || n.all_of.iter().any(|&b| nodes[b].active)
                    || n.one_of.iter().flatten().any(|b| nodes[b.node].active)
                    || n.items.is_some_and(|it| nodes[it].active);
                if active {
                    nodes[i].active = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let active: Vec<bool> = nodes.iter().map(|n| n.active).collect();
        for n in &mut nodes {
            n.props.retain(|p| p.default.is_some() || active[p.node]);
        }
        Defaults { nodes }
    }

    /// Fill in the defaults of absent properties in `value`; returns whether any was filled.
    pub(crate) fn apply(&self, value: &mut Value) -> bool {
        self.walk(0, value, 0)
    }

    fn walk(&self, n: usize, value: &mut Value, depth: u32) -> bool {
        let node = &self.nodes[n];
        if depth > MAX_DEPTH || !node.active {
            return false;
        }
        let mut filled = false;
        for &b in &node.all_of {
            filled |= self.walk(b, value, depth + 1);
        }
        for branches in &node.one_of {
            let fitting = branches.iter().find(|b| match value {
                Value::Object(_) => b.fits_object,
                Value::Array(_) => b.fits_array,
                _ => false,
            });
            if let Some(b) = fitting {
                filled |= self.walk(b.node, value, depth + 1);
            }
        }
        match value {
            Value::Object(obj) => {
                for p in &node.props {
                    match obj.get_mut(&p.name) {
                        Some(v) => filled |= self.walk(p.node, v, depth + 1),
                        None => {
                            if let Some(d) = &p.default {
                                obj.insert(p.name.clone(), d.clone());
                                filled = true;
                            }
                        }
                    }
                }
            }
            Value::Array(items) => {
                if let Some(it) = node.items {
                    for item in items {
                        filled |= self.walk(it, item, depth + 1);
                    }
                }
            }
            _ => {}
        }
        filled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(schema: Value, mut value: Value) -> Value {
        Defaults::compile(&schema).apply(&mut value);
        value
    }

    #[test]
    fn fills_nested_defaults_through_refs_and_branches() {
        let schema = json!({
            "$defs": {
                "Address": {"type": "object", "properties": {"city": {"type": "string", "default": "Paris"},
                                                             "zip": {"type": "string"}}},
                "Tag": {"type": "object", "properties": {"weight": {"type": "number", "default": 1.0}}}
            },
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "role": {"type": "string", "default": "member"},
                "home": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/Address"}], "default": null},
                "work": {"allOf": [{"$ref": "#/$defs/Address"}]},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "default": []},
                "level": {"$ref": "#/$defs/Address", "default": {"city": "Rome"}}
            }
        });
        let out =
            apply(schema.clone(), json!({"name": "a", "home": {}, "work": {"zip": "1"}, "tags": [{}, {"weight": 3}]}));
        assert_eq!(
            out,
            json!({"name": "a", "home": {"city": "Paris"}, "work": {"zip": "1", "city": "Paris"},
                   "tags": [{"weight": 1.0}, {"weight": 3}], "role": "member", "level": {"city": "Rome"}})
        );
        // Present values are never replaced; a null optional stays null.
        let out = apply(schema, json!({"role": "admin", "home": null}));
        assert_eq!(out, json!({"role": "admin", "home": null, "tags": [], "level": {"city": "Rome"}}));
    }

    #[test]
    fn recursive_schemas_compile_and_stop_at_the_depth_limit() {
        let schema = json!({
            "$defs": {"Node": {"type": "object", "properties": {
                "label": {"type": "string", "default": "?"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
            }}},
            "$ref": "#/$defs/Node"
        });
        let defaults = Defaults::compile(&schema);
        assert_eq!(defaults.nodes.len(), 3, "the root is Node; then `label` and the `children` array");
        let out = apply(schema.clone(), json!({"children": [{"children": [{}]}]}));
        assert_eq!(out, json!({"children": [{"children": [{"label": "?"}], "label": "?"}], "label": "?"}));
        // 200 levels deep: the walk stops at MAX_DEPTH instead of overflowing the stack.
        let mut deep = json!({});
        for _ in 0..200 {
            deep = json!({"children": [deep]});
        }
        let out = apply(schema, deep);
        assert_eq!(out["label"], "?");
    }

    #[test]
    fn subschemas_without_defaults_are_pruned() {
        let schema = json!({"type": "object", "properties": {
            "deps": {"type": "array", "items": {"type": "array", "items": {"type": "object",
                     "properties": {"name": {"type": "string"}}}}},
            "tags": {"type": "array", "default": []}
        }});
        let d = Defaults::compile(&schema);
        assert!(d.nodes[0].active);
        assert_eq!(d.nodes[0].props.len(), 1, "only `tags` can set anything");
        assert!(d.nodes.iter().skip(1).all(|n| !n.active));
        assert!(!Defaults::compile(&json!({"properties": {"a": {}}})).nodes[0].active);
    }
}
