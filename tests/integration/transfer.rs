//! Export to Parquet, CSV and JSONL, read back by the `parquet` crate and imported again
//! (issue 27).

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Int64Type, TimestampMicrosecondType};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rem_host::transfer::{ExportOptions, Format, export, export_all, import, read_file};
use rem_host::{Database, Error};
use rem_tests::parse;
use serde_json::{Value, json};

fn note_schema() -> String {
    json!({"type": "object", "key_field": "title", "indexed_fields": ["status"],
           "embedding_provider": "none", "embedding_dims": 4,
           "properties": {
               "title": {"type": "string"},
               "status": {"type": "string"},
               "views": {"type": "integer"},
               "score": {"anyOf": [{"type": "number"}, {"type": "null"}]},
               "done": {"type": "boolean"},
               "due": {"type": "string", "format": "date-time"},
               "tags": {"type": "array", "items": {"type": "string"}},
               "meta": {"type": "object"}}})
    .to_string()
}

fn fill(db: &Database) {
    db.register_schema("note", &note_schema()).unwrap();
    db.register_schema("loose", &json!({"type": "object"}).to_string()).unwrap();
    let rows: Vec<String> = (0..2500)
        .map(|i| {
            json!({"title": format!("n{i:04}"), "status": if i % 3 == 0 { "open" } else { "done" }, "views": i,
                   "score": if i % 5 == 0 { Value::Null } else { json!(i as f64 / 4.0) }, "done": i % 2 == 0,
                   "due": "2026-12-07T10:00:00.123456Z", "tags": ["a", format!("t{}", i % 7)],
                   "meta": {"n": i, "deep": {"x": "y,\"z\""}},
                   "embedding": [1.0, i as f64, 0.5, -2.0]})
            .to_string()
        })
        .collect();
    db.insert_batch("note", &rows).unwrap();
    db.insert("loose", &json!({"anything": [1, 2], "k": "v"}).to_string()).unwrap();
    // Edges both ways, so one of them points at a row later in id order than its source.
    db.add_edge("n0001", "n0002", "cites", None).unwrap();
    db.add_edge("n0002", "n0001", "answers", None).unwrap();
    db.execute("DELETE FROM note WHERE title = 'n0003'", None).unwrap();
}

/// The table's rows by id, without NULL members (CSV and Parquet cannot tell a NULL from a
/// missing member; JSONL can).
fn all_rows(db: &Database, table: &str) -> Vec<Value> {
    let mut rows = parse(&db.query(&format!("SELECT * FROM {table}")).unwrap()).as_array().unwrap().clone();
    rows.sort_by_key(|r| r["id"].as_str().unwrap().to_string());
    for r in &mut rows {
        r.as_object_mut().unwrap().retain(|_, v| !v.is_null());
    }
    rows
}

#[test]
fn parquet_export_is_typed_from_the_schema_and_imports_back_to_the_same_rows_ids_and_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::in_memory().unwrap();
    fill(&db);
    let path = dir.path().join("note.parquet");
    let options = ExportOptions { with_vectors: true, ..Default::default() };
    let mut seen = 0;
    let report = export(&db, "note", &path, &options, &mut |n| seen = n).unwrap();
    assert_eq!((report.rows, seen, report.format), (2499, 2499, Format::Parquet), "soft-deleted rows are left out");
    // Read with the parquet crate: types, counts and values.
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
    let meta = reader.metadata().clone();
    assert!(meta.num_row_groups() >= 3, "row groups written as pages are read");
    let codec = meta.row_group(0).column(0).compression();
    assert!(format!("{codec:?}").starts_with("ZSTD"), "{codec:?}");
    let schema = reader.schema().clone();
    let ty = |n: &str| schema.field_with_name(n).unwrap().data_type().clone();
    assert_eq!(ty("views"), DataType::Int64);
    assert_eq!(ty("score"), DataType::Float64);
    assert_eq!(ty("done"), DataType::Boolean);
    assert_eq!(ty("title"), DataType::Utf8);
    assert_eq!(ty("meta"), DataType::Utf8, "objects are JSON text");
    assert_eq!(ty("due"), DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())));
    assert_eq!(ty("created_at"), DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())));
    assert!(matches!(ty("tags"), DataType::List(_)));
    assert!(matches!(ty("embedding"), DataType::FixedSizeList(_, 4)));
    let batches: Vec<_> = reader.build().unwrap().map(Result::unwrap).collect();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2499);
    let b = &batches[0];
    let title = b.column_by_name("title").unwrap().as_string::<i32>().value(0).to_string();
    let i: i64 = title[1..].parse().unwrap();
    assert_eq!(b.column_by_name("views").unwrap().as_primitive::<Int64Type>().value(0), i);
    let due = b.column_by_name("due").unwrap().as_primitive::<TimestampMicrosecondType>().value(0);
    assert_eq!(due, "2026-12-07T10:00:00.123456Z".parse::<jiff::Timestamp>().unwrap().as_microsecond());
    let v = b.column_by_name("embedding").unwrap().as_fixed_size_list().value(0);
    let v = v.as_primitive::<Float32Type>();
    assert_eq!(v.len(), 4);
    // Import into an empty database: the same rows, ids and vectors.
    let fresh = Database::in_memory().unwrap();
    fresh.register_schema("note", &note_schema()).unwrap();
    let (rows, positions) = read_file(&fresh, "note", &path).unwrap();
    assert_eq!((rows.len(), positions[0]), (2499, 1));
    import(&fresh, "note", rows).unwrap();
    let (mut before, after) = (all_rows(&db, "note"), all_rows(&fresh, "note"));
    before.retain(|r| r["title"] != "n0003");
    assert_eq!(before, after);
    let ids: Vec<String> = before.iter().take(50).map(|r| r["id"].as_str().unwrap().to_string()).collect();
    let (va, vb) = (db.get_vectors(&ids).unwrap(), fresh.get_vectors(&ids).unwrap());
    for (a, b) in va.iter().zip(&vb) {
        let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
        assert!(a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6), "{a:?} {b:?}");
    }
    let edges = parse(&fresh.get_many(&[ids_of(&fresh, "n0001")]).unwrap()[0].clone().unwrap())["edges"].clone();
    assert_eq!(edges[0]["rel_type"], "cites", "edges come back with their rows");
}

