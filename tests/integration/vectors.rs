//! Rows that bring their own vectors (an `embedding` member), tables without a model
//! (`embedding_provider: "none"`), and reading stored vectors back (`get-vectors`,
//! `SELECT embedding`), through the real component.

use rem_host::{Database, Error, SearchOptions, SearchQuery};
use rem_tests::parse;
use serde_json::{Value, json};

fn unit(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
}

/// A table keyed and embedded on `title`, with `models` (`embedding_provider` and maybe
/// `embedding_provider_alt`) merged in.
fn titled(models: Value) -> Value {
    let mut schema = json!({
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "key_field": "title",
        "embedding_fields": ["title"],
    });
    for (k, v) in models.as_object().unwrap() {
        schema[k] = v.clone();
    }
    schema
}

fn own_vectors_db() -> Database {
    let db = Database::in_memory().unwrap();
    let schema = json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "kind": {"type": "string"}},
        "key_field": "name",
        "indexed_fields": ["kind"],
        "embedding_provider": "none",
        "embedding_dims": 3,
    });
    let rec = parse(&db.register_schema("points", &schema.to_string()).unwrap());
    assert_eq!((rec["embedding_provider"].as_str(), rec["embedding_dims"].as_u64()), (Some("none"), Some(3)));
    db
}

fn search(db: &Database, table: &str, q: SearchQuery, filter: Option<&str>) -> Vec<Value> {
    let opts = SearchOptions { top_k: 3, filter: filter.map(str::to_string), ..Default::default() };
    match parse(&db.search(table, &q, &opts).unwrap()) {
        Value::Array(rows) => rows,
        other => panic!("{other}"),
    }
}

