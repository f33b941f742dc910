//! Decoding stored entities, optionally keeping only some properties.
//!
//! Scans decode every row; most queries read a few fields. Skipped
//! properties are stepped over without being parsed (no allocation for long
//! descriptions or arrays), which is where a scan spends its time.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::entity::Entity;

/// Which top-level properties to keep (`None`: all).
pub type Wanted<'a> = Option<&'a HashSet<String>>;

/// Decode a stored entity, keeping only the `wanted` properties (and no inline edges) when given;
/// `entity_type`, `created_at` and `modified_at` are then decoded only when named in `wanted`
/// (`id` and `deleted_at` always are).
///
/// With `wanted`, the record is read by `Cursor`: values nobody asked for are stepped over
/// without being parsed (strings found with `memchr2` on the quote and backslash, SIMD in the
/// component), and only wanted values go through `serde_json`. Without, this is
/// [`decode_entity`].
pub fn entity(bytes: &[u8], wanted: Wanted<'_>) -> Result<Entity> {
    match wanted {
        Some(w) => partial(bytes, w).map_err(Error::corrupt_record),
        None => decode_entity(bytes),
    }
}

/// Why a stored record could not be read.
#[derive(Debug)]
enum Bad {
    /// The bytes end or break the JSON grammar at this offset.
    At(usize),
    /// A wanted value failed to parse.
    Json(serde_json::Error),
}

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bad::At(i) => write!(f, "unexpected byte or end at offset {i}"),
            Bad::Json(e) => e.fmt(f),
        }
    }
}

impl From<serde_json::Error> for Bad {
    fn from(e: serde_json::Error) -> Self {
        Bad::Json(e)
    }
}

/// A forward reader over one JSON text that finds value boundaries without building values.
/// It trusts the grammar only as far as it must: anything it cannot step over is an error, never
/// a panic, and every value handed out is parsed (and checked) by `serde_json`.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// The next non-space byte, consumed.
    fn next(&mut self) -> std::result::Result<u8, Bad> {
        self.ws();
        let c = *self.b.get(self.i).ok_or(Bad::At(self.i))?;
        self.i += 1;
        Ok(c)
    }

    fn expect(&mut self, c: u8) -> std::result::Result<(), Bad> {
        if self.next()? == c { Ok(()) } else { Err(Bad::At(self.i - 1)) }
    }

    /// Step over the rest of a string whose opening quote was consumed; returns the raw
    /// contents and whether they hold an escape.
    fn rest_of_string(&mut self) -> std::result::Result<(&'a [u8], bool), Bad> {
        let start = self.i;
        let mut escaped = false;
        loop {
            let at = memchr::memchr2(b'"', b'\\', &self.b[self.i..]).ok_or(Bad::At(self.b.len()))?;
            self.i += at;
            if self.b[self.i] == b'"' {
                self.i += 1;
                return Ok((&self.b[start..self.i - 1], escaped));
            }
            escaped = true;
            self.i += 2; // the backslash and the byte it escapes (`\uXXXX` digits are plain bytes)
            if self.i > self.b.len() {
                return Err(Bad::At(self.b.len()));
            }
        }
    }

    /// Step over one value of any type; returns its bytes.
    fn value(&mut self) -> std::result::Result<&'a [u8], Bad> {
        self.ws();
        let start = self.i;
        let mut depth = 0usize;
        loop {
            let c = *self.b.get(self.i).ok_or(Bad::At(self.i))?;
            self.i += 1;
            match c {
                b'"' => {
                    self.rest_of_string()?;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1).ok_or(Bad::At(self.i - 1))?;
                }
                _ if depth == 0 => {
                    // A scalar: runs to the next delimiter.
                    while let Some(c) = self.b.get(self.i) {
                        if matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                            break;
                        }
                        self.i += 1;
                    }
                }
                _ => {}
            }
            if depth == 0 {
                return Ok(&self.b[start..self.i]);
            }
        }
    }

    /// Visit each member of the object starting here: `f(raw key, has escape, cursor)` must
    /// consume the member's value.
    fn members(
        &mut self,
        mut f: impl FnMut(&[u8], bool, &mut Self) -> std::result::Result<(), Bad>,
    ) -> std::result::Result<(), Bad> {
        self.expect(b'{')?;
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.expect(b'"')?;
            let (key, escaped) = self.rest_of_string()?;
            self.expect(b':')?;
            f(key, escaped, self)?;
            match self.next()? {
                b',' => {}
                b'}' => return Ok(()),
                _ => return Err(Bad::At(self.i - 1)),
            }
        }
    }

    /// The next value, a string.
    fn string(&mut self) -> std::result::Result<String, Bad> {
        let start = self.i;
        self.expect(b'"')?;
        match self.rest_of_string()? {
            (raw, false) => std::str::from_utf8(raw).map(str::to_owned).map_err(|_| Bad::At(start)),
            (_, true) => Ok(serde_json::from_slice(&self.b[start..self.i])?),
        }
    }

    /// Parse the next value as `T`.
    fn parse<T: serde::de::DeserializeOwned>(&mut self) -> std::result::Result<T, Bad> {
        Ok(serde_json::from_slice(self.value()?)?)
    }
}

