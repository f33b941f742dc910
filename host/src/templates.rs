//! Built-in schemas: the core system tables every agent database can use, and
//! templates to clone under a new name.
//!
//! Core (`rem init` registers them): `resources` (document chunks, embedded),
//! `documents` (one row per source file), `sessions`, `messages` (embedded;
//! indexed by `session_id` and `timestamp`), `moments` (embedded summaries).
//! Templates (`rem schema templates`): `resources`, `entities`, `agentlets`,
//! `moments`. The documents live in `host/schemas/` as JSON Schema files.

/// One built-in schema: its table name, a one-line description, and the JSON Schema document.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Table name (core) or template name.
    pub name: &'static str,
    /// What it is for.
    pub about: &'static str,
    /// The JSON Schema (JSON text), REM settings at the top level.
    pub schema: &'static str,
}

const RESOURCES: &str = include_str!("../schemas/core/resources.json");
const MOMENTS: &str = include_str!("../schemas/core/moments.json");

/// The core system schemas, registered by `rem init`.
pub const CORE: &[Builtin] = &[
    Builtin { name: "resources", about: "document chunks: uri, chunk_ordinal, content (embedded)", schema: RESOURCES },
    Builtin {
        name: "documents",
        about: "one row per ingested file: uri, content type, size, BLAKE3 hash, chunk count",
        schema: include_str!("../schemas/core/documents.json"),
    },
    Builtin {
        name: "sessions",
        about: "conversations: session_id, user_id, agent_uri",
        schema: include_str!("../schemas/core/sessions.json"),
    },
    Builtin {
        name: "messages",
        about: "messages of a session: role, content (embedded), timestamp; indexed by session_id",
        schema: include_str!("../schemas/core/messages.json"),
    },
    Builtin { name: "moments", about: "time spans with a summary (embedded), type, people, tags", schema: MOMENTS },
];

/// Templates to clone under a new table name (`rem schema add --template`).
pub const TEMPLATES: &[Builtin] = &[
    Builtin {
        name: "resources",
        about: "text resources and document chunks keyed by uri + chunk_ordinal",
        schema: RESOURCES,
    },
    Builtin {
        name: "entities",
        about: "named things (people, projects, tools) with a searchable description",
        schema: include_str!("../schemas/templates/entities.json"),
    },
    Builtin {
        name: "agentlets",
        about: "agent definitions: system prompt (embedded), tools, resources, output schema",
        schema: include_str!("../schemas/templates/agentlets.json"),
    },
    Builtin { name: "moments", about: "time spans with a searchable summary", schema: MOMENTS },
];

/// The template `name`. Errors: `InvalidArgument` listing the templates.
pub fn template(name: &str) -> crate::Result<&'static Builtin> {
    TEMPLATES.iter().find(|t| t.name == name).ok_or_else(|| {
        crate::Error::InvalidArgument(format!(
            "no template {name:?}: use one of {}",
            TEMPLATES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
        ))
    })
}

/// The template `name` as a schema for table `table`: `short_name` and `title` renamed,
/// `category` set to `user`. Errors: as [`template`].
pub fn instantiate(name: &str, table: &str) -> crate::Result<serde_json::Value> {
    let mut doc: serde_json::Value = serde_json::from_str(template(name)?.schema)
        .map_err(|e| crate::Error::Internal(format!("built-in template {name} is not JSON: {e}")))?;
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("short_name".into(), table.into());
        obj.insert("title".into(), table.into());
        obj.insert("category".into(), "user".into());
    }
    Ok(doc)
}
