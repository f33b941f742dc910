//! The engine's error type. It mirrors the WIT `error` variant case for case,
//! so the component shim maps it one-to-one.

use serde::Serialize;

/// One step of a path into a JSON value (pydantic-core's `loc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// An object key.
    Field(String),
    /// An array index (0-based); for batches the first segment is the row index.
    Index(u32),
}

impl std::fmt::Display for PathSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathSegment::Field(s) => f.write_str(s),
            PathSegment::Index(i) => write!(f, "{i}"),
        }
    }
}

/// The stable snake_case kind of a validation issue: pydantic-core's error `type` where it
/// has one (<https://docs.pydantic.dev/latest/errors/validation_errors/>), REM's own for what
/// only REM checks (edges, references, oversized integers). Crosses the boundary as its
/// string ([`IssueKind::as_str`]) and is read back with [`IssueKind::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IssueKind {
    /// `missing`: A required field is absent.
    Missing,
    /// `none_required`: The value must be null.
    NoneRequired,
    /// `bool_type`: Not a boolean.
    BoolType,
    /// `int_type`: Not an integer.
    IntType,
    /// `float_type`: Not a number.
    FloatType,
    /// `string_type`: Not a string.
    StringType,
    /// `list_type`: Not a list.
    ListType,
    /// `dict_type`: Not an object.
    DictType,
    /// `type_error`: None of several allowed types.
    TypeError,
    /// `greater_than_equal`: Below `minimum`.
    GreaterThanEqual,
    /// `greater_than`: At or below `exclusiveMinimum`.
    GreaterThan,
    /// `less_than_equal`: Above `maximum`.
    LessThanEqual,
    /// `less_than`: At or above `exclusiveMaximum`.
    LessThan,
    /// `string_too_short`: Shorter than `minLength`.
    StringTooShort,
    /// `string_too_long`: Longer than `maxLength`.
    StringTooLong,
    /// `string_pattern_mismatch`: Does not match `pattern`.
    StringPatternMismatch,
    /// `enum`: Not one of `enum`.
    Enum,
    /// `literal_error`: Not the `const`.
    LiteralError,
    /// `too_short`: Fewer items than `minItems`.
    TooShort,
    /// `too_long`: More items than `maxItems`.
    TooLong,
    /// `extra_forbidden`: A property the schema forbids.
    ExtraForbidden,
    /// `union_no_match`: No branch of `anyOf` matches.
    UnionNoMatch,
    /// `one_of`: Not exactly one branch of `oneOf` matches.
    OneOf,
    /// `multiple_of`: Not a multiple of `multipleOf`.
    MultipleOf,
    /// `unique_items`: Repeated items where `uniqueItems`.
    UniqueItems,
    /// `not`: Matches a `not` schema.
    Not,
    /// `forbidden`: The schema is `false`.
    Forbidden,
    /// `value_error`: Any other schema rule.
    ValueError,
    /// `json_invalid`: The row's text is not JSON.
    JsonInvalid,
    /// `int_parsing_size`: An integer beyond 64 bits.
    IntParsingSize,
    /// `edge_target_missing`: An edge's `dst` names no entity of the tenant.
    EdgeTargetMissing,
    /// `reference_missing`: A reference field names no row of the referenced table.
    ReferenceMissing,
    /// `<format>_format`: not in a JSON Schema `format` (`date_time_format`, `email_format`, ...);
    /// holds the whole kind.
    Format(String),
    /// A kind this REM does not know (sent by a newer engine); holds the whole kind.
    Other(String),
}

impl IssueKind {
    /// The kind of a failed JSON Schema `format` (`date-time` -> `date_time_format`).
    pub fn format(format: &str) -> IssueKind {
        IssueKind::Format(format!("{}_format", format.replace('-', "_")))
    }

    /// The kind as it crosses the boundary and as Python's `type` shows it.
    pub fn as_str(&self) -> &str {
        match self {
            IssueKind::Missing => "missing",
            IssueKind::NoneRequired => "none_required",
            IssueKind::BoolType => "bool_type",
            IssueKind::IntType => "int_type",
            IssueKind::FloatType => "float_type",
            IssueKind::StringType => "string_type",
            IssueKind::ListType => "list_type",
            IssueKind::DictType => "dict_type",
            IssueKind::TypeError => "type_error",
            IssueKind::GreaterThanEqual => "greater_than_equal",
            IssueKind::GreaterThan => "greater_than",
            IssueKind::LessThanEqual => "less_than_equal",
            IssueKind::LessThan => "less_than",
            IssueKind::StringTooShort => "string_too_short",
            IssueKind::StringTooLong => "string_too_long",
            IssueKind::StringPatternMismatch => "string_pattern_mismatch",
            IssueKind::Enum => "enum",
            IssueKind::LiteralError => "literal_error",
            IssueKind::TooShort => "too_short",
            IssueKind::TooLong => "too_long",
            IssueKind::ExtraForbidden => "extra_forbidden",
            IssueKind::UnionNoMatch => "union_no_match",
            IssueKind::OneOf => "one_of",
            IssueKind::MultipleOf => "multiple_of",
            IssueKind::UniqueItems => "unique_items",
            IssueKind::Not => "not",
            IssueKind::Forbidden => "forbidden",
            IssueKind::ValueError => "value_error",
            IssueKind::JsonInvalid => "json_invalid",
            IssueKind::IntParsingSize => "int_parsing_size",
            IssueKind::EdgeTargetMissing => "edge_target_missing",
            IssueKind::ReferenceMissing => "reference_missing",
            IssueKind::Format(s) | IssueKind::Other(s) => s,
        }
    }