/// An object key as text (escapes decoded).
fn key_text(raw: &[u8], escaped: bool) -> std::result::Result<Cow<'_, str>, Bad> {
    if escaped {
        let mut quoted = Vec::with_capacity(raw.len() + 2);
        quoted.push(b'"');
        quoted.extend_from_slice(raw);
        quoted.push(b'"');
        Ok(Cow::Owned(serde_json::from_slice::<String>(&quoted)?))
    } else {
        std::str::from_utf8(raw).map(Cow::Borrowed).map_err(|_| Bad::At(0))
    }
}

/// Whether the raw key names a wanted property. Queries name a few fields, so a short list is
/// compared bytewise rather than hashed (SipHash per key per row showed in scan profiles).
fn wants_raw(w: &HashSet<String>, raw: &[u8], escaped: bool) -> std::result::Result<bool, Bad> {
    if !escaped && w.len() <= 8 {
        return Ok(w.iter().any(|k| k.as_bytes() == raw));
    }
    Ok(wants(w, &key_text(raw, escaped)?))
}

/// [`wants_raw`] for a decoded key.
fn wants(w: &HashSet<String>, key: &str) -> bool {
    if w.len() <= 8 { w.iter().any(|k| k == key) } else { w.contains(key) }
}

/// Whether a property of this name is replaced by a system field in a `*` row.
fn shadows(key: &[u8]) -> bool {
    key == b"id" || key == b"entity_type"
}

fn partial(bytes: &[u8], w: &HashSet<String>) -> std::result::Result<Entity, Bad> {
    partial_spliced(bytes, w, false).map(|(e, _)| e)
}

