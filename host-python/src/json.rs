//! Python values to JSON text, in Rust: the Python layer hands dicts and lists
//! straight to the native methods, so a row costs no `json.dumps` round trip.
//!
//! `dict` (string keys), `list`, `tuple`, `str`, `int` (64-bit), `float`
//! (finite), `bool` and `None` are written directly; anything else goes through
//! `rem_db._convert._default` (Pydantic models, dates, enums, UUIDs, NumPy...),
//! whose result is written in turn. Errors: `rem_db.errors.SerializationError`, a
//! `TypeError` and a `ValueError` (unsupported type, non-string key, NaN/infinity, integer
//! out of range, nesting deeper than [`MAX_DEPTH`]).

use std::cell::RefCell;
use std::fmt::Write;
use std::sync::Mutex;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use rustc_hash::FxHashMap;

/// Deepest nesting written (as serde_json's default recursion limit).
pub const MAX_DEPTH: u32 = 128;

static DEFAULT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn fallback<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let f = DEFAULT.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("rem_db._convert")?.getattr("_default")?.unbind())
    })?;
    f.bind(py).call1((obj,))
}

fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `SerializationError` (a `TypeError` and a `ValueError`) saying `message`.
fn serialization(py: Python<'_>, message: String) -> PyErr {
    crate::error::own(py, "SerializationError", message)
}

/// Append the JSON text of `obj` to `out`.
pub fn write(obj: &Bound<'_, PyAny>, out: &mut String, depth: u32) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(serialization(obj.py(), format!("value nests deeper than {MAX_DEPTH} levels")));
    }
    if obj.is_none() {
        out.push_str("null");
    } else if let Ok(s) = obj.cast::<PyString>() {
        string(&s.to_cow()?, out);
    } else if let Ok(b) = obj.cast::<PyBool>() {
        out.push_str(if b.is_true() { "true" } else { "false" });
    } else if let Ok(i) = obj.cast::<PyInt>() {
        match i.extract::<i64>() {
            Ok(v) => {
                let _ = write!(out, "{v}");
            }
            Err(_) => match i.extract::<u64>() {
                Ok(v) => {
                    let _ = write!(out, "{v}");
                }
                Err(_) => return Err(serialization(obj.py(), format!("integer {i} does not fit in 64 bits"))),
            },
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        if !v.is_finite() {
            return Err(serialization(
                obj.py(),
                format!("{v} is not a JSON number (NaN and infinity are not allowed)"),
            ));
        }
        out.push_str(&serde_json::Number::from_f64(v).map(|n| n.to_string()).unwrap_or_else(|| "null".into()));
    } else if let Ok(d) = obj.cast::<PyDict>() {
        out.push('{');
        for (n, (k, v)) in d.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let key = k
                .cast::<PyString>()
                .map_err(|_| serialization(k.py(), format!("object keys must be strings, got {}", type_name(&k))))?;
            string(&key.to_cow()?, out);
            out.push(':');
            write(&v, out, depth + 1)?;
        }
        out.push('}');
    } else if let Ok(l) = obj.cast::<PyList>() {
        array(l.iter(), out, depth)?;
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        array(t.iter(), out, depth)?;
    } else {
        let converted = fallback(obj)?;
        write(&converted, out, depth + 1)?;
    }
    Ok(())
}

