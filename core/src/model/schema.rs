//! Table schemas: JSON Schema documents (as Pydantic's `model_json_schema()`
//! emits them, or hand-written) plus REM settings, validated on every write.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Issue, IssueKind, PathSegment, Result};
use crate::model::defaults::Defaults;

/// REM settings names read from `json_schema_extra` (nested) or the top level.
pub const SETTINGS: [&str; 15] = [
    "key_field",
    "indexed_fields",
    "covering_fields",
    "references",
    "embedding_fields",
    "embedding_provider",
    "embedding_dims",
    "embedding_provider_alt",
    "hnsw_m",
    "hnsw_ef_construction",
    "hnsw_ef_search",
    "version",
    "short_name",
    "category",
    "description",
];

/// The `embedding_provider` of a table whose rows bring their own vectors (an `embedding`
/// member of each row) and that embeds nothing itself; it needs `embedding_dims`.
pub const NO_MODEL: &str = "none";

/// The member of a row that carries its own vector (and the column `SELECT embedding` reads),
/// unless the schema declares a property of that name.
pub const VECTOR_MEMBER: &str = "embedding";

/// The field naming a table's second vectors (from `embedding_provider_alt` or the host's
/// `P8_ALT_EMBEDDING`), in `search(..., vector_field)`.
pub const ALT_VECTOR_FIELD: &str = "embedding_alt";

/// What [`alt_index_name`] appends to a table's name.
pub const ALT_SUFFIX: &str = ".alt";

/// The name of the second vector index of table `table` (a table name never holds a `.`).
pub fn alt_index_name(table: &str) -> String {
    format!("{table}{ALT_SUFFIX}")
}

/// Whether `name` is an index name of [`alt_index_name`], not a table.
pub fn is_alt_index(name: &str) -> bool {
    name.ends_with(ALT_SUFFIX)
}

/// Largest `embedding_dims` a schema may state.
pub const MAX_DIMS: usize = 65_536;

/// Version used when a schema states none.
pub const DEFAULT_VERSION: &str = "1.0.0";

/// A registered table's schema as stored (the value of `get-schema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaRecord {
    /// Table name.
    pub name: String,
    /// Schema version (`MAJOR[.MINOR[.PATCH]]`).
    pub version: String,
    /// Field whose value is the natural key (see `ids`).
    pub key_field: Option<String>,
    /// Fields (dotted paths) with a secondary index.
    pub indexed_fields: Vec<String>,
    /// Indexed fields whose index also keeps a copy of each row's `SELECT *` text, so that
    /// `SELECT * ... WHERE field = literal` reads its rows from the index (see `index`). Each
    /// costs one more record per row on every write.
    #[serde(default)]
    pub covering_fields: Vec<String>,
    /// Fields whose text is embedded for semantic search.
    pub embedding_fields: Vec<String>,
    /// Reference fields: each names a row of another table (by id or natural key) and
    /// is kept as an edge from the row to it (see `refs`).
    #[serde(default)]
    pub references: Vec<Reference>,
    /// Embedding model, e.g. `local:all-MiniLM-L6-v2` (the host's default is filled in at registration).
    pub embedding_provider: Option<String>,
    /// Dimension of the table's vectors: the model's, recorded at registration, or the
    /// `embedding_dims` setting of a table without a model ([`NO_MODEL`]).
    #[serde(default)]
    pub embedding_dims: Option<usize>,
    /// The second embedding model (setting `embedding_provider_alt`, else the host's
    /// `P8_ALT_EMBEDDING`, filled in at registration), whose vectors of the same text are kept
    /// as `embedding_alt` in an index of their own. Needs embedding fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_provider_alt: Option<String>,
    /// Dimension of the second model's vectors, recorded at registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_dims_alt: Option<usize>,
    /// HNSW parameters (`hnsw_m`, `hnsw_ef_construction`, `hnsw_ef_search` settings;
    /// defaults M=16, ef_construction=100, ef_search=64) when the table has a vector index.
    #[serde(default)]
    pub hnsw: Option<HnswParams>,
    /// Short name (defaults to the table name).
    pub short_name: String,
    /// Category (`user` unless stated).
    pub category: String,
    /// Description (from the settings or the document's `description`).
    pub description: Option<String>,
    /// Whether properties outside the schema are refused (`additionalProperties: false`).
    pub strict: bool,
    /// The JSON Schema document as registered.
    pub schema: Value,
}