/// [`partial`], also finding (when `star`) the span of the `properties` object and whether one
/// of its members is named `id` or `entity_type`; `entity_type` is then always decoded.
fn partial_spliced(
    bytes: &[u8],
    w: &HashSet<String>,
    star: bool,
) -> std::result::Result<(Entity, Option<Splice>), Bad> {
    let mut e = Entity::default();
    let mut splice = None;
    let mut c = Cursor { b: bytes, i: 0 };
    c.members(|raw, escaped, c| {
        // System keys are plain ASCII as the engine writes them; an escaped key is decoded first.
        let decoded;
        let key: &[u8] = if escaped {
            decoded = key_text(raw, true)?;
            decoded.as_bytes()
        } else {
            raw
        };
        let named = |k: &[u8]| wants_raw(w, k, false).unwrap_or(false);
        match key {
            b"id" => e.id = c.string()?,
            b"deleted_at" => e.deleted_at = c.parse()?,
            b"entity_type" if star || named(key) => e.entity_type = c.string()?,
            b"created_at" if named(key) => e.created_at = c.string()?,
            b"modified_at" if named(key) => e.modified_at = c.string()?,
            b"properties" => {
                c.ws();
                let start = c.i;
                if star {
                    // The engine writes `properties` last: read it in one checked pass when so.
                    let close = bytes.trim_ascii_end().len().saturating_sub(1);
                    if close > start && bytes[close] == b'}' {
                        if let Some(shadowed) = members_checked(&bytes[start..close], w, &mut e.properties) {
                            splice = Some(Splice { properties: start..close, shadowed, checked: true });
                            c.i = close;
                            return Ok(());
                        }
                        e.properties.clear();
                    }
                }
                let mut shadowed = false;
                c.members(|key, escaped, c| {
                    if star && !shadowed {
                        shadowed = if escaped { shadows(key_text(key, true)?.as_bytes()) } else { shadows(key) };
                    }
                    if wants_raw(w, key, escaped)? {
                        e.properties.insert(key_text(key, escaped)?.into_owned(), c.parse()?);
                    } else {
                        c.value()?;
                    }
                    Ok(())
                })?;
                if star {
                    splice = Some(Splice { properties: start..c.i, shadowed, checked: false });
                }
            }
            _ => {
                c.value()?;
            }
        }
        Ok(())
    })?;
    Ok((e, splice))
}

/// Where a record's `properties` object lies, for splicing it into a `*` row.
struct Splice {
    /// The object's bytes, braces included.
    properties: std::ops::Range<usize>,
    /// A property is named `id` or `entity_type` (the system field replaces it in a `*` row).
    shadowed: bool,
    /// The object was read by `serde_json` and is known to be JSON.
    checked: bool,
}

/// Read the object `text` (nothing after it but spaces) with `serde_json`, which checks all of
/// it: members named in `wanted` are parsed into `out`, the rest stepped over. Returns whether
/// a member is named `id` or `entity_type`; `None` when `text` is not one JSON object.
fn members_checked(text: &[u8], wanted: &HashSet<String>, out: &mut Map<String, Value>) -> Option<bool> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let shadowed = serde::de::DeserializeSeed::deserialize(Members { wanted, out }, &mut de).ok()?;
    de.end().ok()?;
    Some(shadowed)
}