/// Write `items` as a JSON array.
fn array<'py>(items: impl Iterator<Item = Bound<'py, PyAny>>, out: &mut String, depth: u32) -> PyResult<()> {
    out.push('[');
    for (n, v) in items.enumerate() {
        if n > 0 {
            out.push(',');
        }
        write(&v, out, depth + 1)?;
    }
    out.push(']');
    Ok(())
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// The JSON text of `obj`.
pub fn dumps(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let mut out = String::with_capacity(128);
    write(obj, &mut out, 0)?;
    Ok(out)
}

/// The JSON text of each item of the iterable `items`.
pub fn dumps_each(items: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let mut out = Vec::with_capacity(items.len().unwrap_or(0));
    for item in items.try_iter()? {
        out.push(dumps(&item?)?);
    }
    Ok(out)
}

/// Give row `i` of `rows` (JSON object texts) vector `i` of `bytes` (little-endian float32s,
/// `dims` per vector) as its `embedding` member, written last. Errors: `ValueError` (a buffer
/// that is not `rows.len()` vectors of `dims`, a row that is not an object).
pub fn splice_vectors(rows: &mut [String], bytes: &[u8], dims: usize) -> PyResult<()> {
    let want = rows.len() * dims * 4;
    if dims == 0 || bytes.len() != want {
        return Err(PyValueError::new_err(format!(
            "vectors must be {} rows of {dims} float32 values ({want} bytes), got {} bytes",
            rows.len(),
            bytes.len()
        )));
    }
    for (i, (row, chunk)) in rows.iter_mut().zip(bytes.chunks_exact(dims * 4)).enumerate() {
        let v: Vec<f32> = chunk.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let Some(body) = row.strip_prefix('{').and_then(|r| r.strip_suffix('}')) else {
            return Err(PyValueError::new_err(format!("row {i} is not a JSON object")));
        };
        let list = serde_json::to_string(&v).map_err(|e| PyValueError::new_err(format!("vector {i}: {e}")))?;
        // Written last: of two `embedding` members the engine keeps the later, so `vectors=`
        // wins over one in the row, as `insert(vector=)` does.
        let sep = if body.trim().is_empty() { "" } else { "," };
        *row = format!("{{{body}{sep}\"embedding\":{list}}}");
    }
    Ok(())
}

/// Parse JSON text straight into Python objects (one pass, no intermediate tree):
/// objects → `dict` (in document order), arrays → `list`, integers → `int`, other
/// numbers → `float`, strings, booleans, `null` → `None`. Errors: `ValueError` (malformed).
///
/// Object keys are interned Python strings kept for the process (see [`KEY_CACHE`]);
/// an `entity_type` value, and a string equal to the one parsed just before it (an
/// entity's `modified_at` after its `created_at`), reuse the earlier object. Both
/// are only shared immutable `str` objects, so results are indistinguishable from
/// `json.loads`'s.
pub fn loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let keys = KEY_CACHE.try_lock().ok().and_then(|mut cache| cache.take()).unwrap_or_default();
    let ctx = Ctx { py, keys: RefCell::new(keys), last: RefCell::default(), entity_type: RefCell::default() };
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde::de::DeserializeSeed::deserialize(Seed(&ctx, false), &mut de).and_then(|v| de.end().map(|_| v));
    if let Ok(mut cache) = KEY_CACHE.try_lock() {
        *cache = Some(ctx.keys.into_inner());
    }
    value.map_err(|e| PyValueError::new_err(format!("the engine returned malformed JSON: {e}")))
}

/// Most distinct object keys kept (results repeat the same few field names; past this,
/// new keys are made per call and not kept).
const KEY_MEMO: usize = 4096;

/// Object keys made so far, as interned Python strings, shared by all `loads` calls
/// (as orjson keeps a key cache). A call takes the map out for its duration and puts it
/// back, so the lock is never held while Python code could run; a call that finds it
/// taken (another thread mid-`loads`) uses a map of its own.
static KEY_CACHE: Mutex<Option<Keys>> = Mutex::new(None);

type Keys = FxHashMap<Box<str>, Py<PyString>>;

/// One `loads` call: the interpreter, the key memo, the last string value made, and
/// the `entity_type` value made.
struct Ctx<'py> {
    py: Python<'py>,
    keys: RefCell<Keys>,
    last: RefCell<Memo<'py>>,
    entity_type: RefCell<Memo<'py>>,
}