/// A reference field (setting `references`: `{"<field>": {"table": "<t>", "rel_type": "<r>"}}`):
/// the field's value (a string, or a list of strings) names rows of `table` by id or
/// natural key, and each is kept as an edge `row -> target` of type `rel_type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// Field (dotted path) holding the target's id or natural key.
    pub field: String,
    /// Table the target rows belong to.
    pub table: String,
    /// Relationship type of the edge, e.g. `belongs_to`.
    pub rel_type: String,
}

fn references_setting(doc: &Map<String, Value>) -> Result<Vec<Reference>> {
    let shape = "'references' must map field names to {\"table\": \"<table>\", \"rel_type\": \"<type>\"}";
    let Some(v) = setting(doc, "references") else { return Ok(Vec::new()) };
    // The list form is how a schema record shows them (`[{field, table, rel_type}]`).
    let pairs: Vec<(String, &Value)> = match v {
        Value::Object(map) => map.iter().map(|(f, spec)| (f.clone(), spec)).collect(),
        Value::Array(list) => list
            .iter()
            .map(|spec| match spec.get("field") {
                Some(Value::String(f)) if !f.is_empty() => Ok((f.clone(), spec)),
                _ => {
                    Err(Error::InvalidSchema(format!("{shape} (or a list of {{field, table, rel_type}}), got {spec}")))
                }
            })
            .collect::<Result<_>>()?,
        _ => return Err(Error::InvalidSchema(format!("{shape}, got {v}"))),
    };
    let mut out = Vec::new();
    for (field, spec) in pairs {
        let field = &field;
        let text = |name: &str| match spec.get(name) {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 256 => Ok(s.clone()),
            _ => Err(Error::InvalidSchema(format!("{shape}: '{field}' needs a non-empty '{name}'"))),
        };
        let table = text("table")?;
        check_table_name(&table).map_err(|e| Error::InvalidSchema(format!("references.{field}.table: {e}")))?;
        out.push(Reference { field: field.clone(), table, rel_type: text("rel_type")? });
    }
    Ok(out)
}

/// Check a table name: 1..=128 bytes, `[A-Za-z_][A-Za-z0-9_]*`, so it is a plain SQL identifier.
pub fn check_table_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "invalid table name {name:?}: use 1 to 128 ASCII letters, digits or '_', not starting with a digit"
        )))
    }
}

/// A schema record (what `get-schema` returns: `{name, version, key_field, ..., schema}`) as the
/// document it stands for: its `schema`, with the record's settings (as edited) written over
/// the document's own. Anything else is returned as it is. So `rem schema show x > x.json`,
/// an edit, and `rem schema add x.json` register what the file says.
fn unwrap_record(doc: Value) -> Value {
    let is_record = doc.get("schema").is_some_and(Value::is_object)
        && doc.get("name").is_some_and(Value::is_string)
        && doc.get("properties").is_none()
        && doc.get("type").is_none();
    let Value::Object(mut record) = doc else { return doc };
    if !is_record {
        return Value::Object(record);
    }
    let Some(Value::Object(mut inner)) = record.remove("schema") else { return Value::Object(record) };
    let mut set = |key: &str, value: Value| {
        if let Some(Value::Object(extra)) = inner.get_mut("json_schema_extra") {
            extra.remove(key);
        }
        if value.is_null() {
            inner.remove(key);
        } else {
            inner.insert(key.to_string(), value);
        }
    };
    for key in [
        "version",
        "key_field",
        "indexed_fields",
        "covering_fields",
        "embedding_fields",
        "references",
        "embedding_provider",
        "embedding_provider_alt",
        "short_name",
        "category",
        "description",
    ] {
        if let Some(v) = record.remove(key) {
            set(key, v);
        }
    }
    // A model's dimension is found again at registration; a table without a model states its own.
    if record.get("embedding_provider").and_then(Value::as_str) == Some(NO_MODEL)
        && let Some(v) = record.remove("embedding_dims")
    {
        set("embedding_dims", v);
    }
    if let Some(Value::Object(h)) = record.remove("hnsw") {
        for (from, to) in
            [("m", "hnsw_m"), ("ef_construction", "hnsw_ef_construction"), ("ef_search", "hnsw_ef_search")]
        {
            if let Some(v) = h.get(from) {
                set(to, v.clone());
            }
        }
    }
    Value::Object(inner)
}

/// The declared property closest to `name` by edit distance, if it is close enough to be a
/// misspelling (at most 2 edits, and fewer than half of `name`'s length).
pub(crate) fn closest<'a>(name: &str, declared: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    declared
        .map(|d| (strsim::osa_distance(&name.to_lowercase(), &d.to_lowercase()), d))
        .filter(|(dist, _)| *dist <= 2 && *dist * 2 < name.chars().count().max(2))
        .min_by_key(|(dist, d)| (*dist, *d))
        .map(|(_, d)| d)
}