    /// The kind named `s` (the inverse of [`IssueKind::as_str`]).
    pub fn parse(s: &str) -> IssueKind {
        match s {
            "missing" => IssueKind::Missing,
            "none_required" => IssueKind::NoneRequired,
            "bool_type" => IssueKind::BoolType,
            "int_type" => IssueKind::IntType,
            "float_type" => IssueKind::FloatType,
            "string_type" => IssueKind::StringType,
            "list_type" => IssueKind::ListType,
            "dict_type" => IssueKind::DictType,
            "type_error" => IssueKind::TypeError,
            "greater_than_equal" => IssueKind::GreaterThanEqual,
            "greater_than" => IssueKind::GreaterThan,
            "less_than_equal" => IssueKind::LessThanEqual,
            "less_than" => IssueKind::LessThan,
            "string_too_short" => IssueKind::StringTooShort,
            "string_too_long" => IssueKind::StringTooLong,
            "string_pattern_mismatch" => IssueKind::StringPatternMismatch,
            "enum" => IssueKind::Enum,
            "literal_error" => IssueKind::LiteralError,
            "too_short" => IssueKind::TooShort,
            "too_long" => IssueKind::TooLong,
            "extra_forbidden" => IssueKind::ExtraForbidden,
            "union_no_match" => IssueKind::UnionNoMatch,
            "one_of" => IssueKind::OneOf,
            "multiple_of" => IssueKind::MultipleOf,
            "unique_items" => IssueKind::UniqueItems,
            "not" => IssueKind::Not,
            "forbidden" => IssueKind::Forbidden,
            "value_error" => IssueKind::ValueError,
            "json_invalid" => IssueKind::JsonInvalid,
            "int_parsing_size" => IssueKind::IntParsingSize,
            "edge_target_missing" => IssueKind::EdgeTargetMissing,
            "reference_missing" => IssueKind::ReferenceMissing,
            s if s.ends_with("_format") => IssueKind::Format(s.to_string()),
            s => IssueKind::Other(s.to_string()),
        }
    }
}

impl std::fmt::Display for IssueKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for IssueKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for IssueKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for IssueKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One validation problem: `loc` path, stable snake_case `kind`, message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Where the problem is, from the root of the written value.
    pub loc: Vec<PathSegment>,
    /// Stable snake_case kind, e.g. `missing`, `string_type`, `enum`.
    #[serde(rename = "type")]
    pub kind: IssueKind,
    /// Human-readable message.
    pub msg: String,
}

impl Issue {
    /// Path rendered as `a.b.0.c` (empty path: `<root>`).
    pub fn loc_string(&self) -> String {
        if self.loc.is_empty() {
            return "<root>".to_string();
        }
        self.loc.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(".")
    }
}

/// Every error the engine reports. One case per WIT `error` case.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No entity with this id or key in the tenant.
    #[error("{0}")]
    NotFound(String),
    /// The table has no registered schema.
    #[error("{0}")]
    SchemaNotFound(String),
    /// The schema document is unusable.
    #[error("invalid schema: {0}")]
    InvalidSchema(String),
    /// A refused schema change.
    #[error("{0}")]
    SchemaConflict(String),
    /// Written data does not satisfy the schema.
    #[error("{}", render_issues(.0))]
    Validation(Vec<Issue>),
    /// Malformed or invalid query; `line`/`column` are 1-based, 0 when unknown.
    #[error("{message}")]
    InvalidQuery {
        /// What is wrong.
        message: String,
        /// 1-based line or 0.
        line: u32,
        /// 1-based column or 0.
        column: u32,
    },
    /// A construct REM does not support (yet).
    #[error("{0}")]
    Unsupported(String),
    /// An argument outside its domain.
    #[error("{0}")]
    InvalidArgument(String),
    /// The storage layer failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The embedding provider failed.
    #[error("embedding: {0}")]
    Embedding(String),
    /// A sandbox limit was hit.
    #[error("resource exhausted: {0}")]
    ResourceExhausted(String),
    /// A broken engine invariant.
    #[error("internal error: {0}")]
    Internal(String),
}

