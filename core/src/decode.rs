//! Decoding stored entities, optionally keeping only some properties.
//!
//! Scans decode every row; most queries read a few fields. Skipped
//! properties are parsed past without being materialised (no allocation for
//! long descriptions or arrays), which is where a scan spends its time.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::entity::{Entity, InlineEdge};
use crate::error::{Error, Result};

/// Which top-level properties to keep (`None`: all).
pub type Wanted<'a> = Option<&'a HashSet<String>>;

/// Whether `key` is wanted. Queries name a few fields, so a short list is scanned rather
/// than hashed (SipHash per key per row showed in scan profiles).
fn wants(w: &HashSet<String>, key: &str) -> bool {
    if w.len() <= 8 { w.iter().any(|k| k == key) } else { w.contains(key) }
}

/// An object key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

struct Props<'a>(Wanted<'a>);

impl<'de> DeserializeSeed<'de> for Props<'_> {
    type Value = Map<String, Value>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Props<'_> {
    type Value = Map<String, Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of properties")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if self.0.is_none_or(|w| wants(w, &key)) {
                out.insert(key.into_owned(), map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

struct EntitySeed<'a>(Wanted<'a>);

impl<'de> DeserializeSeed<'de> for EntitySeed<'_> {
    type Value = Entity;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Entity, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntitySeed<'_> {
    type Value = Entity;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stored entity")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Entity, A::Error> {
        let mut e = Entity {
            id: String::new(),
            entity_type: String::new(),
            created_at: String::new(),
            modified_at: String::new(),
            deleted_at: None,
            edges: Vec::new(),
            properties: Map::new(),
        };
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match key.as_ref() {
                "id" => e.id = map.next_value()?,
                "entity_type" | "created_at" | "modified_at" if self.0.is_some_and(|w| !wants(w, &key)) => {
                    map.next_value::<IgnoredAny>()?;
                }
                "entity_type" => e.entity_type = map.next_value()?,
                "created_at" => e.created_at = map.next_value()?,
                "modified_at" => e.modified_at = map.next_value()?,
                "deleted_at" => e.deleted_at = map.next_value()?,
                "edges" if self.0.is_none() => e.edges = map.next_value::<Vec<InlineEdge>>()?,
                "properties" => e.properties = map.next_value_seed(Props(self.0))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(e)
    }
}

/// Decode a stored entity, keeping only the `wanted` properties (and no inline edges) when given;
/// `entity_type`, `created_at` and `modified_at` are then decoded only when named in `wanted`
/// (`id` and `deleted_at` always are).
pub fn entity(bytes: &[u8], wanted: Wanted<'_>) -> Result<Entity> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    EntitySeed(wanted).deserialize(&mut de).map_err(|e| Error::Storage(format!("corrupt entity record: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_only_wanted_properties() {
        let stored = json!({"id": "x", "entity_type": "t", "created_at": "c", "modified_at": "m", "deleted_at": null,
                            "edges": [{"dst": "y", "rel_type": "r"}], "properties": {"a": 1, "b": {"c": [1, 2]}, "d": "long"}});
        let bytes = serde_json::to_vec(&stored).unwrap();
        let all = entity(&bytes, None).unwrap();
        assert_eq!(all.properties.len(), 3);
        assert_eq!(all.edges.len(), 1);
        let wanted: HashSet<String> = ["b".to_string()].into();
        let some = entity(&bytes, Some(&wanted)).unwrap();
        assert_eq!(serde_json::Value::Object(some.properties), json!({"b": {"c": [1, 2]}}));
        assert_eq!(some.id, "x");
        // Keys with escapes are compared decoded; many wanted fields go through the set.
        let escaped = br#"{"id":"x","deleted_at":null,"properties":{"a\"q":1,"\u0062":2,"c":3}}"#;
        let some = entity(escaped, Some(&["b".to_string(), "a\"q".to_string()].into())).unwrap();
        assert_eq!(serde_json::Value::Object(some.properties), json!({"a\"q": 1, "b": 2}));
        let many: HashSet<String> = (0..20).map(|i| format!("f{i}")).chain(["c".to_string()]).collect();
        let some = entity(escaped, Some(&many)).unwrap();
        assert_eq!(serde_json::Value::Object(some.properties), json!({"c": 3}));
    }
}