/// The `serde` visitor behind [`members_checked`].
struct Members<'a> {
    wanted: &'a HashSet<String>,
    out: &'a mut Map<String, Value>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Members<'_> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Members<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a properties object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<bool, A::Error> {
        let mut shadowed = false;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            shadowed |= shadows(key.as_bytes());
            if wants(self.wanted, &key) {
                self.out.insert(key.into_owned(), map.next_value()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(shadowed)
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Decode a stored entity as [`entity`] does with `Some(wanted)` (plus `entity_type`), and
/// return its `SELECT *` row as JSON text: `{"id":…,"entity_type":…,` then the stored
/// properties' members, copied as stored. `None` for the text when a property is named `id` or
/// `entity_type`: the entity is then decoded whole, for the caller to build the row as a value
/// (where the system field replaces the property).
///
/// The copy is the text the engine wrote with `serde_json` (compact), so the row equals what
/// serialising the decoded value gives; it is checked to be JSON (values are not built).
/// Errors: `Storage` for a record that is not JSON or has no `properties` object.
pub fn entity_with_star(bytes: &[u8], wanted: &HashSet<String>) -> Result<(Entity, Option<Vec<u8>>)> {
    let (entity, splice) = partial_spliced(bytes, wanted, true).map_err(Error::corrupt_record)?;
    let splice = splice.ok_or_else(|| Error::corrupt_record("no properties object"))?;
    if splice.shadowed {
        return Ok((decode_entity(bytes)?, None));
    }
    let object = &bytes[splice.properties];
    if !splice.checked {
        serde_json::from_slice::<serde::de::IgnoredAny>(object).map_err(Error::corrupt_record)?;
    }
    let members = object[1..object.len() - 1].trim_ascii();
    let row = crate::json::write::star_row_with(&entity.id, &entity.entity_type, members.len(), |out| {
        out.extend_from_slice(members)
    });
    Ok((entity, Some(row)))
}

/// Decode a stored entity record. Errors: `Storage` (a corrupt record).
pub fn decode_entity(bytes: &[u8]) -> Result<Entity> {
    serde_json::from_slice(bytes).map_err(Error::corrupt_record)
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

    /// A random JSON value with escapes, unicode, nesting and every scalar type.
    fn random_value(r: &mut fastrand::Rng, depth: u32) -> serde_json::Value {
        let text = |r: &mut fastrand::Rng| -> String {
            let parts = ["a", "\"", "\\", "\n", "é", "😀", "\u{1}", " ", "}", "]", ",", ":", "long text "];
            (0..r.usize(0..12)).map(|_| parts[r.usize(..parts.len())]).collect()
        };
        match r.u8(0..if depth > 2 { 5 } else { 7 }) {
            0 => json!(null),
            1 => json!(r.bool()),
            2 => json!(r.i64(-1_000_000..1_000_000)),
            3 => json!(r.f64() * 1e6 - 5e5),
            4 => json!(text(r)),
            5 => serde_json::Value::Array((0..r.usize(0..4)).map(|_| random_value(r, depth + 1)).collect()),
            _ => serde_json::Value::Object((0..r.usize(0..4)).map(|_| (text(r), random_value(r, depth + 1))).collect()),
        }
    }

    #[test]
    fn partial_decoding_equals_full_decoding_filtered() {
        let mut r = fastrand::Rng::with_seed(11);
        for round in 0..2000 {
            let names: Vec<String> =
                (0..6).map(|i| if i == 5 { "k\"q\u{e9}".to_string() } else { format!("p{i}") }).collect();
            let mut props = serde_json::Map::new();
            for n in &names {
                if r.bool() {
                    props.insert(n.clone(), random_value(&mut r, 0));
                }
            }
            let stored = json!({"id": format!("id-{round}"), "entity_type": "t\"x", "created_at": "c", "modified_at": "m",
                                "deleted_at": if r.bool() { json!(null) } else { json!("d") },
                                "edges": [{"dst": "y", "rel_type": "r", "properties": {"w": [1, {"x": "]"}]}}],
                                "properties": props});
            // Compact as stored, and pretty-printed (a record is JSON text; spacing must not matter).
            let texts = [serde_json::to_vec(&stored).unwrap(), serde_json::to_vec_pretty(&stored).unwrap()];
            let mut wanted: HashSet<String> = names.iter().filter(|_| r.bool()).cloned().collect();
            if r.bool() {
                wanted.insert("created_at".to_string());
            }
            let full = entity(&texts[0], None).unwrap();
            for bytes in &texts {
                let some = entity(bytes, Some(&wanted)).unwrap();
                assert_eq!(some.id, full.id);
                assert_eq!(some.deleted_at, full.deleted_at);
                assert_eq!(some.created_at, if wanted.contains("created_at") { "c" } else { "" });
                assert!(some.edges.is_empty() && some.entity_type.is_empty());
                let expected: serde_json::Map<String, serde_json::Value> = full
                    .properties
                    .iter()
                    .filter(|(k, _)| wanted.contains(*k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                assert_eq!(some.properties, expected, "round {round}: {}", String::from_utf8_lossy(bytes));
            }
        }
    }

    /// The `*` row built as a value, as `SELECT *` without splicing builds it.
    fn star_value(e: &Entity) -> serde_json::Value {
        let mut row = serde_json::Map::new();
        row.insert("id".into(), json!(e.id));
        row.insert("entity_type".into(), json!(e.entity_type));
        for (k, v) in &e.properties {
            if k != "id" && k != "entity_type" {
                row.insert(k.clone(), v.clone());
            }
        }
        serde_json::Value::Object(row)
    }

    #[test]
    fn spliced_star_rows_equal_serialised_values() {
        let mut r = fastrand::Rng::with_seed(5);
        for round in 0..2000 {
            let mut props = serde_json::Map::new();
            for i in 0..r.usize(0..5) {
                props.insert(if i == 3 { "k\"q\u{e9}".to_string() } else { format!("p{i}") }, random_value(&mut r, 0));
            }
            let stored = json!({"id": format!("id-{round}"), "entity_type": "t\"x\u{e9}", "created_at": "c",
                                "modified_at": "m", "deleted_at": null, "edges": [], "properties": props});
            let bytes = serde_json::to_vec(&stored).unwrap();
            let wanted: HashSet<String> = ["p1".to_string(), "created_at".to_string()].into();
            let (e, text) = entity_with_star(&bytes, &wanted).unwrap();
            let full = entity(&bytes, None).unwrap();
            // Byte for byte what serialising the value gives, and the wanted fields decoded.
            assert_eq!(String::from_utf8(text.unwrap()).unwrap(), star_value(&full).to_string(), "round {round}");
            assert_eq!(e.properties.get("p1"), full.properties.get("p1"));
            assert_eq!((e.id, e.entity_type, e.created_at), (full.id, full.entity_type, full.created_at));
        }
    }

    #[test]
    fn spliced_star_rows_leave_shadowing_properties_to_values() {
        for key in [r#""id""#, r#""entity_type""#, r#""\u0069d""#] {
            let bytes = format!(
                r#"{{"id":"x","entity_type":"t","created_at":"c","modified_at":"m","deleted_at":null,"properties":{{"a":1,{key}:2}}}}"#
            );
            let (e, text) = entity_with_star(bytes.as_bytes(), &HashSet::new()).unwrap();
            assert!(text.is_none(), "{key}");
            assert_eq!(e.properties.len(), 2, "decoded whole for {key}");
        }
        // `properties` not last (the engine writes it last): read by the second path, same answer.
        let middle = br#"{"id":"x","entity_type":"t","properties":{"a":[1,"}"],"b":2},"deleted_at":null}"#;
        let wanted: HashSet<String> = ["b".to_string()].into();
        let (e, text) = entity_with_star(middle, &wanted).unwrap();
        assert_eq!(text.unwrap(), br#"{"id":"x","entity_type":"t","a":[1,"}"],"b":2}"#);
        assert_eq!(serde_json::Value::Object(e.properties), json!({"b": 2}));
        let empty = br#"{"id":"x","entity_type":"t","deleted_at":null,"properties":{}}"#;
        assert_eq!(entity_with_star(empty, &HashSet::new()).unwrap().1.unwrap(), br#"{"id":"x","entity_type":"t"}"#);
        for bad in [
            &br#"{"id":"x","deleted_at":null,"properties":{"a":tru}}"#[..],
            br#"{"id":"x","properties":{"a":tru},"deleted_at":null}"#,
            br#"{"id":"x","deleted_at":null,"properties":{"a":"\q"}}"#,
            br#"{"id":"x","deleted_at":null}"#,
        ] {
            assert!(matches!(entity_with_star(bad, &HashSet::new()), Err(Error::Storage(_))));
        }
    }

    #[test]
    fn truncated_or_broken_records_are_errors() {
        let stored = serde_json::to_vec(&json!({"id": "x", "deleted_at": null,
            "properties": {"a": "text \" with } and ]", "b": [1, {"c": 2}], "d": 3}}))
        .unwrap();
        let wanted: HashSet<String> = ["d".to_string()].into();
        assert_eq!(entity(&stored, Some(&wanted)).unwrap().properties["d"], json!(3));
        for cut in 0..stored.len() {
            assert!(entity(&stored[..cut], Some(&wanted)).is_err(), "cut at {cut}");
        }
        assert!(matches!(entity(b"{\"id\":\"x\",\"properties\":{\"d\":tru}}", Some(&wanted)), Err(Error::Storage(_))));
    }
}