/// Read the field-level settings Pydantic writes under `properties.<name>` (from
/// `Field(json_schema_extra={...})`): `key_field: true`, `indexed: true`, `embed: true` or an
/// `embedding_provider` (which also embeds the field), merged into the model-level settings.
/// Errors: `InvalidSchema` (a flag that is not a boolean, two key fields, two models).
fn field_settings(
    props: &Map<String, Value>,
    key_field: &mut Option<String>,
    indexed: &mut Vec<String>,
    embedded: &mut Vec<String>,
    provider: &mut Option<String>,
) -> Result<()> {
    for (name, spec) in props {
        let Some(spec) = spec.as_object() else { continue };
        let flag = |k: &str| -> Result<bool> {
            match setting(spec, k) {
                None => Ok(false),
                Some(Value::Bool(b)) => Ok(*b),
                Some(other) => {
                    Err(Error::InvalidSchema(format!("property '{name}': '{k}' must be true or false, got {other}")))
                }
            }
        };
        if flag("key_field")? {
            match key_field {
                Some(k) if k != name => {
                    return Err(Error::InvalidSchema(format!(
                        "two key fields: '{k}' and '{name}' (a table has one natural key)"
                    )));
                }
                _ => *key_field = Some(name.clone()),
            }
        }
        if (flag("indexed")? || flag("indexed_field")?) && !indexed.contains(name) {
            indexed.push(name.clone());
        }
        let model = string_setting(spec, "embedding_provider")?;
        if (flag("embed")? || flag("embedding_field")? || model.is_some()) && !embedded.contains(name) {
            embedded.push(name.clone());
        }
        if let Some(m) = model.filter(|m| m != "default") {
            match provider {
                Some(p) if *p != m => {
                    return Err(Error::InvalidSchema(format!(
                        "property '{name}' names embedding model '{m}', but the table embeds with '{p}' (one model per table)"
                    )));
                }
                _ => *provider = Some(m),
            }
        }
    }
    Ok(())
}

fn setting<'a>(doc: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    doc.get("json_schema_extra")
        .and_then(Value::as_object)
        .and_then(|extra| extra.get(name))
        .or_else(|| doc.get(name))
        .filter(|v| !v.is_null())
}

fn string_setting(doc: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match setting(doc, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) if name == "version" => Ok(Some(n.to_string())),
        Some(other) => Err(Error::InvalidSchema(format!("'{name}' must be a string, got {other}"))),
    }
}

fn list_setting(doc: &Map<String, Value>, name: &str) -> Result<Vec<String>> {
    match setting(doc, name) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) if !s.is_empty() => Ok(s.clone()),
                other => Err(Error::InvalidSchema(format!("'{name}' must list field names, got {other}"))),
            })
            .collect(),
        Some(other) => Err(Error::InvalidSchema(format!("'{name}' must be a list of field names, got {other}"))),
    }
}

fn number_setting(doc: &Map<String, Value>, name: &str, min: usize, max: usize) -> Result<Option<usize>> {
    match setting(doc, name) {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (min as u64..=max as u64).contains(&n) => Ok(Some(n as usize)),
            _ => Err(Error::InvalidSchema(format!("'{name}' must be an integer from {min} to {max}, got {v}"))),
        },
    }
}

/// Parse `MAJOR[.MINOR[.PATCH]]` (a leading `v` allowed) into numbers.
pub fn parse_version(v: &str) -> Result<(u64, u64, u64)> {
    let bad = || Error::InvalidSchema(format!("version {v:?} is not MAJOR[.MINOR[.PATCH]]"));
    let t = v.trim().trim_start_matches(['v', 'V']);
    let mut parts = t.split('.').map(|p| p.parse::<u64>().map_err(|_| bad()));
    let major = parts.next().ok_or_else(bad)??;
    let minor = parts.next().transpose()?.unwrap_or(0);
    let patch = parts.next().transpose()?.unwrap_or(0);
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok((major, minor, patch))
}

