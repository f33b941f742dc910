//! Graph tests: shapes, filters, shortest paths, inline edges, deletes,
//! tenants, and a differential test against a plain adjacency-list BFS.

use std::collections::{HashMap, HashSet, VecDeque};

use rem_core::graph::{Direction, TraverseOptions};
use rem_core::{Database, Error, MemoryStore};
use serde_json::{Value, json};

fn open(tenant: &str, store: &'static MemoryStore) -> Database<&'static MemoryStore> {
    let db = Database::new(store, tenant).unwrap();
    db.register_schema(
        "node",
        &json!({"type": "object", "key_field": "name", "properties": {"name": {"type": "string"}}}).to_string(),
    )
    .unwrap();
    db
}

fn leak() -> &'static MemoryStore {
    Box::leak(Box::new(MemoryStore::new()))
}

fn node(db: &Database<&'static MemoryStore>, name: &str) -> String {
    let e: Value = serde_json::from_str(&db.insert("node", &json!({"name": name}).to_string()).unwrap()).unwrap();
    e["id"].as_str().unwrap().to_string()
}

fn opts(dir: Direction, depth: u32, rels: &[&str]) -> TraverseOptions {
    TraverseOptions {
        direction: dir,
        depth,
        rel_types: rels.iter().map(|s| s.to_string()).collect(),
        dfs: false,
        limit: 10_000,
        include_deleted: false,
    }
}

/// Names reached, with depths, in traversal order.
fn walk(
    db: &Database<&'static MemoryStore>,
    ids: &HashMap<String, String>,
    start: &str,
    o: &TraverseOptions,
) -> Vec<(String, u64)> {
    let names: HashMap<&String, &String> = ids.iter().map(|(n, i)| (i, n)).collect();
    let out: Value = serde_json::from_str(&db.traverse(start, o).unwrap()).unwrap();
    out.as_array()
        .unwrap()
        .iter()
        .map(|r| (names[&r["id"].as_str().unwrap().to_string()].to_string(), r["depth"].as_u64().unwrap()))
        .collect()
}

fn graph(edges: &[(&str, &str, &str)]) -> (Database<&'static MemoryStore>, HashMap<String, String>) {
    let db = open("t", leak());
    let mut ids = HashMap::new();
    for (a, b, _) in edges {
        for n in [a, b] {
            if !ids.contains_key(*n) {
                ids.insert(n.to_string(), node(&db, n));
            }
        }
    }
    for (a, b, rel) in edges {
        db.add_edge(&ids[*a], &ids[*b], rel, None).unwrap();
    }
    (db, ids)
}

#[test]
fn chain_depths_and_shortest_paths() {
    let (db, ids) = graph(&[("A", "B", "next"), ("B", "C", "next"), ("C", "D", "next")]);
    let got = walk(&db, &ids, &ids["A"], &opts(Direction::Outgoing, 2, &[]));
    assert_eq!(got, vec![("A".into(), 0), ("B".into(), 1), ("C".into(), 2)]);
    assert_eq!(walk(&db, &ids, "A", &opts(Direction::Outgoing, 3, &[])).len(), 4, "a natural key works as start");
    let p: Value =
        serde_json::from_str(&db.shortest_path("A", "D", &opts(Direction::Outgoing, 10, &[]), false).unwrap()).unwrap();
    let names: Vec<&str> = p["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let id = v.as_str().unwrap();
            ids.iter().find(|(_, i)| *i == id).unwrap().0.as_str()
        })
        .collect();
    assert_eq!(names, vec!["A", "B", "C", "D"]);
    assert_eq!(p["hops"], 3);
    let err = db.shortest_path("D", "A", &opts(Direction::Outgoing, 10, &[]), false).unwrap_err();
    assert!(matches!(&err, Error::NotFound(m) if m.contains("no path") && m.contains("10 hops")), "{err:?}");
    assert!(db.shortest_path("A", "D", &opts(Direction::Outgoing, 2, &[]), false).is_err(), "hop bound respected");
    let back = walk(&db, &ids, "D", &opts(Direction::Incoming, 10, &[]));
    assert_eq!(back.len(), 4);
    assert!(db.traverse("A", &opts(Direction::Outgoing, 0, &[])).is_err());
    assert!(db.traverse("A", &opts(Direction::Outgoing, 11, &[])).is_err());
}