/// A string value made earlier in the call and its text (kept here: reading a `str`'s
/// UTF-8 back costs a copy under the abi3 API of Python 3.9).
#[derive(Default)]
struct Memo<'py> {
    text: String,
    value: Option<Bound<'py, PyString>>,
}

impl<'py> Ctx<'py> {
    /// The Python string for the value `v`; `entity_type` says it is that field's value.
    fn string(&self, v: &str, entity_type: bool) -> Bound<'py, PyString> {
        let memo = if entity_type { &self.entity_type } else { &self.last };
        let mut memo = memo.borrow_mut();
        if let Some(s) = memo.value.as_ref().filter(|_| memo.text == v) {
            return s.clone();
        }
        let s = PyString::new(self.py, v);
        memo.text.clear();
        memo.text.push_str(v);
        memo.value = Some(s.clone());
        s
    }
}

/// A value; the flag says it is the value of an `entity_type` key.
#[derive(Clone, Copy)]
struct Seed<'c, 'py>(&'c Ctx<'py>, bool);

impl<'de, 'py> serde::de::DeserializeSeed<'de> for Seed<'_, 'py> {
    type Value = Bound<'py, PyAny>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Builder(self.0, self.1))
    }
}

/// An object key, through the memo.
struct KeySeed<'c, 'py>(&'c Ctx<'py>);

impl<'de, 'py> serde::de::DeserializeSeed<'de> for KeySeed<'_, 'py> {
    type Value = (Bound<'py, PyString>, bool);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'py> serde::de::Visitor<'de> for KeySeed<'_, 'py> {
    type Value = (Bound<'py, PyString>, bool);
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        let py = self.0.py;
        let is_type = v == "entity_type";
        let mut keys = self.0.keys.borrow_mut();
        if let Some(k) = keys.get(v) {
            return Ok((k.bind(py).clone(), is_type));
        }
        let k = PyString::intern(py, v);
        if keys.len() < KEY_MEMO {
            keys.insert(v.into(), k.clone().unbind());
        }
        Ok((k, is_type))
    }
}

/// Builds one value; the flag says it is an `entity_type` value.
struct Builder<'c, 'py>(&'c Ctx<'py>, bool);

fn custom<E: serde::de::Error>(e: PyErr) -> E {
    E::custom(e.to_string())
}

impl<'de, 'py> serde::de::Visitor<'de> for Builder<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(self.0.py.None().into_bound(self.0.py))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(self.0.py.None().into_bound(self.0.py))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.0.py, v).to_owned().into_any())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.0.py, v).into_any())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.0.py, v).into_any())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(PyFloat::new(self.0.py, v).into_any())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.string(v, self.1).into_any())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let list = PyList::empty(self.0.py);
        while let Some(item) = seq.next_element_seed(Seed(self.0, false))? {
            list.append(item).map_err(custom)?;
        }
        Ok(list.into_any())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.0.py);
        while let Some((key, is_type)) = map.next_key_seed(KeySeed(self.0))? {
            let value = map.next_value_seed(Seed(self.0, is_type))?;
            dict.set_item(key, value).map_err(custom)?;
        }
        Ok(dict.into_any())
    }
}

/// `obj` as JSON text, written exactly as the native methods write their arguments (for the
/// asyncio client of a served database, `rem_db._remote`). Errors: `TypeError`/`ValueError` for
/// values JSON cannot hold. Not public API.
#[pyfunction]
pub fn _dumps(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    dumps(obj)
}

/// [`splice_vectors`] for the asyncio client of a served database: `rows` (JSON object texts)
/// with row `i` given vector `i` of `vectors` as its `embedding`. Errors: `ValueError`. Not public API.
#[pyfunction]
pub fn _splice_vectors(mut rows: Vec<String>, vectors: &[u8], dims: usize) -> PyResult<Vec<String>> {
    splice_vectors(&mut rows, vectors, dims)?;
    Ok(rows)
}