impl SchemaRecord {
    /// Build the record for table `name` from a JSON Schema document.
    ///
    /// Errors: `InvalidArgument` (bad table name), `InvalidSchema` (not an
    /// object, unusable settings, a key or embedding field that is not a
    /// property, or a document the JSON Schema compiler rejects).
    pub fn from_document(name: &str, doc: Value) -> Result<Self> {
        check_table_name(name)?;
        let doc = unwrap_record(doc);
        let Value::Object(map) = &doc else {
            return Err(Error::InvalidSchema("a schema must be a JSON object".into()));
        };
        let version = string_setting(map, "version")?.unwrap_or_else(|| DEFAULT_VERSION.to_string());
        parse_version(&version)?;
        let props = map.get("properties").and_then(Value::as_object);
        let mut key_field = string_setting(map, "key_field")?;
        let mut indexed_fields = list_setting(map, "indexed_fields")?;
        let covering_fields = list_setting(map, "covering_fields")?;
        let mut embedding_fields = list_setting(map, "embedding_fields")?;
        // `default` names the host's default model (`P8_DEFAULT_EMBEDDING`), as no setting does.
        let mut embedding_provider = string_setting(map, "embedding_provider")?.filter(|p| p != "default");
        if let Some(props) = props {
            field_settings(props, &mut key_field, &mut indexed_fields, &mut embedding_fields, &mut embedding_provider)?;
        }
        if let Some(f) = covering_fields.iter().find(|f| !indexed_fields.contains(f)) {
            return Err(Error::InvalidSchema(format!(
                "covering field '{f}' is not in indexed_fields ({}): add it there too, a row copy belongs to an index",
                indexed_fields.join(", ")
            )));
        }
        let references = references_setting(map)?;
        let strict = map.get("additionalProperties") == Some(&Value::Bool(false));
        if let Some(props) = props {
            // A table that declares its properties (additionalProperties false) may name only
            // those; a free-form one may name others, unless the name looks like a misspelling
            // of a declared property.
            let check = |what: &str, field: &str| -> Result<()> {
                let top = field.split('.').next().unwrap_or(field);
                if props.contains_key(top) {
                    return Ok(());
                }
                let near = closest(top, props.keys().map(String::as_str));
                if !strict && near.is_none() {
                    return Ok(());
                }
                let hint = match near {
                    Some(n) => format!("did you mean '{n}'? "),
                    None => String::new(),
                };
                Err(Error::InvalidSchema(format!(
                    "{what} '{field}' is not a property of the schema: {hint}(properties: {})",
                    props.keys().cloned().collect::<Vec<_>>().join(", ")
                )))
            };
            if let Some(k) = &key_field {
                check("key_field", k)?;
            }
            for f in &indexed_fields {
                check("indexed field", f)?;
            }
            for f in &embedding_fields {
                check("embedding field", f)?;
            }
            for r in &references {
                check("reference field", &r.field)?;
            }
        }
        let defaults = HnswParams::default();
        let hnsw = HnswParams {
            m: number_setting(map, "hnsw_m", 2, 100)?.unwrap_or(defaults.m),
            ef_construction: number_setting(map, "hnsw_ef_construction", 8, 2000)?.unwrap_or(defaults.ef_construction),
            ef_search: number_setting(map, "hnsw_ef_search", 1, 10_000)?.unwrap_or(defaults.ef_search),
        };
        let embedding_dims = number_setting(map, "embedding_dims", 1, MAX_DIMS)?;
        let embedding_provider_alt = string_setting(map, "embedding_provider_alt")?;
        if embedding_provider_alt.is_some() && embedding_fields.is_empty() {
            return Err(Error::InvalidSchema(
                "embedding_provider_alt embeds the embedding fields with a second model, but the schema names none: \
                 add embedding_fields"
                    .into(),
            ));
        }
        let no_model = embedding_provider.as_deref() == Some(NO_MODEL);
        if no_model && !embedding_fields.is_empty() {
            return Err(Error::InvalidSchema(format!(
                "embedding_provider '{NO_MODEL}' embeds nothing, but the schema names embedding fields ({}): \
                 name a model, or remove the fields and let each row bring its vector",
                embedding_fields.join(", ")
            )));
        }
        if no_model && embedding_dims.is_none() {
            return Err(Error::InvalidSchema(format!(
                "embedding_provider '{NO_MODEL}' needs 'embedding_dims': the dimension of the vectors rows bring"
            )));
        }
        let hnsw = if embedding_fields.is_empty() && !no_model { None } else { Some(hnsw) };
        let record = SchemaRecord {
            name: name.to_string(),
            version,
            key_field,
            indexed_fields,
            covering_fields,
            embedding_fields,
            references,
            embedding_provider,
            embedding_dims,
            embedding_provider_alt,
            embedding_dims_alt: None,
            hnsw,
            short_name: string_setting(map, "short_name")?.unwrap_or_else(|| name.to_string()),
            category: string_setting(map, "category")?.unwrap_or_else(|| "user".to_string()),
            description: string_setting(map, "description")?,
            strict,
            schema: doc,
        };
        CompiledSchema::compile(record.clone())?;
        Ok(record)
    }