fn ids_of(db: &Database, key: &str) -> String {
    parse(&db.lookup(key).unwrap()[0])["id"].as_str().unwrap().to_string()
}

#[test]
fn csv_and_jsonl_round_trip_and_export_all_writes_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::in_memory().unwrap();
    fill(&db);
    for format in ["csv", "jsonl"] {
        let path = dir.path().join(format!("note.{format}"));
        let options =
            ExportOptions { with_vectors: true, filter: Some("status = 'open'".into()), ..Default::default() };
        assert_eq!(export(&db, "note", &path, &options, &mut |_| {}).unwrap().rows, 833);
        let fresh = Database::in_memory().unwrap();
        fresh.register_schema("note", &note_schema()).unwrap();
        let (rows, _) = read_file(&fresh, "note", &path).unwrap();
        import(&fresh, "note", rows).unwrap();
        let mut want = all_rows(&db, "note");
        want.retain(|r| r["status"] == "open");
        assert_eq!(all_rows(&fresh, "note"), want, "{format}");
    }
    // The keyless free-form table keeps its ids and members through every format.
    let out = dir.path().join("all");
    let reports = export_all(&db, &out, &ExportOptions::default(), &mut |_, _| {}).unwrap();
    assert_eq!(reports.len(), 2);
    let fresh = Database::in_memory().unwrap();
    fresh.register_schema("loose", &json!({"type": "object"}).to_string()).unwrap();
    let (rows, _) = read_file(&fresh, "loose", &out.join("loose.parquet")).unwrap();
    fresh.insert_batch("loose", &rows).unwrap();
    assert_eq!(all_rows(&fresh, "loose"), all_rows(&db, "loose"));
}

#[test]
fn bad_paths_and_bad_cells_are_clear_errors_that_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::in_memory().unwrap();
    fill(&db);
    let path = dir.path().join("x.parquet");
    std::fs::write(&path, "mine").unwrap();
    match export(&db, "note", &path, &ExportOptions::default(), &mut |_| {}) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("--force"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
    assert!(matches!(
        export(&db, "note", &dir.path().join("x.txt"), &ExportOptions::default(), &mut |_| {}),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        export(
            &db,
            "loose",
            &dir.path().join("l.parquet"),
            &ExportOptions { with_vectors: true, ..Default::default() },
            &mut |_| {}
        ),
        Err(Error::InvalidArgument(_))
    ));
    // A bad filter fails the export and leaves no file (and no partial one).
    let bad = dir.path().join("bad.csv");
    let err = export(
        &db,
        "note",
        &bad,
        &ExportOptions { filter: Some("nope = 1".into()), ..Default::default() },
        &mut |_| {},
    );
    assert!(err.is_err());
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert_eq!(names, ["x.parquet"], "nothing else written");
    // A predicate that could close the statement's parentheses is refused before anything runs.
    for filter in ["views > 1) OR (1 = 1", "views > 1 -- )", "views > 1; DELETE FROM note"] {
        let options = ExportOptions { filter: Some(filter.into()), ..Default::default() };
        match export(&db, "note", &dir.path().join("f.csv"), &options, &mut |_| {}) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("--where"), "{m}"),
            other => panic!("{filter}: {other:?}"),
        }
    }
    // A CSV cell its column cannot hold is named by line and column.
    std::fs::write(dir.path().join("in.csv"), "title,views\nok,1\nbad,many\n").unwrap();
    match read_file(&db, "note", &dir.path().join("in.csv")) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("line 3") && m.contains("'views'"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(db.count("note").unwrap(), 2499);
}

#[test]
fn an_id_member_keeps_a_keyless_row_s_id_but_never_takes_another_table_s() {
    let db = Database::in_memory().unwrap();
    for t in ["a", "b"] {
        db.register_schema(t, &json!({"type": "object"}).to_string()).unwrap();
    }
    let id = "0b4e7c52-4a42-4ab1-9c3b-1d6f0e6a1f00";
    let stored = parse(&db.insert("a", &json!({"id": id, "x": 1}).to_string()).unwrap());
    assert_eq!(stored["id"], id);
    assert!(stored["properties"].get("id").is_none());
    match db.insert("b", &json!({"id": id, "x": 2}).to_string()) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("belongs to a row of table 'a'"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(parse(&db.get(id).unwrap().unwrap())["properties"]["x"], 1, "the first row is untouched");
    // Any other `id` (32 bare hex digits included) is an ordinary property of a free-form row.
    let hex = parse(&db.insert("b", &json!({"id": "0b4e7c524a424ab19c3b1d6f0e6a1f00"}).to_string()).unwrap());
    assert_eq!(hex["properties"]["id"], "0b4e7c524a424ab19c3b1d6f0e6a1f00");
    let other = parse(&db.insert("b", &json!({"id": "doc-1", "created_at": "mine"}).to_string()).unwrap());
    assert_eq!(other["properties"]["id"], "doc-1");
    // A user's own JSONL row keeps a member named like a system field.
    let rows =
        rem_host::transfer::normalise(&db, "b", vec![json!({"created_at": "mine", "y": 1}).to_string()], "t").unwrap();
    assert_eq!(parse(&rows[0])["created_at"], "mine");
}