#[test]
fn stars_cycles_diamonds_and_self_loops() {
    let (db, ids) = graph(&[("hub", "a", "r"), ("hub", "b", "r"), ("hub", "c", "r")]);
    assert_eq!(walk(&db, &ids, "hub", &opts(Direction::Outgoing, 1, &[])).len(), 4);
    assert_eq!(walk(&db, &ids, "a", &opts(Direction::Both, 2, &[])).len(), 4, "both directions: a <- hub -> b, c");

    let (db, ids) = graph(&[("x", "y", "r"), ("y", "z", "r"), ("z", "x", "r"), ("x", "x", "r")]);
    let got = walk(&db, &ids, "x", &opts(Direction::Outgoing, 10, &[]));
    assert_eq!(got.len(), 3, "cycles and self-loops terminate and visit each node once: {got:?}");

    let (db, ids) = graph(&[("s", "l", "r"), ("s", "r", "r"), ("l", "t", "r"), ("r", "t", "r")]);
    let got = walk(&db, &ids, "s", &opts(Direction::Outgoing, 5, &[]));
    assert_eq!(got.iter().filter(|(n, _)| n == "t").count(), 1);
    assert_eq!(got.iter().find(|(n, _)| n == "t").unwrap().1, 2);
}

#[test]
fn type_filters_hold_on_every_hop_and_weights_drive_dijkstra() {
    let (db, ids) = graph(&[("a", "b", "cites"), ("b", "c", "likes"), ("b", "d", "cites"), ("d", "e", "cites")]);
    let got: HashSet<String> =
        walk(&db, &ids, "a", &opts(Direction::Outgoing, 5, &["cites"])).into_iter().map(|(n, _)| n).collect();
    assert_eq!(got, ["a", "b", "d", "e"].iter().map(|s| s.to_string()).collect());

    // Weighted: a -> c directly costs 10, a -> b -> c costs 2.
    let db = open("t", leak());
    let ids: HashMap<String, String> = ["a", "b", "c"].iter().map(|n| (n.to_string(), node(&db, n))).collect();
    db.add_edge("a", "c", "road", Some(r#"{"weight": 10}"#)).unwrap();
    db.add_edge("a", "b", "road", Some(r#"{"weight": 1}"#)).unwrap();
    db.add_edge("b", "c", "road", Some(r#"{"weight": 1}"#)).unwrap();
    let o = opts(Direction::Outgoing, 10, &[]);
    let fewest: Value = serde_json::from_str(&db.shortest_path("a", "c", &o, false).unwrap()).unwrap();
    assert_eq!(fewest["hops"], 1);
    let cheapest: Value = serde_json::from_str(&db.shortest_path("a", "c", &o, true).unwrap()).unwrap();
    assert_eq!(cheapest["hops"], 2);
    assert_eq!(cheapest["cost"], 2.0);
    assert_eq!(cheapest["nodes"][1], ids["b"].as_str());
    // Within one hop, only the costly direct edge qualifies.
    let one: Value =
        serde_json::from_str(&db.shortest_path("a", "c", &opts(Direction::Outgoing, 1, &[]), true).unwrap()).unwrap();
    assert_eq!(one["cost"], 10.0);
}

#[test]
fn edges_upsert_endpoints_must_exist_and_inline_edges_are_records() {
    let db = open("t", leak());
    let a = node(&db, "a");
    let b = node(&db, "b");
    let e1: Value = serde_json::from_str(&db.add_edge(&a, &b, "r", Some(r#"{"weight": 1}"#)).unwrap()).unwrap();
    let e2: Value = serde_json::from_str(&db.add_edge(&a, &b, "r", Some(r#"{"weight": 2}"#)).unwrap()).unwrap();
    assert_eq!(e1["created_at"], e2["created_at"], "same triple upserts");
    let out: Value = serde_json::from_str(&db.get_edges(&a, Direction::Outgoing, &[]).unwrap()).unwrap();
    assert_eq!(out.as_array().unwrap().len(), 1);
    assert_eq!(out[0]["properties"]["weight"], 2);
    assert!(matches!(db.add_edge(&a, "00000000-0000-4000-8000-000000000000", "r", None), Err(Error::NotFound(_))));

    // Inline edges on write become edge records, merged by (dst, rel_type) on upsert.
    let c: Value = serde_json::from_str(
        &db.insert("node", &json!({"name": "c", "edges": [{"dst": a, "rel_type": "knows"}]}).to_string()).unwrap(),
    )
    .unwrap();
    let c = c["id"].as_str().unwrap().to_string();
    db.insert(
        "node",
        &json!({"name": "c", "edges": [{"dst": b, "rel_type": "knows", "properties": {"weight": 3}}]}).to_string(),
    )
    .unwrap();
    let out: Value = serde_json::from_str(&db.get_edges("c", Direction::Outgoing, &["knows".into()]).unwrap()).unwrap();
    assert_eq!(out.as_array().unwrap().len(), 2);
    let incoming: Value = serde_json::from_str(&db.get_edges(&a, Direction::Incoming, &[]).unwrap()).unwrap();
    assert_eq!(incoming[0]["src"], c.as_str());
    let err = db
        .insert(
            "node",
            &json!({"name": "d", "edges": [{"dst": "00000000-0000-4000-8000-000000000000", "rel_type": "x"}]})
                .to_string(),
        )
        .unwrap_err();
    assert!(matches!(&err, Error::Validation(i) if i[0].kind == "edge_target_missing"), "{err:?}");
    assert!(db.lookup("d").unwrap().is_empty(), "the failed write left nothing behind");

    db.delete_edge(&a, &b, "r").unwrap();
    assert!(matches!(db.delete_edge(&a, &b, "r"), Err(Error::NotFound(_))));
}

#[test]
fn soft_deleted_nodes_are_skipped_and_hard_delete_cascades() {
    let (db, ids) = graph(&[("a", "b", "r"), ("b", "c", "r"), ("x", "b", "r")]);
    db.delete(&ids["b"], false).unwrap();
    assert_eq!(walk(&db, &ids, "a", &opts(Direction::Outgoing, 5, &[])).len(), 1, "b is soft-deleted: the walk stops");
    let mut o = opts(Direction::Outgoing, 5, &[]);
    o.include_deleted = true;
    assert_eq!(walk(&db, &ids, "a", &o).len(), 3);
    db.insert("node", &json!({"name": "b"}).to_string()).unwrap();
    assert_eq!(walk(&db, &ids, "a", &opts(Direction::Outgoing, 5, &[])).len(), 3, "resurrected, edges kept");

    db.delete(&ids["b"], true).unwrap();
    for n in ["a", "c", "x"] {
        let both: Value = serde_json::from_str(&db.get_edges(&ids[n], Direction::Both, &[]).unwrap()).unwrap();
        assert!(both.as_array().unwrap().is_empty(), "{n} still has edges after b was hard-deleted: {both}");
    }
}

#[test]
fn tenants_do_not_share_edges() {
    let store = leak();
    let t1 = open("one", store);
    let t2 = open("two", store);
    let a1 = node(&t1, "a");
    let b1 = node(&t1, "b");
    t1.add_edge(&a1, &b1, "r", None).unwrap();
    // Same names, hence the same ids, in another tenant: no edges there.
    let a2 = node(&t2, "a");
    assert_eq!(a1, a2);
    let out: Value = serde_json::from_str(&t2.get_edges(&a2, Direction::Both, &[]).unwrap()).unwrap();
    assert!(out.as_array().unwrap().is_empty());
    assert!(matches!(t2.add_edge(&a2, &b1, "r", None), Err(Error::NotFound(_))), "b exists only in tenant one");
}

#[test]
fn traversal_matches_an_adjacency_list_model() {
    let mut rng = fastrand::Rng::with_seed(7);
    for round in 0..8 {
        let db = open("t", leak());
        let n = 40;
        let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        let ids: Vec<String> = names.iter().map(|nm| node(&db, nm)).collect();
        let mut model: HashMap<(usize, &str), Vec<usize>> = HashMap::new();
        let mut seen_edges = HashSet::new();
        for _ in 0..(60 + round * 10) {
            let (a, b) = (rng.usize(..n), rng.usize(..n));
            let rel = ["r1", "r2"][rng.usize(..2)];
            if seen_edges.insert((a, b, rel)) {
                db.add_edge(&ids[a], &ids[b], rel, None).unwrap();
                model.entry((a, rel)).or_default().push(b);
            }
        }
        for _ in 0..10 {
            let start = rng.usize(..n);
            let depth = 1 + rng.u32(..5);
            let rels: Vec<&str> = match rng.usize(..3) {
                0 => vec![],
                1 => vec!["r1"],
                _ => vec!["r2"],
            };
            // Model BFS distances.
            let mut dist: HashMap<usize, u32> = HashMap::from([(start, 0)]);
            let mut q = VecDeque::from([start]);
            while let Some(u) = q.pop_front() {
                if dist[&u] >= depth {
                    continue;
                }
                for rel in ["r1", "r2"] {
                    if !rels.is_empty() && !rels.contains(&rel) {
                        continue;
                    }
                    for &v in model.get(&(u, rel)).map(Vec::as_slice).unwrap_or(&[]) {
                        if !dist.contains_key(&v) {
                            dist.insert(v, dist[&u] + 1);
                            q.push_back(v);
                        }
                    }
                }
            }
            let out: Value =
                serde_json::from_str(&db.traverse(&ids[start], &opts(Direction::Outgoing, depth, &rels)).unwrap())
                    .unwrap();
            let got: HashMap<usize, u32> = out
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        ids.iter().position(|i| i == r["id"].as_str().unwrap()).unwrap(),
                        r["depth"].as_u64().unwrap() as u32,
                    )
                })
                .collect();
            assert_eq!(got, dist, "round {round}: start n{start}, depth {depth}, rels {rels:?}");
            // Every reported path is a real chain of edges from the start.
            for r in out.as_array().unwrap() {
                let path = r["path"].as_array().unwrap();
                assert_eq!(path.len() as u64, r["depth"].as_u64().unwrap());
                let mut cur = ids[start].clone();
                for e in path {
                    assert_eq!(e["src"], cur.as_str());
                    cur = e["dst"].as_str().unwrap().to_string();
                }
                assert_eq!(cur, r["id"].as_str().unwrap());
            }
        }
    }
}

#[test]
fn reference_fields_are_kept_as_edges() {
    let db = Database::new(leak(), "t").unwrap();
    db.register_schema(
        "sessions",
        &json!({"type": "object", "key_field": "session_id", "properties": {"session_id": {"type": "string"}}})
            .to_string(),
    )
    .unwrap();
    db.register_schema("docs", &json!({"type": "object", "properties": {"uri": {"type": "string"}}}).to_string())
        .unwrap();
    db.register_schema(
        "messages",
        &json!({
            "type": "object",
            "key_field": "message_id",
            "references": {
                "session_id": {"table": "sessions", "rel_type": "belongs_to"},
                "cites": {"table": "docs", "rel_type": "cites"}
            },
            "properties": {
                "message_id": {"type": "string"},
                "session_id": {"type": "string"},
                "cites": {"type": "array", "items": {"type": "string"}}
            }
        })
        .to_string(),
    )
    .unwrap();
    let id_of = |s: String| serde_json::from_str::<Value>(&s).unwrap()["id"].as_str().unwrap().to_string();
    let s1 = id_of(db.insert("sessions", r#"{"session_id": "s1"}"#).unwrap());
    let s2 = id_of(db.insert("sessions", r#"{"session_id": "s2"}"#).unwrap());
    let d1 = id_of(db.insert("docs", r#"{"uri": "file:///a.md"}"#).unwrap());
    let out = |id: &str, rel: &str| -> Vec<String> {
        let edges: Value =
            serde_json::from_str(&db.get_edges(id, Direction::Outgoing, &[rel.to_string()]).unwrap()).unwrap();
        edges.as_array().unwrap().iter().map(|e| e["dst"].as_str().unwrap().to_string()).collect()
    };

    // By natural key, by id, and through the key index (a uri).
    let m1 = id_of(db.insert("messages", r#"{"message_id": "m1", "session_id": "s1"}"#).unwrap());
    assert_eq!(out(&m1, "belongs_to"), vec![s1.clone()]);
    let m2 = id_of(
        db.insert("messages", &json!({"message_id": "m2", "session_id": s2, "cites": ["file:///a.md"]}).to_string())
            .unwrap(),
    );
    assert_eq!(out(&m2, "belongs_to"), vec![s2.clone()]);
    assert_eq!(out(&m2, "cites"), vec![d1.clone()]);
    let incoming: Value =
        serde_json::from_str(&db.get_edges(&s1, Direction::Incoming, &["belongs_to".into()]).unwrap()).unwrap();
    assert_eq!(incoming.as_array().unwrap().len(), 1);

    // Moving the message moves the edge; clearing the list removes it.
    db.update(&m1, r#"{"session_id": "s2", "cites": []}"#).unwrap();
    assert_eq!(out(&m1, "belongs_to"), vec![s2.clone()]);
    db.insert("messages", r#"{"message_id": "m2", "session_id": "s2", "cites": []}"#).unwrap();
    assert!(out(&m2, "cites").is_empty());

    // A value naming no row is refused at the field (the host rolls the call back; see
    // tests/integration/entities.rs for atomicity through the component).
    let err = db.insert("messages", r#"{"message_id": "m3", "session_id": "nope"}"#).unwrap_err();
    let Error::Validation(issues) = err else { panic!("expected a validation error, got {err:?}") };
    assert_eq!(issues[0].kind, "reference_missing");
    assert_eq!(serde_json::to_value(&issues[0].loc).unwrap(), json!(["session_id"]));
    let err = db
        .insert_batch(
            "messages",
            &[r#"{"message_id": "m4", "session_id": "s1"}"#.into(), r#"{"message_id": "m5", "cites": ["x"]}"#.into()],
        )
        .unwrap_err();
    assert!(matches!(err, Error::Validation(ref i) if i[0].kind == "reference_missing"), "{err:?}");

    // A bad setting is refused at registration (an undeclared field, in a table that declares them).
    let bad = json!({"type": "object", "references": {"ghost": {"table": "sessions", "rel_type": "x"}},
                     "properties": {"a": {"type": "string"}}, "additionalProperties": false});
    assert!(matches!(db.register_schema("bad", &bad.to_string()), Err(Error::InvalidSchema(_))));
    let bad =
        json!({"type": "object", "references": {"a": {"table": "sessions"}}, "properties": {"a": {"type": "string"}}});
    assert!(matches!(db.register_schema("bad", &bad.to_string()), Err(Error::InvalidSchema(_))));
}

#[test]
fn a_cached_traversal_sees_writes_made_through_another_handle() {
    let store = leak();
    let reader = open("t", store);
    let writer = Database::new(store, "t").unwrap();
    let (a, b, c) = (node(&writer, "a"), node(&writer, "b"), node(&writer, "c"));
    writer.add_edge(&a, &b, "r", Some(r#"{"weight": 2}"#)).unwrap();
    let ids: HashMap<String, String> =
        [("a", &a), ("b", &b), ("c", &c)].iter().map(|(n, i)| (n.to_string(), i.to_string())).collect();
    let o = opts(Direction::Outgoing, 3, &[]);
    assert_eq!(walk(&reader, &ids, "a", &o), [("a".into(), 0), ("b".into(), 1)]);

    // Each change by the other handle is seen by the next traversal of the first.
    writer.add_edge(&b, &c, "r", None).unwrap();
    assert_eq!(walk(&reader, &ids, "a", &o).len(), 3);
    writer.delete(&b, false).unwrap();
    assert_eq!(walk(&reader, &ids, "a", &o).len(), 1);
    writer.insert("node", &json!({"name": "b"}).to_string()).unwrap();
    assert_eq!(walk(&reader, &ids, "a", &o).len(), 3);
    writer.delete_edge(&b, &c, "r").unwrap();
    assert_eq!(walk(&reader, &ids, "a", &o).len(), 2);

    // Paths carry the stored edges, properties included.
    let out: Value = serde_json::from_str(&reader.traverse(&a, &o).unwrap()).unwrap();
    let stored: Value = serde_json::from_str(&reader.get_edges(&a, Direction::Outgoing, &[]).unwrap()).unwrap();
    assert_eq!(out[1]["path"], stored);
    assert_eq!(out[1]["path"][0]["properties"]["weight"], 2);
}