    /// Whether the table keeps a vector index: it embeds fields, or its rows bring their
    /// vectors ([`NO_MODEL`]).
    pub fn has_vectors(&self) -> bool {
        !self.embedding_fields.is_empty() || self.has_no_model()
    }

    /// The second vector index of the table as a record of its own (named [`alt_index_name`],
    /// with the second model and dimension), when it has one.
    pub fn alt_index(&self) -> Option<SchemaRecord> {
        let model = self.embedding_provider_alt.clone()?;
        Some(SchemaRecord {
            name: alt_index_name(&self.name),
            embedding_provider: Some(model),
            embedding_dims: self.embedding_dims_alt,
            embedding_provider_alt: None,
            embedding_dims_alt: None,
            ..self.clone()
        })
    }

    /// Whether the table embeds nothing itself (`embedding_provider: "none"`).
    pub fn has_no_model(&self) -> bool {
        self.embedding_provider.as_deref() == Some(NO_MODEL)
    }

    /// Refuse replacing `self` (stored) with `new` when `new` bumps the major version.
    pub fn check_replacement(&self, new: &SchemaRecord) -> Result<()> {
        let (old_major, ..) = parse_version(&self.version)?;
        let (new_major, ..) = parse_version(&new.version)?;
        if new_major > old_major {
            return Err(Error::SchemaConflict(format!(
                "schema '{}' is registered at version {}; {} is a major version bump, which needs a \
                 data migration REM does not do. Keep the major version ({old_major}.x), or register \
                 the new shape under another table name",
                self.name, self.version, new.version
            )));
        }
        Ok(())
    }
}

/// A schema record with its compiled validator.
pub struct CompiledSchema {
    /// The record.
    pub record: SchemaRecord,
    validator: jsonschema::Validator,
    defaults: Defaults,
}

impl CompiledSchema {
    /// Compile `record.schema` (JSON Schema 2020-12 unless `$schema` says otherwise; formats asserted).
    ///
    /// `pattern` and `patternProperties` run on the `regex` crate, which matches in time linear in
    /// the text whatever the pattern (`^(a+)+$` cannot backtrack exponentially), so a schema cannot
    /// stall writes. It has no lookaround and no backreferences: a pattern using them is refused
    /// here (`InvalidSchema`, naming the pattern) rather than when a row is written.
    pub fn compile(record: SchemaRecord) -> Result<Self> {
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(&record.schema)
            .map_err(|e| {
                let hint = match e.kind() {
                    jsonschema::error::ValidationErrorKind::Format { format } if format == "regex" => {
                        ": REM matches patterns with the `regex` crate (linear time), which has no lookaround \
                         ((?=...), (?<=...)) and no backreferences (\\1); rewrite the pattern without them"
                    }
                    _ => "",
                };
                Error::InvalidSchema(format!("{} (at {}){hint}", message(&e), e.schema_path()))
            })?;
        let defaults = Defaults::compile(&record.schema);
        Ok(CompiledSchema { record, validator, defaults })
    }

    /// Apply schema defaults to `value`, then validate it. Returns whether a default was
    /// filled in (so `value` is no longer what was given), or every issue at once.
    pub fn validate(&self, value: &mut Value) -> std::result::Result<bool, Vec<Issue>> {
        let filled = self.defaults.apply(value);
        if self.validator.is_valid(value) {
            return Ok(filled);
        }
        let mut issues: Vec<Issue> = Vec::new();
        for e in self.validator.iter_errors(value) {
            to_issues(&e, &mut issues);
        }
        if issues.is_empty() { Ok(filled) } else { Err(issues) }
    }
}

fn json_type_name(t: &jsonschema::JsonType) -> IssueKind {
    use jsonschema::JsonType::*;
    match t {
        Null => IssueKind::NoneRequired,
        Boolean => IssueKind::BoolType,
        Integer => IssueKind::IntType,
        Number => IssueKind::FloatType,
        String => IssueKind::StringType,
        Array => IssueKind::ListType,
        Object => IssueKind::DictType,
    }
}

