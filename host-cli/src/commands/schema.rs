//! `rem schema add|list|show`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::cli::{Global, SchemaCommand};
use crate::output;

/// Read a schema file: YAML for `.yaml`/`.yml`, JSON otherwise.
pub fn read_schema_file(file: &Path) -> Result<Value> {
    if let Some((module, class)) = file.to_str().and_then(|f| f.rsplit_once("::")) {
        return pydantic_schema(Path::new(module), class);
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read schema file {}", file.display()))?;
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if ext == "yaml" || ext == "yml" {
        serde_yaml_ng::from_str(&text).with_context(|| format!("{} is not valid YAML", file.display()))
    } else {
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", file.display()))
    }
}

/// The Python interpreter that imports Pydantic models: `$P8_PYTHON`, else `python3`.
const ENV_PYTHON: &str = "P8_PYTHON";

/// Import `class` from the Python file `module` with `python3` and return its
/// `model_json_schema()` (`rem schema add models.py::Article`). Errors: no such file, no
/// Python, the file failing to import (its traceback's last line), no such class, not a
/// Pydantic model.
fn pydantic_schema(module: &Path, class: &str) -> Result<Value> {
    if !module.is_file() {
        bail!("no Python file {} (write FILE.py::Class)", module.display());
    }
    if class.is_empty() || !class.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
        bail!("{class:?} is not a Python class name (write FILE.py::Class)");
    }
    // The script reads its arguments from argv: nothing from the command line is spliced into code.
    const SCRIPT: &str = r#"
import importlib.util, json, sys
path, name = sys.argv[1], sys.argv[2]
try:
    import pydantic
except ImportError:
    sys.exit("error: Pydantic is not installed for this Python: pip install pydantic (or set P8_PYTHON)")
spec = importlib.util.spec_from_file_location("rem_schema_module", path)
module = importlib.util.module_from_spec(spec)
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(path)))
spec.loader.exec_module(module)
obj = module
for part in name.split("."):
    if not hasattr(obj, part):
        sys.exit(f"error: {path} has no class {name}")
    obj = getattr(obj, part)
if not (isinstance(obj, type) and issubclass(obj, pydantic.BaseModel)):
    sys.exit(f"error: {path}::{name} is not a Pydantic model (a subclass of pydantic.BaseModel)")
print(json.dumps(obj.model_json_schema()))
"#;
    let python = std::env::var(ENV_PYTHON).ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".into());
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(SCRIPT)
        .arg(module)
        .arg(class)
        .output()
        .with_context(|| format!("cannot run {python} to import {}::{class} (set P8_PYTHON)", module.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("it failed").trim();
        bail!("importing {}::{class} with {python} failed: {}", module.display(), last.trim_start_matches("error: "));
    }
    serde_json::from_slice(&out.stdout).context("the model's JSON schema is not JSON")
}

fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// The table name for a schema document: `short_name` (nested or top level), else `title` in snake_case.
pub fn table_name(doc: &Value) -> Option<String> {
    // A schema record (`rem schema show` output) names its table.
    if doc.get("schema").is_some_and(Value::is_object)
        && let Some(name) = doc.get("name").and_then(Value::as_str)
    {
        return Some(name.to_string());
    }
    let extra = doc.get("json_schema_extra");
    let short = extra.and_then(|e| e.get("short_name")).or_else(|| doc.get("short_name")).and_then(Value::as_str);
    short.map(str::to_string).or_else(|| doc.get("title").and_then(Value::as_str).map(snake_case))
}

/// Run a `rem schema` subcommand.
pub fn run(g: &Global, cmd: SchemaCommand) -> Result<()> {
    match cmd {
        SchemaCommand::Templates => {
            let rows: Vec<Value> = rem_host::templates::TEMPLATES
                .iter()
                .map(|t| {
                    let doc: Value = serde_json::from_str(t.schema).unwrap_or(Value::Null);
                    json!({
                        "template": t.name,
                        "about": t.about,
                        "key_field": doc["key_field"],
                        "embedding_fields": doc.get("embedding_fields").cloned().unwrap_or(json!([])),
                        "indexed_fields": doc.get("indexed_fields").cloned().unwrap_or(json!([])),
                        "covering_fields": doc.get("covering_fields").cloned().unwrap_or(json!([])),
                    })
                })
                .collect();
            output::rows(g.format, &rows)
        }
        SchemaCommand::Add { file, name, template, output: out } => {
            let doc = match (&template, &file) {
                (Some(t), _) => rem_host::templates::instantiate(t, name.as_deref().unwrap_or(t))?,
                (None, Some(f)) => read_schema_file(f)?,
                (None, None) => bail!("give a schema file, or --template <name> --name <table>"),
            };
            let source = file.as_ref().map(|f| f.display().to_string()).unwrap_or_else(|| "the template".into());
            let Some(name) = name.or_else(|| table_name(&doc)) else {
                bail!("{source} has no `short_name` or `title` to name the table; pass --name <table>");
            };
            // The table's name goes into the document, so that the schema as `rem schema show`
            // prints it (its `schema` member alone, too) registers again under the same name.
            let mut doc = doc;
            if table_name(&doc).as_deref() != Some(name.as_str())
                && let Some(obj) = doc.as_object_mut()
                && !obj.contains_key("schema")
            {
                obj.insert("short_name".into(), name.clone().into());
            }
            if let Some(path) = out {
                let text = serde_json::to_string_pretty(&doc)? + "\n";
                std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
                return output::value(g.format, &json!({"written": path, "table": name}));
            }
            let db = super::open(g)?;
            // Adding indexed fields to a table with rows builds the indexes in this call.
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.set_message(format!("registering {name} (building any new indexes)"));
            spinner.enable_steady_tick(std::time::Duration::from_millis(120));
            let record = db.register_schema(&name, &doc.to_string());
            spinner.finish_and_clear();
            let record = record?;
            output::value(g.format, &output::parse(&record)?)
        }
        SchemaCommand::List => {
            let db = super::open(g)?;
            let mut rows = Vec::new();
            for name in db.list_schemas()? {
                let rec = output::parse(&db.get_schema(&name)?)?;
                rows.push(json!({
                    "name": name,
                    "version": rec["version"],
                    "key_field": rec["key_field"],
                    "indexed_fields": rec["indexed_fields"],
                    "embedding_fields": rec["embedding_fields"],
                    "count": db.count(&name)?,
                }));
            }
            output::rows(g.format, &rows)
        }
        SchemaCommand::Show { name } => {
            let db = super::open(g)?;
            output::value(g.format, &output::parse(&db.get_schema(&name)?)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_short_name_then_title() {
        assert_eq!(table_name(&json!({"title": "ChatMessage"})).as_deref(), Some("chat_message"));
        assert_eq!(table_name(&json!({"title": "X", "short_name": "msgs"})).as_deref(), Some("msgs"));
        assert_eq!(table_name(&json!({"json_schema_extra": {"short_name": "n"}})).as_deref(), Some("n"));
        assert_eq!(table_name(&json!({})), None);
    }
}
