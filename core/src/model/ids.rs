//! Deterministic entity ids.
//!
//! Rule (first that applies): a string `uri` hashes `"{table}:{uri}:{chunk_ordinal}"`
//! (ordinal defaults to 0); else the schema's `key_field` value, else `key`, else
//! `name`, each hashing `"{table}:{value}"`; else a random UUIDv4. The id is the
//! first 16 bytes of BLAKE3 of that UTF-8 string with the version nibble set to 5
//! and the RFC 4122 variant bits (RFC 4122 §4.1.1, §4.1.3), as the REM predecessor did,
//! so ids stay compatible with it.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{Error, Result};

/// Render a JSON value as id/key text: strings raw, numbers and booleans via
/// `Display`, anything else compact JSON. `null` has no key text.
pub fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// The id for `input` of string `name` hashed as described in the module docs.
pub fn hashed_id(input: &str) -> Uuid {
    let hash = blake3::hash(input.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash.as_bytes()[..16]);
    b[6] = (b[6] & 0x0F) | 0x50;
    b[8] = (b[8] & 0x3F) | 0x80;
    Uuid::from_bytes(b)
}

/// What an entity's identity derives from.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The entity id.
    pub id: Uuid,
    /// The natural key indexed for `lookup` (the uri itself for uri rows), if any.
    pub key: Option<String>,
}

/// The natural key of `props`: `uri`, else `key_field`, else `key`, else `name`.
pub fn natural_key(props: &Map<String, Value>, key_field: Option<&str>) -> Option<String> {
    if let Some(Value::String(uri)) = props.get("uri") {
        return Some(uri.clone());
    }
    let candidates = key_field.into_iter().chain(["key", "name"]);
    for field in candidates {
        if let Some(text) = props.get(field).and_then(key_text) {
            return Some(text);
        }
    }
    None
}

/// The identity of `props` written to `table` (see the module docs for the rule).
pub fn identity(table: &str, props: &Map<String, Value>, key_field: Option<&str>) -> Identity {
    if let Some(Value::String(uri)) = props.get("uri") {
        let ordinal = props.get("chunk_ordinal").and_then(Value::as_u64).unwrap_or(0);
        return Identity { id: hashed_id(&format!("{table}:{uri}:{ordinal}")), key: Some(uri.clone()) };
    }
    match natural_key(props, key_field) {
        Some(key) => Identity { id: hashed_id(&format!("{table}:{key}")), key: Some(key) },
        None => Identity { id: Uuid::new_v4(), key: None },
    }
}

/// The id `text` names when it is a UUID in the hyphenated form ids are written in (36
/// characters); `None` for anything else (32 bare hex digits, braces, `urn:uuid:` included).
pub fn canonical_id(text: &str) -> Option<Uuid> {
    if text.len() != 36 { None } else { Uuid::parse_str(text).ok() }
}

/// Parse an entity id.
pub fn parse_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| {
        Error::InvalidArgument(format!(
            "{} is not an entity id (a UUID like 942881f7-a48a-5e6f-bcfb-cc9fc555fded)",
            crate::error::preview(&format!("{id:?}"))
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn reference_ids_match_the_spec() {
        assert_eq!(hashed_id("person:Alice").to_string(), "942881f7-a48a-5e6f-bcfb-cc9fc555fded");
        let r = identity("resources", &props(json!({"uri": "https://docs.python.org"})), None);
        assert_eq!(r.id.to_string(), "a9cbc471-edfd-577e-b375-1734246420c2");
        assert_eq!(r.key.as_deref(), Some("https://docs.python.org"));
    }

    #[test]
    fn precedence_is_uri_then_key_field_then_key_then_name() {
        let p = props(json!({"uri": "u", "chunk_ordinal": 2, "code": "c", "key": "k", "name": "n"}));
        assert_eq!(identity("t", &p, Some("code")).id, hashed_id("t:u:2"));
        let p = props(json!({"code": 12, "key": "k", "name": "n"}));
        assert_eq!(identity("t", &p, Some("code")).id, hashed_id("t:12"));
        let p = props(json!({"key": "k", "name": "n"}));
        assert_eq!(identity("t", &p, Some("code")).id, hashed_id("t:k"));
        let p = props(json!({"name": "n"}));
        assert_eq!(identity("t", &p, None), Identity { id: hashed_id("t:n"), key: Some("n".into()) });
    }

    #[test]
    fn no_key_gives_random_v4() {
        let p = props(json!({"x": 1}));
        let a = identity("t", &p, None);
        let b = identity("t", &p, None);
        assert_ne!(a.id, b.id);
        assert_eq!(a.id.get_version_num(), 4);
        assert_eq!(a.key, None);
    }

    #[test]
    fn hashed_ids_are_version_5_rfc4122() {
        let id = hashed_id("anything");
        assert_eq!(id.get_version_num(), 5);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
    }
}