/// Whether an `anyOf` branch failed only for not being `null` (the `None` arm of `Optional[X]`).
fn null_arm(branch: &[jsonschema::ValidationError<'_>]) -> bool {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    matches!(branch, [only] if matches!(only.kind(), K::Type { kind: TypeKind::Single(jsonschema::JsonType::Null) }))
}

/// Push the issues of `e`. A failed `anyOf` whose only non-null arm is one schema (what
/// Pydantic emits for `Optional[Model]`) reports that arm's issues with their own `loc`s,
/// as Pydantic does, instead of one `union_no_match` at the field.
fn to_issues(e: &jsonschema::ValidationError<'_>, out: &mut Vec<Issue>) {
    if let jsonschema::error::ValidationErrorKind::AnyOf { context } = e.kind() {
        let arms: Vec<_> = context.iter().filter(|b| !null_arm(b)).collect();
        if arms.len() == 1 && context.len() > 1 && !arms[0].is_empty() {
            for sub in arms[0] {
                to_issues(sub, out);
            }
            return;
        }
    }
    out.push(to_issue(e));
}

/// Map a jsonschema error to a pydantic-shaped issue with a stable `kind`.
fn to_issue(e: &jsonschema::ValidationError<'_>) -> Issue {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    let mut loc: Vec<PathSegment> = e
        .instance_path()
        .iter()
        .map(|s| match s {
            jsonschema::paths::LocationSegment::Property(p) => PathSegment::Field(p.to_string()),
            jsonschema::paths::LocationSegment::Index(i) => PathSegment::Index(i as u32),
        })
        .collect();
    let kind: IssueKind = match e.kind() {
        K::Required { property } => {
            if let Some(p) = property.as_str() {
                loc.push(PathSegment::Field(p.to_string()));
            }
            IssueKind::Missing
        }
        K::Type { kind: TypeKind::Single(t) } => json_type_name(t),
        K::Type { kind: TypeKind::Multiple(_) } => IssueKind::TypeError,
        K::Minimum { .. } => IssueKind::GreaterThanEqual,
        K::ExclusiveMinimum { .. } => IssueKind::GreaterThan,
        K::Maximum { .. } => IssueKind::LessThanEqual,
        K::ExclusiveMaximum { .. } => IssueKind::LessThan,
        K::MinLength { .. } => IssueKind::StringTooShort,
        K::MaxLength { .. } => IssueKind::StringTooLong,
        K::Pattern { .. } => IssueKind::StringPatternMismatch,
        K::Enum { .. } => IssueKind::Enum,
        K::Constant { .. } => IssueKind::LiteralError,
        K::MinItems { .. } => IssueKind::TooShort,
        K::MaxItems { .. } => IssueKind::TooLong,
        K::AdditionalProperties { .. } | K::UnevaluatedProperties { .. } => IssueKind::ExtraForbidden,
        K::Format { format } => IssueKind::format(format),
        K::AnyOf { .. } => IssueKind::UnionNoMatch,
        K::OneOfNotValid { .. } | K::OneOfMultipleValid { .. } => IssueKind::OneOf,
        K::MultipleOf { .. } => IssueKind::MultipleOf,
        K::UniqueItems => IssueKind::UniqueItems,
        K::Not { .. } => IssueKind::Not,
        K::FalseSchema => IssueKind::Forbidden,
        _ => IssueKind::ValueError,
    };
    Issue { loc, kind, msg: message(e) }
}

/// Longest message of a validation issue, in characters, however long the values it quotes.
pub const MAX_MESSAGE_CHARS: usize = 512;

/// The message of `e`, with the value it is about quoted in at most [`MAX_QUOTED_CHARS`]
/// characters (a 1 MB string that breaks `maxLength` is not sent back whole), and the whole
/// message cut at [`MAX_MESSAGE_CHARS`].
///
/// [`MAX_QUOTED_CHARS`]: crate::error::MAX_QUOTED_CHARS
fn message(e: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::ValidationErrorKind as K;
    let text = match e.kind() {
        // The error of the property name, which is its instance.
        K::PropertyNames { error } => message(error),
        _ => {
            let (quoted, cut) = crate::error::preview_json(e.instance());
            if cut { e.masked_with(quoted).to_string() } else { e.to_string() }
        }
    };
    crate::error::preview_with(&text, MAX_MESSAGE_CHARS).into_owned()
}

/// Index parameters (per table, from the schema's `json_schema_extra`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HnswParams {
    /// `M`: links per node on the upper layers (layer 0 keeps `2M`). Default 16.
    pub m: usize,
    /// `ef_construction`: candidate list size while inserting. Default 100.
    pub ef_construction: usize,
    /// `ef_search`: candidate list size while searching (at least `k` is used). Default 64.
    pub ef_search: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams { m: 16, ef_construction: 100, ef_search: 64 }
    }
}