#[test]
fn a_table_without_a_model_indexes_the_vectors_rows_bring() {
    let db = own_vectors_db();
    let rows: Vec<String> =
        [("x", [1.0, 0.0, 0.0], "axis"), ("y", [0.0, 2.0, 0.0], "axis"), ("xy", [1.0, 1.0, 0.1], "mix")]
            .iter()
            .map(|(n, v, k)| json!({"name": n, "kind": k, "embedding": v}).to_string())
            .collect();
    let ids = db.insert_batch("points", &rows).unwrap();
    // The vector is not a property.
    let x = parse(&db.get(&ids[0]).unwrap().unwrap());
    assert!(x["properties"].get("embedding").is_none(), "{x}");
    let hits = search(&db, "points", SearchQuery::Vector(vec![0.9, 0.1, 0.0]), None);
    let names: Vec<&str> = hits.iter().map(|h| h["properties"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["x", "xy", "y"]);
    let hits = search(&db, "points", SearchQuery::Vector(vec![0.9, 0.1, 0.0]), Some("kind = 'axis'"));
    assert_eq!(hits.len(), 2);
    // Read back: unit length, in order, None for an unknown id.
    let unknown = "00000000-0000-0000-0000-000000000000".to_string();
    let back = db.get_vectors(&[ids[1].clone(), unknown, ids[0].clone()]).unwrap();
    assert!(close(back[0].as_deref().unwrap(), &[0.0, 1.0, 0.0]), "{back:?}");
    assert!(back[1].is_none());
    assert!(close(back[2].as_deref().unwrap(), &[1.0, 0.0, 0.0]));
    // SELECT embedding reads the stored vector.
    let sql = parse(&db.query("SELECT name, embedding FROM points WHERE kind = 'mix'").unwrap());
    let v: Vec<f32> = serde_json::from_value(sql[0]["embedding"].clone()).unwrap();
    assert!(close(&v, &unit(&[1.0, 1.0, 0.1])), "{sql}");
    // Text cannot be searched without a model.
    let err = db.search("points", &SearchQuery::Text("x".into()), &SearchOptions { top_k: 1, ..Default::default() });
    assert!(matches!(&err, Err(Error::InvalidArgument(m)) if m.contains("query vector")), "{err:?}");
}

#[test]
fn updates_keep_a_vector_and_replace_it_when_given() {
    let db = own_vectors_db();
    let id = parse(
        &db.insert("points", &json!({"name": "p", "kind": "a", "embedding": [1, 0, 0]}).to_string()).unwrap(),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    // An update of another field keeps the vector; re-upserting without one keeps it too.
    db.update(&id, &json!({"kind": "b"}).to_string()).unwrap();
    db.insert("points", &json!({"name": "p", "kind": "c"}).to_string()).unwrap();
    assert!(close(db.get_vectors(std::slice::from_ref(&id)).unwrap()[0].as_deref().unwrap(), &[1.0, 0.0, 0.0]));
    // A new vector replaces it, through update or upsert.
    db.update(&id, &json!({"embedding": [0, 0, 3]}).to_string()).unwrap();
    assert!(close(db.get_vectors(std::slice::from_ref(&id)).unwrap()[0].as_deref().unwrap(), &[0.0, 0.0, 1.0]));
    let stats = parse(&db.index_stats("points").unwrap());
    assert_eq!(stats["live"], 1, "{stats}");
    // Soft delete hides it; restoring brings it back.
    db.delete(&id, false).unwrap();
    assert!(db.get_vectors(std::slice::from_ref(&id)).unwrap()[0].is_none());
    db.insert("points", &json!({"name": "p", "kind": "c"}).to_string()).unwrap();
    assert!(close(db.get_vectors(std::slice::from_ref(&id)).unwrap()[0].as_deref().unwrap(), &[0.0, 0.0, 1.0]));
}

#[test]
fn bad_vectors_name_the_row_and_change_nothing() {
    let db = own_vectors_db();
    db.insert("points", &json!({"name": "keep", "embedding": [1, 2, 3]}).to_string()).unwrap();
    let rows = vec![
        json!({"name": "ok", "embedding": [1, 1, 1]}).to_string(),
        json!({"name": "short", "embedding": [1, 1]}).to_string(),
        json!({"name": "text", "embedding": [1, "a", 1]}).to_string(),
        json!({"name": "scalar", "embedding": 4}).to_string(),
    ];
    let Err(Error::Validation(issues)) = db.insert_batch("points", &rows) else { panic!("accepted") };
    let at: Vec<String> = issues.iter().map(|i| format!("{:?}", i.loc)).collect();
    assert_eq!(issues.len(), 3, "{at:?}");
    assert!(issues[0].msg.contains("2 dimensions") && issues[0].msg.contains("3-dimensional"), "{}", issues[0].msg);
    assert!(at[1].contains("Index(2)") && at[1].contains("\"embedding\"") && at[1].contains("Index(1)"), "{at:?}");
    assert_eq!(format!("{:?}", issues[2].kind), "ListType");
    assert_eq!(db.count("points").unwrap(), 1, "the batch wrote nothing");
    // A table that keeps no vectors refuses one, naming the settings that would.
    db.register_schema("plain", &json!({"type": "object", "properties": {"n": {"type": "integer"}}}).to_string())
        .unwrap();
    let err = db.insert("plain", &json!({"n": 1, "embedding": [1, 2]}).to_string()).unwrap_err();
    assert!(err.to_string().contains("embedding_dims"), "{err}");
    // A model-less table needs its dimension, and embeds no fields.
    let no_dims = json!({"type": "object", "embedding_provider": "none"});
    let err = db.register_schema("nodims", &no_dims.to_string()).unwrap_err();
    assert!(matches!(&err, Error::InvalidSchema(m) if m.contains("embedding_dims")), "{err:?}");
}

#[test]
fn a_table_with_a_model_takes_a_rows_own_vector_instead_of_embedding() {
    let db = Database::in_memory().unwrap();
    let schema = titled(json!({"embedding_provider": "hash:8"}));
    db.register_schema("docs", &schema.to_string()).unwrap();
    let mine = [0.0f32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    let a = parse(&db.insert("docs", &json!({"title": "alpha", "embedding": mine}).to_string()).unwrap());
    let b = parse(&db.insert("docs", &json!({"title": "beta"}).to_string()).unwrap());
    let ids = [a["id"].as_str().unwrap().to_string(), b["id"].as_str().unwrap().to_string()];
    let back = db.get_vectors(&ids).unwrap();
    assert!(close(back[0].as_deref().unwrap(), &mine), "the row's vector is kept, not the text's");
    assert_eq!(back[1].as_deref().map(<[f32]>::len), Some(8), "the other row was embedded");
    let hits = search(&db, "docs", SearchQuery::Vector(mine.to_vec()), None);
    assert_eq!(hits[0]["properties"]["title"], "alpha");
    // Upserting the same text without a vector keeps the row's own vector.
    db.update("alpha", &json!({"title": "alpha"}).to_string()).unwrap();
    assert!(close(db.get_vectors(&ids[..1]).unwrap()[0].as_deref().unwrap(), &mine), "same text keeps it");
    // New graph parameters alone keep the vectors rows brought.
    let mut denser = schema.clone();
    denser["hnsw_m"] = json!(8);
    db.register_schema("docs", &denser.to_string()).unwrap();
    assert!(close(db.get_vectors(&ids[..1]).unwrap()[0].as_deref().unwrap(), &mine), "a graph rebuild keeps it");
    // The same row twice in one batch keeps the vector it brought while its text stays.
    let twice = [json!({"title": "gamma", "embedding": mine}).to_string(), json!({"title": "gamma"}).to_string()];
    let gamma = db.insert_batch("docs", &twice).unwrap();
    assert!(close(db.get_vectors(&gamma[..1]).unwrap()[0].as_deref().unwrap(), &mine));
    // A wrong dimension for a model's table is refused too.
    let err = db.insert("docs", &json!({"title": "g", "embedding": [1, 2]}).to_string()).unwrap_err();
    assert!(err.to_string().contains("8-dimensional"), "{err}");
    // A stated dimension must be the model's.
    let mut wrong = schema.clone();
    wrong["embedding_dims"] = json!(4);
    let err = db.register_schema("docs2", &wrong.to_string()).unwrap_err();
    assert!(matches!(&err, Error::InvalidSchema(m) if m.contains("8-dimensional")), "{err:?}");
}

#[test]
fn a_model_less_schema_survives_its_record_round_trip() {
    let db = own_vectors_db();
    db.insert("points", &json!({"name": "p", "embedding": [1, 0, 0]}).to_string()).unwrap();
    let record = db.get_schema("points").unwrap();
    let mut edited: Value = serde_json::from_str(&record).unwrap();
    edited["hnsw"]["ef_search"] = json!(100);
    db.register_schema("points", &edited.to_string()).unwrap();
    let stats = parse(&db.index_stats("points").unwrap());
    assert_eq!((stats["live"].as_u64(), stats["ef_search"].as_u64()), (Some(1), Some(100)), "{stats}");
    edited["hnsw"]["m"] = json!(8);
    db.register_schema("points", &edited.to_string()).unwrap();
    let stats = parse(&db.index_stats("points").unwrap());
    assert_eq!(
        (stats["live"].as_u64(), stats["m"].as_u64()),
        (Some(1), Some(8)),
        "new graph parameters keep the vectors"
    );
}

fn alt_stats(db: &Database, table: &str) -> Value {
    parse(&db.index_stats(table).unwrap())["alt"].clone()
}

#[test]
fn a_second_model_keeps_embedding_alt_vectors_searchable_on_their_own() {
    let db = Database::in_memory().unwrap();
    let schema = titled(json!({"embedding_provider": "hash:32", "embedding_provider_alt": "hash:16"}));
    let rec = parse(&db.register_schema("docs", &schema.to_string()).unwrap());
    assert_eq!(
        (rec["embedding_provider_alt"].as_str(), rec["embedding_dims_alt"].as_u64()),
        (Some("hash:16"), Some(16))
    );
    for t in ["web server proxy", "sql database", "text editor"] {
        db.insert("docs", &json!({"title": t}).to_string()).unwrap();
    }
    let alt = alt_stats(&db, "docs");
    assert_eq!((alt["dims"].as_u64(), alt["live"].as_u64()), (Some(16), Some(3)), "{alt}");
    // Another second model embeds the rows already there.
    let mut other = schema.clone();
    other["embedding_provider_alt"] = json!("hash:12");
    db.register_schema("docs", &other.to_string()).unwrap();
    let alt = alt_stats(&db, "docs");
    assert_eq!((alt["dims"].as_u64(), alt["live"].as_u64()), (Some(12), Some(3)), "{alt}");
    db.register_schema("docs", &schema.to_string()).unwrap();
    let opts = |field: &str| SearchOptions { top_k: 1, vector_field: Some(field.into()), ..Default::default() };
    let hits = parse(&db.search("docs", &SearchQuery::Text("database".into()), &opts("embedding_alt")).unwrap());
    assert_eq!(hits[0]["properties"]["title"], "sql database");
    // A query vector is checked against the second model's dimension.
    let err = db.search("docs", &SearchQuery::Vector(vec![1.0; 32]), &opts("embedding_alt")).unwrap_err();
    assert!(err.to_string().contains("16-dimensional"), "{err}");
    assert!(db.search("docs", &SearchQuery::Vector(vec![1.0; 16]), &opts("embedding_alt")).is_ok());
    let err = db.search("docs", &SearchQuery::Text("x".into()), &opts("nope")).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    // Deletes follow; dropping the setting drops the second index.
    db.delete("text editor", false).unwrap();
    assert_eq!(alt_stats(&db, "docs")["live"], 2);
    let mut plain = schema.clone();
    plain.as_object_mut().unwrap().remove("embedding_provider_alt");
    db.register_schema("docs", &plain.to_string()).unwrap();
    assert!(alt_stats(&db, "docs").is_null());
    let err = db.search("docs", &SearchQuery::Text("sql".into()), &opts("embedding_alt")).unwrap_err();
    assert!(err.to_string().contains("embedding_provider_alt"), "{err}");
    // A second model needs embedding fields.
    let bad = json!({"type": "object", "embedding_provider_alt": "hash:8"});
    assert!(matches!(db.register_schema("bad", &bad.to_string()), Err(Error::InvalidSchema(_))));
}

#[test]
fn the_hosts_alt_model_applies_to_tables_that_name_none() {
    use rem_host::{Embeddings, OpenOptions};
    let embeddings = Embeddings::new(Some("hash:24".into()), None).with_alt_model(Some("hash:8".into()));
    let db = Database::open(OpenOptions::in_memory().embeddings(embeddings)).unwrap();
    let schema = json!({"type": "object", "properties": {"t": {"type": "string"}}, "embedding_fields": ["t"]});
    let rec = parse(&db.register_schema("notes", &schema.to_string()).unwrap());
    assert_eq!((rec["embedding_provider_alt"].as_str(), rec["embedding_dims_alt"].as_u64()), (Some("hash:8"), Some(8)));
    db.insert("notes", &json!({"t": "hello"}).to_string()).unwrap();
    assert_eq!(alt_stats(&db, "notes")["live"], 1);
    // A table without embedding fields gets no second index.
    let plain = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
    let rec = parse(&db.register_schema("plain", &plain.to_string()).unwrap());
    assert!(rec.get("embedding_provider_alt").is_none(), "{rec}");
}
