//! Compact JSON text, byte-identical to `serde_json::to_vec`, for the stored entity.
//!
//! Every write serialises the entity it stores, and in a batch insert serde_json's string
//! escaping (one table lookup per byte) was the largest single cost after parsing. Here a
//! string is checked eight bytes at a time (SWAR: "has a byte less than n" and "has a zero
//! byte", from Sean Eron Anderson's *Bit Twiddling Hacks*, "Determine if a word has a byte
//! less than n") and copied in runs. The output must stay identical to serde_json's: `SELECT
//! *` rows splice stored text, and DISTINCT compares rows as text (see `sql/out.rs`).
//! Numbers and inline edges are still written by serde_json.

use serde_json::{Map, Value};

use crate::model::entity::Entity;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that is zero. Exact for the lowest such byte: a false
/// mark can only follow (in little-endian order) a true one, from the borrow it leaves.
#[inline]
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// Marks (high bits) for the bytes of the eight in `w` (little-endian) that must be escaped
/// in a JSON string: control bytes (below 0x20), `"` and `\`. The lowest mark is exact.
#[inline]
fn escape_marks(w: u64) -> u64 {
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    below_space | zero_bytes(w ^ (ONES * b'"' as u64)) | zero_bytes(w ^ (ONES * b'\\' as u64))
}

/// Whether byte `b` must be escaped.
#[inline]
fn escaped(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// The letter of `b`'s two-character escape (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`),
/// if it has one; the other bytes for which [`escaped`] holds are written `\u00XX`.
#[inline]
fn short_escape(b: u8) -> Option<u8> {
    match b {
        b'"' | b'\\' => Some(b),
        0x08 => Some(b'b'),
        0x0c => Some(b'f'),
        b'\n' => Some(b'n'),
        b'\r' => Some(b'r'),
        b'\t' => Some(b't'),
        _ => None,
    }
}

/// Append the escape of byte `b` (one for which [`escaped`] holds), as serde_json writes it:
/// its [`short_escape`], else `\u00XX` with lowercase hex digits.
fn escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match short_escape(b) {
        Some(c) => out.extend_from_slice(&[b'\\', c]),
        None => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]),
    }
}

/// The length of `s` written by [`string`] (quotes included), or `None` when `s` holds a
/// control character written `\u00XX`. That spelling has the same length with upper-case
/// hex digits, so [`crate::json::parse::parse_noting_compact`] cannot tell it from the text's.
pub(crate) fn escaped_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut n = b.len() + 2;
    let mut words = b.chunks_exact(8);
    let mut marked = |chunk: &[u8]| -> Option<()> {
        for &c in chunk.iter().filter(|&&c| escaped(c)) {
            short_escape(c)?;
            n += 1;
        }
        Some(())
    };
    for word in words.by_ref() {
        if escape_marks(u64::from_le_bytes(word.try_into().expect("eight bytes"))) != 0 {
            marked(word)?;
        }
    }
    marked(words.remainder())?;
    Some(n)
}

/// Append `s` as a JSON string (quoted, escaped as serde_json does).
pub fn string(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    // `run` starts the bytes not yet copied; `i` is where the search for an escape goes on.
    let (mut run, mut i) = (0, 0);
    loop {
        let at = match b.get(i..i + 8) {
            Some(word) => {
                let marks = escape_marks(u64::from_le_bytes(word.try_into().expect("eight bytes")));
                if marks == 0 {
                    i += 8;
                    continue;
                }
                i + (marks.trailing_zeros() / 8) as usize
            }
            // Fewer than eight bytes left: byte by byte.
            None => match b[i..].iter().position(|&c| escaped(c)) {
                Some(n) => i + n,
                None => break,
            },
        };
        out.extend_from_slice(&b[run..at]);
        escape(out, b[at]);
        run = at + 1;
        i = run;
    }
    out.extend_from_slice(&b[run..]);
    out.push(b'"');
}

/// Append `v` as compact JSON text.
pub fn value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => serde_json::to_writer(&mut *out, n).expect("writing to a Vec cannot fail"),
        Value::String(s) => string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => object(out, map),
    }
}

/// Append `map` as a compact JSON object (members in map order).
pub fn object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(b'{');
    members(out, map);
    out.push(b'}');
}

/// Append `map`'s members, comma-separated, without braces.
fn members(out: &mut Vec<u8>, map: &Map<String, Value>) {
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        value(out, v);
    }
}

/// The stored text of `e`: what `serde_json::to_vec(e)` gives (fields in declaration order).
pub fn entity(e: &Entity) -> Vec<u8> {
    entity_with(e, None)
}

/// [`entity`], given `properties`: the compact JSON text of `e.properties`, which is copied
/// instead of written again. The caller vouches for it (see
/// [`crate::json::parse::parse_noting_compact`]); `None` writes the properties.
pub fn entity_with(e: &Entity, properties: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(224 + properties.map_or(0, str::len));
    out.extend_from_slice(b"{\"id\":");
    string(&mut out, &e.id);
    out.extend_from_slice(b",\"entity_type\":");
    string(&mut out, &e.entity_type);
    out.extend_from_slice(b",\"created_at\":");
    string(&mut out, &e.created_at);
    out.extend_from_slice(b",\"modified_at\":");
    string(&mut out, &e.modified_at);
    out.extend_from_slice(b",\"deleted_at\":");
    match &e.deleted_at {
        Some(t) => string(&mut out, t),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"edges\":");
    if e.edges.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        serde_json::to_writer(&mut out, &e.edges).expect("writing to a Vec cannot fail");
    }
    out.extend_from_slice(b",\"properties\":");
    match properties {
        Some(text) => out.extend_from_slice(text.as_bytes()),
        None => object(&mut out, &e.properties),
    }
    out.push(b'}');
    out
}