impl HnswParams {
    /// Largest link list kept on `layer`: `2M` on layer 0, `M` above.
    pub fn max_links(&self, layer: usize) -> usize {
        if layer == 0 { 2 * self.m } else { self.m }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What Pydantic v2 emits for a model with a nested model, an enum, an
    /// optional, defaults and json_schema_extra (flattened to the top level).
    fn pydantic_person() -> Value {
        json!({
            "$defs": {
                "Address": {"properties": {"city": {"title": "City", "type": "string"},
                                           "country": {"default": "NL", "title": "Country", "type": "string"}},
                            "required": ["city"], "title": "Address", "type": "object"},
                "Role": {"enum": ["engineer", "manager"], "title": "Role", "type": "string"}
            },
            "properties": {
                "name": {"title": "Name", "type": "string"},
                "age": {"minimum": 0, "title": "Age", "type": "integer"},
                "role": {"$ref": "#/$defs/Role", "default": "engineer"},
                "address": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}], "default": null},
                "tags": {"items": {"type": "string"}, "title": "Tags", "type": "array", "default": []}
            },
            "required": ["name", "age"],
            "title": "Person",
            "type": "object",
            "key_field": "name",
            "indexed_fields": ["role"],
            "version": "1.2.0"
        })
    }

    #[test]
    fn a_bad_optional_model_reports_its_own_fields() {
        let compiled =
            CompiledSchema::compile(SchemaRecord::from_document("person", pydantic_person()).unwrap()).unwrap();
        let mut bad = json!({"name": "A", "age": 1, "address": {"country": 3}});
        let issues = compiled.validate(&mut bad).unwrap_err();
        let got: Vec<(String, &str)> = issues.iter().map(|i| (i.loc_string(), i.kind.as_str())).collect();
        assert_eq!(got, vec![("address.city".to_string(), "missing"), ("address.country".to_string(), "string_type")]);
        let mut wrong_type = json!({"name": "A", "age": 1, "address": 5});
        let issues = compiled.validate(&mut wrong_type).unwrap_err();
        assert_eq!(issues[0].loc_string(), "address");
        assert!(compiled.validate(&mut json!({"name": "A", "age": 1, "address": null})).is_ok());
    }

    #[test]
    fn settings_are_read_flattened_or_nested() {
        let flat = SchemaRecord::from_document("person", pydantic_person()).unwrap();
        assert_eq!(flat.key_field.as_deref(), Some("name"));
        assert_eq!(flat.indexed_fields, vec!["role"]);
        assert_eq!(flat.version, "1.2.0");
        let nested = json!({"type": "object", "properties": {"code": {"type": "string"}},
                            "json_schema_extra": {"key_field": "code", "embedding_fields": ["code"], "version": 2}});
        let r = SchemaRecord::from_document("items", nested).unwrap();
        assert_eq!(r.key_field.as_deref(), Some("code"));
        assert_eq!(r.embedding_fields, vec!["code"]);
        assert_eq!(r.version, "2");
        assert_eq!(r.category, "user");
    }

    #[test]
    fn bad_settings_and_names_are_refused() {
        // A table that declares its properties names only those, with a hint for a typo.
        let strict = json!({"type": "object", "properties": {"title": {"type": "string"}}, "key_field": "b",
                            "additionalProperties": false});
        let err = SchemaRecord::from_document("t", strict).unwrap_err();
        assert!(err.to_string().contains("key_field 'b' is not a property"), "{err}");
        let typo = json!({"type": "object", "properties": {"title": {"type": "string"}}, "indexed_fields": ["titel"]});
        let err = SchemaRecord::from_document("t", typo).unwrap_err();
        assert!(err.to_string().contains("did you mean 'title'?"), "{err}");
        // A free-form table may name fields it does not declare.
        let free = json!({"type": "object", "properties": {"title": {"type": "string"}}, "key_field": "slug",
                          "indexed_fields": ["status"], "embedding_fields": ["body"]});
        let r = SchemaRecord::from_document("t", free).unwrap();
        assert_eq!((r.key_field.as_deref(), r.indexed_fields.len(), r.embedding_fields.len()), (Some("slug"), 1, 1));
        let bare = SchemaRecord::from_document("t", json!({"type": "object", "key_field": "k"})).unwrap();
        assert_eq!(bare.key_field.as_deref(), Some("k"));
        assert!(SchemaRecord::from_document("1bad", json!({})).is_err());
        assert!(SchemaRecord::from_document("t", json!([])).is_err());
        assert!(SchemaRecord::from_document("t", json!({"type": 12})).is_err());
        assert!(SchemaRecord::from_document("t", json!({"version": "one"})).is_err());
    }

    #[test]
    fn field_level_settings_as_pydantic_writes_them() {
        // class Article(BaseModel): slug: str = Field(json_schema_extra={"key_field": True}) ...
        let doc = json!({
            "title": "Article", "type": "object",
            "properties": {
                "slug": {"type": "string", "key_field": true},
                "status": {"type": "string", "indexed": true},
                "body": {"type": "string", "embedding_provider": "hash:16"},
                "summary": {"type": "string", "json_schema_extra": {"embed": true}}
            },
            "indexed_fields": ["slug"], "embedding_provider": "default"
        });
        let r = SchemaRecord::from_document("articles", doc).unwrap();
        assert_eq!(r.key_field.as_deref(), Some("slug"));
        assert_eq!(r.indexed_fields, vec!["slug", "status"]);
        assert_eq!(r.embedding_fields, vec!["body", "summary"]);
        assert_eq!(r.embedding_provider.as_deref(), Some("hash:16"), "a field's model is the table's");
        let default = SchemaRecord::from_document("t", json!({"type": "object", "embedding_provider": "default"}));
        assert_eq!(default.unwrap().embedding_provider, None, "`default` is the host's default model");
        let two = json!({"type": "object", "properties": {"a": {"key_field": true}, "b": {"key_field": true}}});
        assert!(SchemaRecord::from_document("t", two).unwrap_err().to_string().contains("two key fields"));
        let bad = json!({"type": "object", "properties": {"a": {"indexed": "yes"}}});
        assert!(
            SchemaRecord::from_document("t", bad).unwrap_err().to_string().contains("'indexed' must be true or false")
        );
    }

    #[test]
    fn a_record_registers_as_the_document_it_shows() {
        let doc = json!({"title": "Article", "type": "object", "key_field": "slug",
                         "properties": {"slug": {"type": "string"}, "body": {"type": "string"}},
                         "references": {"slug": {"table": "pages", "rel_type": "mirrors"}}});
        let first = SchemaRecord::from_document("articles", doc).unwrap();
        let mut edited = serde_json::to_value(&first).unwrap();
        edited["indexed_fields"] = json!(["body"]);
        edited["references"] = json!([]);
        let again = SchemaRecord::from_document("articles", edited).unwrap();
        assert_eq!(again.key_field.as_deref(), Some("slug"));
        assert_eq!(again.indexed_fields, vec!["body"], "the edit is what registers");
        assert!(again.references.is_empty());
        let listed = json!({"type": "object", "properties": {"s": {}},
                            "references": [{"field": "s", "table": "sessions", "rel_type": "belongs_to"}]});
        assert_eq!(SchemaRecord::from_document("t", listed).unwrap().references[0].rel_type, "belongs_to");
    }

    #[test]
    fn major_bumps_are_refused_minor_and_lower_accepted() {
        let v = |s: &str| SchemaRecord::from_document("t", json!({"version": s})).unwrap();
        assert!(v("1.0.0").check_replacement(&v("1.5.0")).is_ok());
        assert!(v("2.0.0").check_replacement(&v("1.0.0")).is_ok());
        let err = v("1.0.0").check_replacement(&v("2.0.0")).unwrap_err();
        assert!(matches!(err, Error::SchemaConflict(_)));
    }

    #[test]
    fn defaults_are_applied_and_every_issue_reported() {
        let c = CompiledSchema::compile(SchemaRecord::from_document("person", pydantic_person()).unwrap()).unwrap();
        let mut ok = json!({"name": "Ann", "age": 3, "address": {"city": "Delft"}});
        c.validate(&mut ok).unwrap();
        assert_eq!(ok["role"], "engineer");
        assert_eq!(ok["tags"], json!([]));
        assert_eq!(ok["address"]["country"], "NL");

        let mut bad = json!({"age": -1, "role": "boss", "address": {"country": 5}, "tags": ["a", 2]});
        let issues = c.validate(&mut bad).unwrap_err();
        let got: Vec<(String, String)> = issues.iter().map(|i| (i.loc_string(), i.kind.to_string())).collect();
        for want in [("name", "missing"), ("age", "greater_than_equal"), ("role", "enum"), ("tags.1", "string_type")] {
            assert!(got.contains(&(want.0.to_string(), want.1.to_string())), "{want:?} not in {got:?}");
        }
        assert!(got.iter().any(|(loc, _)| loc.starts_with("address")), "{got:?}");
    }
}
