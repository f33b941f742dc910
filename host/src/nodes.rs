//! Graph results for people: each node's table and natural key beside its id (`rem traverse`
//! and `rem path` with `--format table` or `--keys`).

use std::collections::HashMap;

use serde_json::Value;

use crate::Api;
use crate::error::{Error, Result};

/// Add `table` and `key` (the value of the table's key field, else null) to each object of
/// `rows` whose `id_field` member is an id, reading the entities in one `get_many`.
/// Errors: `Storage`, `Connection`.
pub fn label(api: &dyn Api, rows: &mut [Value], id_field: &str) -> Result<()> {
    let ids: Vec<String> = rows.iter().filter_map(|r| r[id_field].as_str().map(String::from)).collect();
    let entities = api.get_many(&ids)?;
    let mut key_fields: HashMap<String, Option<String>> = HashMap::new();
    let mut found: HashMap<String, (String, Value)> = HashMap::new();
    for (id, entity) in ids.iter().zip(entities) {
        let Some(text) = entity else { continue };
        let e: Value = serde_json::from_str(&text).map_err(|e| Error::Internal(e.to_string()))?;
        let table = e["entity_type"].as_str().unwrap_or_default().to_string();
        if !key_fields.contains_key(&table) {
            let record: Value = serde_json::from_str(&api.get_schema(&table)?).unwrap_or(Value::Null);
            key_fields.insert(table.clone(), record["key_field"].as_str().map(String::from));
        }
        let key = match &key_fields[&table] {
            Some(k) => e["properties"][k].clone(),
            None => Value::Null,
        };
        found.insert(id.clone(), (table, key));
    }
    for row in rows.iter_mut() {
        let Some(id) = row[id_field].as_str().map(String::from) else { continue };
        if let (Some((table, key)), Some(obj)) = (found.get(&id), row.as_object_mut()) {
            obj.insert("table".into(), table.clone().into());
            obj.insert("key".into(), key.clone());
        }
    }
    Ok(())
}