/// A `SELECT *` row: `{"id":…,"entity_type":…` then, when `members` writes any, `,` and the
/// properties' members (compact JSON, without braces), then `}`. `size` is a capacity hint.
pub fn star_row_with(id: &str, entity_type: &str, size: usize, members: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + id.len() + entity_type.len() + 32);
    out.extend_from_slice(b"{\"id\":");
    string(&mut out, id);
    out.extend_from_slice(b",\"entity_type\":");
    string(&mut out, entity_type);
    let before = out.len();
    out.push(b',');
    members(&mut out);
    if out.len() == before + 1 {
        out.pop();
    }
    out.push(b'}');
    out
}

/// The `SELECT *` row of `e`, the same text [`crate::json::record::entity_with_star`] splices from the
/// stored record. `None` when a property is named `id` or `entity_type` (the query then builds
/// that row as a value).
pub fn star_row(e: &Entity) -> Option<Vec<u8>> {
    if e.properties.contains_key("id") || e.properties.contains_key("entity_type") {
        return None;
    }
    Some(star_row_with(&e.id, &e.entity_type, 224, |out| members(out, &e.properties)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entity::InlineEdge;
    use serde_json::json;

    /// A string mixing plain ASCII runs (long enough for the word-at-a-time path) with every
    /// control byte, quotes, backslashes, DEL and multi-byte characters.
    fn text(r: &mut fastrand::Rng) -> String {
        const SPECIAL: &[char] = &['"', '\\', '\u{7f}', 'é', '€', '😀', '\u{2028}', '/'];
        let mut s = String::new();
        for _ in 0..r.usize(..6) {
            match r.usize(..3) {
                0 => s.extend(std::iter::repeat_n('a', r.usize(..20))),
                1 => s.push(char::from(r.usize(..0x20) as u8)),
                _ => s.push(SPECIAL[r.usize(..SPECIAL.len())]),
            }
        }
        s
    }

    fn random_value(r: &mut fastrand::Rng, depth: u32) -> Value {
        match r.usize(..if depth > 3 { 4 } else { 6 }) {
            0 => Value::Null,
            1 => Value::Bool(r.usize(..2) == 0),
            2 => match r.usize(..3) {
                0 => json!(r.i64(..)),
                1 => json!(r.u64(..)),
                _ => json!(r.u64(..1_000_000) as f64 / 7.0 - 50_000.0),
            },
            3 => Value::String(text(r)),
            4 => Value::Array((0..r.usize(..4)).map(|_| random_value(r, depth + 1)).collect()),
            _ => Value::Object((0..r.usize(..4)).map(|_| (text(r), random_value(r, depth + 1))).collect()),
        }
    }

    #[test]
    fn strings_match_serde_json_byte_for_byte() {
        let mut r = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5000 {
            let s = text(&mut r);
            let mut out = Vec::new();
            string(&mut out, &s);
            assert_eq!(out, serde_json::to_vec(&s).unwrap(), "{s:?}");
        }
        // Every single byte value below 0x80, alone and at each position of a word.
        for b in 0u8..0x80 {
            for pad in 0..9 {
                let s = format!("{}{}{}", "x".repeat(pad), b as char, "y".repeat(9 - pad));
                let mut out = Vec::new();
                string(&mut out, &s);
                assert_eq!(out, serde_json::to_vec(&s).unwrap(), "{s:?}");
            }
        }
    }

    /// `escaped_len` is the written length, or `None` exactly when a `\u00XX` escape is written.
    #[test]
    fn escaped_len_is_the_written_length() {
        let mut r = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
        let (mut some, mut none) = (0, 0);
        for _ in 0..5000 {
            let s = text(&mut r);
            let mut out = Vec::new();
            string(&mut out, &s);
            let uses_u = s.chars().any(|c| c < ' ' && !"\u{8}\u{c}\n\r\t".contains(c));
            match escaped_len(&s) {
                Some(n) => {
                    assert!(!uses_u, "{s:?}");
                    assert_eq!(n, out.len(), "{s:?}");
                    some += 1;
                }
                None => {
                    assert!(uses_u, "{s:?}");
                    none += 1;
                }
            }
        }
        assert!(some > 500 && none > 500, "both cases drawn: {some} {none}");
    }

    #[test]
    fn values_match_serde_json_byte_for_byte() {
        let mut r = fastrand::Rng::with_seed(7);
        for _ in 0..2000 {
            let v = random_value(&mut r, 0);
            let mut out = Vec::new();
            value(&mut out, &v);
            assert_eq!(out, serde_json::to_vec(&v).unwrap(), "{v}");
        }
    }

    #[test]
    fn entities_match_serde_json_byte_for_byte() {
        let mut e = Entity {
            id: "942881f7-a48a-5e6f-bcfb-cc9fc555fded".into(),
            entity_type: "person".into(),
            created_at: "2026-11-22T10:00:00.000000Z".into(),
            modified_at: "2026-11-22T10:00:01.000000Z".into(),
            deleted_at: None,
            edges: Vec::new(),
            properties: json!({"name": "Alice \"A\"\n", "age": 30, "tags": ["x", 1.5, null]})
                .as_object()
                .unwrap()
                .clone(),
        };
        assert_eq!(entity(&e), serde_json::to_vec(&e).unwrap());
        e.deleted_at = Some("2026-11-22T11:00:00.000000Z".into());
        e.edges.push(InlineEdge {
            dst: "d".into(),
            rel_type: "knows".into(),
            properties: json!({"weight": 0.5}).as_object().unwrap().clone(),
            created_at: "t".into(),
        });
        assert_eq!(entity(&e), serde_json::to_vec(&e).unwrap());
    }
}