fn render_issues(issues: &[Issue]) -> String {
    let mut out = format!("{} validation error(s)", issues.len());
    for i in issues {
        out.push_str(&format!("\n  {}: {} [type={}]", i.loc_string(), i.msg, i.kind));
    }
    out
}

impl Error {
    /// The stable snake_case name of the case: the WIT case name with `_` for `-`
    /// (`not_found`, `validation`, ...), as every host reports it.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::SchemaNotFound(_) => "schema_not_found",
            Error::InvalidSchema(_) => "invalid_schema",
            Error::SchemaConflict(_) => "schema_conflict",
            Error::Validation(_) => "validation",
            Error::InvalidQuery { .. } => "invalid_query",
            Error::Unsupported(_) => "unsupported",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::Storage(_) => "storage",
            Error::Embedding(_) => "embedding",
            Error::ResourceExhausted(_) => "resource_exhausted",
            Error::Internal(_) => "internal",
        }
    }

    /// A query error without a position.
    pub fn query(message: impl Into<String>) -> Self {
        Error::InvalidQuery { message: message.into(), line: 0, column: 0 }
    }

    /// A stored entity record that cannot be read (`Storage`), saying why.
    pub fn corrupt_record(why: impl std::fmt::Display) -> Self {
        Error::Storage(format!("corrupt entity record: {why}"))
    }
}

/// Most characters of a caller's value that a message quotes (see [`preview`]).
pub const MAX_QUOTED_CHARS: usize = 64;

/// `text` (a value as written in a message) cut to its first [`MAX_QUOTED_CHARS`] characters,
/// followed by `… (N bytes)` naming its full length, so that a message about a large bad value
/// stays short. Text within the limit comes back unchanged.
pub fn preview(text: &str) -> std::borrow::Cow<'_, str> {
    preview_with(text, MAX_QUOTED_CHARS)
}

/// [`preview`] with a limit of `max` characters.
pub fn preview_with(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}… ({} bytes)", &text[..cut], text.len())),
    }
}

/// A JSON value as quoted in a message: its compact JSON text, cut as [`preview`] cuts text, and
/// whether it was cut. Serializes the value once without keeping more than the quoted start of it.
pub fn preview_json(value: &serde_json::Value) -> (String, bool) {
    /// The first `KEEP` bytes written, and how many were written in all.
    struct Head {
        kept: Vec<u8>,
        total: usize,
    }
    // Enough bytes for MAX_QUOTED_CHARS characters of up to 4 bytes each, and one more.
    const KEEP: usize = 4 * (MAX_QUOTED_CHARS + 1);
    impl std::io::Write for Head {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let room = KEEP.saturating_sub(self.kept.len());
            self.kept.extend_from_slice(&b[..b.len().min(room)]);
            self.total += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut head = Head { kept: Vec::new(), total: 0 };
    // Writing a `Value` to a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut head, value);
    let text = String::from_utf8_lossy(&head.kept);
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => (format!("{}… ({} bytes)", &text[..cut], head.total), true),
        None => (text.into_owned(), false),
    }
}

/// Result alias for the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod issue_kind_tests {
    use super::IssueKind;

    #[test]
    fn every_kind_reads_back_as_itself() {
        for s in [
            "missing",
            "int_type",
            "edge_target_missing",
            "reference_missing",
            "int_parsing_size",
            "json_invalid",
            "date_time_format",
            "a_kind_from_a_newer_engine",
        ] {
            assert_eq!(IssueKind::parse(s).as_str(), s);
        }
        assert_eq!(IssueKind::parse("missing"), IssueKind::Missing);
        assert_eq!(IssueKind::format("date-time"), IssueKind::parse("date_time_format"));
        assert!(matches!(IssueKind::parse("zzz"), IssueKind::Other(_)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_cut_long_values_on_a_character_boundary() {
        assert_eq!(preview("short"), "short");
        let exact = "é".repeat(MAX_QUOTED_CHARS);
        assert_eq!(preview(&exact), exact.as_str());
        let long = format!("{}€", "é".repeat(MAX_QUOTED_CHARS));
        assert_eq!(preview(&long), format!("{exact}… ({} bytes)", long.len()));
        let (quoted, cut) = preview_json(&serde_json::json!({"k": "€".repeat(100_000)}));
        assert!(cut && quoted.starts_with("{\"k\":\"€€") && quoted.ends_with("… (300008 bytes)"), "{quoted}");
        assert_eq!(quoted.chars().count(), MAX_QUOTED_CHARS + "… (300008 bytes)".chars().count());
        assert_eq!(preview_json(&serde_json::json!([1, "a"])), ("[1,\"a\"]".to_string(), false));
    }
}
