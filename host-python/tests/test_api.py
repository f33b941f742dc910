"""The whole REMDatabase API against a tmp_path database, table-driven where it can be."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

import rem_db
from rem_db import REMDatabase

from conftest import PEOPLE, PERSON


def test_schemas(db: REMDatabase) -> None:
    record = db.register_schema("person", PERSON)
    assert record["name"] == "person"
    assert db.list_schemas() == ["person"]
    assert db.get_schema("person")["key_field"] == "name"
    # Settings passed as keywords override the document's.
    db.register_schema("note", {"type": "object", "properties": {"t": {"type": "string"}}}, key_field="t",
                       indexed_fields=["t"], embedding_fields=["t"])
    note = db.get_schema("note")
    assert (note["key_field"], note["indexed_fields"], note["embedding_fields"]) == ("t", ["t"], ["t"])
    # Covering fields: the equality is answered from the index's row copies, with the same rows.
    db.register_schema("note", {"type": "object", "properties": {"t": {"type": "string"}}}, key_field="t",
                       indexed_fields=["t"], embedding_fields=["t"], covering_fields=["t"])
    assert db.get_schema("note")["covering_fields"] == ["t"]
    plan = db.sql("EXPLAIN SELECT * FROM note WHERE t = 'x'")[0]["plan"]
    assert plan.startswith("covered index lookup"), plan
    # A JSON string works as well as a dict.
    db.register_schema("s", '{"type": "object", "properties": {"x": {"type": "integer"}}}')
    assert db.list_schemas() == ["note", "person", "s"]


def test_entity_round_trip(people: REMDatabase) -> None:
    db = people
    alice = db.lookup("Alice")[0]
    assert set(alice) == {"id", "entity_type", "created_at", "modified_at", "deleted_at", "edges", "properties"}
    assert alice["entity_type"] == "person"
    assert alice["deleted_at"] is None
    assert uuid.UUID(alice["id"]).version == 5
    # The same natural key upserts the same id.
    again = db.insert("person", {"name": "Alice", "age": 31})
    assert again == alice["id"]
    assert db.count("person") == 4
    got = db.get(again)
    assert got is not None and got["properties"]["age"] == 31
    assert got["properties"]["role"] == "engineer", "the schema default is applied"
    updated = db.update(again, {"role": "manager"})
    assert updated["properties"] == {"name": "Alice", "age": 31, "role": "manager", "bio": ""}
    assert db.get(str(uuid.uuid4())) is None


def test_results_are_exact_values(db: REMDatabase) -> None:
    """The result converter reuses objects (interned keys kept across calls, an
    ``entity_type`` value, a string equal to the one before it); none of that may
    change a value."""
    db.register_schema("a", {"type": "object", "key_field": "k"})
    db.register_schema("b", {"type": "object", "key_field": "k"})
    rows = [
        {"k": "x", "entity_type": "not the table", "same": "t", "also": "t", "nested": {"entity_type": 1}},
        {"k": "y", "entity_type": "other", "same": "t", "also": "u", "esc": "q\"\\\n\u00e9\u2603 \U0001F600"},
        {"k": "z", "big": 2**63 - 1, "neg": -(2**63), "f": 1.5e-7, "list": ["t", "t", None, True, {"k": "t"}]},
    ]
    ids = [db.insert("a", r) for r in rows] + [db.insert("b", {"k": f"w{i}", "v": i}) for i in range(3)]
    for _ in range(2):  # the second pass runs with the key cache the first one filled
        got = db.get_batch(ids)
        assert [g["properties"] for g in got[:3]] == rows
        assert [g["entity_type"] for g in got] == ["a", "a", "a", "b", "b", "b"]
        assert [g["properties"]["v"] for g in got[3:]] == [0, 1, 2]
        # Many distinct keys in one result.
        wide = {f"key{i}": f"value{i % 3}" for i in range(300)}
        wide["k"] = "wide"
        assert db.get(db.insert("b", wide))["properties"] == wide


def test_batch_get_list_count(people: REMDatabase) -> None:
    db = people
    ids = [e["id"] for e in db.list("person")]
    assert len(ids) == 4 and ids == sorted(ids)
    assert [e["id"] for e in db.list("person", limit=2, offset=1)] == ids[1:3]
    missing = str(uuid.uuid4())
    got = db.get_batch([ids[0], missing, ids[1]])
    assert got[1] is None
    assert [g["id"] for g in (got[0], got[2]) if g] == [ids[0], ids[1]]
    assert db.count("person") == 4


def test_soft_and_hard_delete(people: REMDatabase) -> None:
    db = people
    bob = db.lookup("Bob")[0]["id"]
    soft = db.delete(bob)
    assert soft["deleted_at"] is not None
    assert db.count("person") == 3
    assert db.lookup("Bob") == []
    kept = db.get(bob)
    assert kept is not None and kept["deleted_at"] is not None, "get still returns a soft-deleted entity"
    db.delete(bob, hard=True)
    assert db.get(bob) is None
    with pytest.raises(rem_db.NotFoundError):
        db.delete(bob)


def test_insert_batch_is_atomic(people: REMDatabase) -> None:
    db = people
    rows: List[Dict[str, Any]] = [{"name": "Eve", "age": 20}, {"name": "Frank", "age": -1}, {"name": "", "age": 3}]
    with pytest.raises(rem_db.ValidationError) as info:
        db.insert_batch("person", rows)
    locs = [e["loc"] for e in info.value.errors()]
    assert locs == [(1, "age"), (2, "name")]
    assert db.lookup("Eve") == [], "nothing of a failed batch is written"
    assert db.count("person") == 4


@pytest.mark.parametrize(
    "sql, params, expected",
    [
        ("SELECT name FROM person WHERE age > 30 ORDER BY name", None, [{"name": "Carol"}, {"name": "Dana"}]),
        ("SELECT name FROM person WHERE role = ? AND age < ?", ["engineer", 33], [{"name": "Alice"}]),
        ("SELECT name FROM person WHERE role = :r ORDER BY age DESC", {"r": "engineer"},
         [{"name": "Dana"}, {"name": "Alice"}]),
        ("SELECT name FROM person WHERE name IN ? ORDER BY name", [["Bob", "Carol", "Zed"]],
         [{"name": "Bob"}, {"name": "Carol"}]),
        ("SELECT role, COUNT(*) AS n FROM person GROUP BY role ORDER BY role", None,
         [{"role": "designer", "n": 1}, {"role": "engineer", "n": 2}, {"role": "manager", "n": 1}]),
        ("SELECT name FROM person WHERE name = ?", ["x' OR '1'='1"], []),
    ],
)
def test_sql(people: REMDatabase, sql: str, params: Any, expected: List[Dict[str, Any]]) -> None:
    assert people.sql(sql, params=params) == expected
    assert people.query(sql, params=params) == expected


def test_rem_statements(people: REMDatabase) -> None:
    db = people
    assert [r["properties"]["name"] for r in db.sql("LOOKUP 'Carol'")] == ["Carol"]
    hits = db.sql("SEARCH 'distributed databases' IN person LIMIT 2")
    assert len(hits) == 2 and all("_score" in h for h in hits)
    db.create_edge("Alice", "Bob", "knows")
    assert [r["depth"] for r in db.sql("TRAVERSE FROM 'Alice' DEPTH 1 DIRECTION out")] == [0, 1]


def test_search(people: REMDatabase) -> None:
    db = people
    hits = db.search("distributed databases", table="person", limit=2)
    assert len(hits) == 2
    assert hits[0]["properties"]["name"] in {"Alice", "Dana"}
    assert hits[0]["_score"] >= hits[1]["_score"]
    filtered = db.search("databases", table="person", limit=5, where="role = 'manager'", min_score=-1.0)
    assert [h["properties"]["name"] for h in filtered] == ["Carol"]
    hybrid = db.search("compilers", table="person", limit=1, hybrid=True)
    assert hybrid[0]["properties"]["name"] == "Dana"
    stats = db.index_stats("person")
    assert (stats["dims"], stats["live"], stats["model"]) == (64, 4, "hash:64")
    assert db.rebuild_index("person")["live"] == 4


def test_search_by_vector(people: REMDatabase) -> None:
    np = pytest.importorskip("numpy")
    db = people
    # Search with the exact vector of a stored text: that entity comes first with score 1.
    own = db.search(PEOPLE[2]["bio"], table="person", limit=1)[0]
    assert own["properties"]["name"] == "Carol"
    dims = db.index_stats("person")["dims"]
    with pytest.raises(rem_db.InvalidArgumentError, match="dimension"):
        db.search([0.1] * (dims + 1), table="person")
    with pytest.raises(rem_db.InvalidArgumentError, match="1-D"):
        db.search(np.zeros((2, dims), dtype=np.float32), table="person")
    vec = np.ones(dims, dtype=np.float32)
    assert len(db.search(vec, table="person", limit=3, min_score=-1.0)) == 3
    assert len(db.search(list(vec), table="person", limit=3, min_score=-1.0)) == 3


def test_graph(people: REMDatabase) -> None:
    db = people
    edge = db.create_edge("Alice", "Bob", "knows", {"weight": 2.0})
    assert edge["rel_type"] == "knows" and edge["properties"] == {"weight": 2.0}
    db.create_edge("Bob", "Carol", "knows", {"weight": 2.0})
    db.create_edge("Alice", "Carol", "reports_to", {"weight": 5.0})
    assert db.create_edges([{"src": "Carol", "dst": "Dana", "rel_type": "manages"}]) == 1
    alice = db.lookup("Alice")[0]["id"]
    assert len(db.get_edges(alice)) == 2
    assert [e["rel_type"] for e in db.get_edges("Alice", rel_type="knows")] == ["knows"]
    assert len(db.get_edges("Carol", direction="in")) == 2
    assert len(db.get_edges("Carol", direction="both", rel_type=["knows", "manages"])) == 2
    steps = db.traverse("Alice", depth=2, rel_type="knows")
    assert [s["depth"] for s in steps] == [0, 1, 2]
    assert len(db.traverse("Alice", depth=3, strategy="dfs")) == 4
    path = db.shortest_path("Alice", "Dana")
    assert path is not None and path["hops"] == 2
    weighted = db.shortest_path("Alice", "Carol", weighted=True)
    assert weighted is not None and weighted["cost"] == 4.0 and weighted["hops"] == 2
    assert db.shortest_path("Dana", "Alice") is None
    removed = db.delete_edge("Alice", "Bob", "knows")
    assert removed["rel_type"] == "knows"
    with pytest.raises(rem_db.NotFoundError):
        db.delete_edge("Alice", "Bob", "knows")
    with pytest.raises(rem_db.NotFoundError):
        db.shortest_path("Alice", "Nobody")


def test_persistence_and_lock(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with REMDatabase(path, embedding_model="hash:64") as db:
        db.register_schema("person", PERSON)
        db.insert("person", PEOPLE[0])
        with pytest.raises(rem_db.DatabaseLockedError) as info:
            REMDatabase(path)
        assert isinstance(info.value, rem_db.StorageError) and info.value.path == str(path)
    assert db.closed
    with pytest.raises(rem_db.InvalidArgumentError, match="closed"):
        db.count("person")
    with REMDatabase(str(path), embedding_model="hash:64") as again:
        assert again.count("person") == 1


def test_tenants_are_separate(tmp_path: Path) -> None:
    with REMDatabase(tmp_path, tenant_id="a", embedding_model="hash:8") as a:
        a.register_schema("person", PERSON)
        a.insert("person", PEOPLE[0])
    with REMDatabase(tmp_path, tenant_id="b", embedding_model="hash:8") as b:
        assert b.list_schemas() == []
        assert b.tenant_id == "b"


def test_default_path_and_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_DB_PATH", str(tmp_path / "from-env"))
    with REMDatabase() as db:
        assert db.path == str(tmp_path / "from-env")
    with REMDatabase(":memory:") as mem:
        assert mem.path is None
        assert "memory" in repr(mem)


ERRORS: List[Any] = [
    (lambda db: db.get_schema("nope"), rem_db.SchemaNotFoundError, KeyError, "schema_not_found"),
    (lambda db: db.count("nope"), rem_db.SchemaNotFoundError, KeyError, "schema_not_found"),
    (lambda db: db.update(str(uuid.uuid4()), {"age": 1}), rem_db.NotFoundError, KeyError, "not_found"),
    (lambda db: db.insert("person", {"name": "X"}), rem_db.ValidationError, ValueError, "validation"),
    (lambda db: db.sql("SELEC name FROM person"), rem_db.QueryError, ValueError, "invalid_query"),
    (lambda db: db.sql("DELETE FROM person"), rem_db.UnsupportedError, ValueError, "unsupported"),
    (lambda db: db.sql("SELECT name FROM person WHERE age = ?", params=[]), rem_db.InvalidArgumentError,
     ValueError, "invalid_argument"),
    (lambda db: db.get(""), rem_db.InvalidArgumentError, ValueError, "invalid_argument"),
    (lambda db: db.register_schema("bad", {"type": "object", "properties": {"a": {"type": 7}}}),
     rem_db.SchemaError, ValueError, "invalid_schema"),
    (lambda db: db.traverse("Alice", direction="up"), rem_db.InvalidArgumentError, ValueError, "invalid_argument"),
    (lambda db: db.register_schema("m", {"type": "object", "properties": {"t": {"type": "string"}},
                                         "embedding_fields": ["t"], "embedding_provider": "nosuch:model"}),
     rem_db.EmbeddingError, rem_db.RemError, "embedding"),
]


@pytest.mark.parametrize("call, cls, builtin, kind", ERRORS)
def test_errors_map_to_the_hierarchy(people: REMDatabase, call: Callable[[REMDatabase], Any], cls: type,
                                     builtin: type, kind: str) -> None:
    with pytest.raises(cls) as info:
        call(people)
    err = info.value
    assert isinstance(err, rem_db.RemError) and isinstance(err, builtin)
    assert type(err) is not RuntimeError
    assert err.kind == kind
    assert str(err)


def test_query_error_position(people: REMDatabase) -> None:
    with pytest.raises(rem_db.QueryError) as info:
        people.sql("SELECT name\nFROM person WHERE")
    assert info.value.position is not None and info.value.line == 2


def test_type_errors_for_wrong_arguments(db: REMDatabase) -> None:
    with pytest.raises(TypeError):
        db.register_schema("x", 42)
    with pytest.raises(TypeError):
        db.insert("x", ["not", "a", "dict"])
    with pytest.raises(TypeError):
        db.sql("SELECT 1", params="oops")  # type: ignore[arg-type]


def test_stats_and_health(people: rem_db.REMDatabase) -> None:
    people.delete(people.lookup("Bob")[0]["id"])
    stats = people.stats()
    person = stats["tables"]["person"]
    assert (person["rows"], person["deleted"], person["indexed_fields"]) == (3, 1, ["role", "age"])
    assert person["vectors"]["live"] == 3 and person["vectors"]["dims"] == 64
    assert stats["file_bytes"] > 0 and stats["engine"].startswith("rem-core ")
    health = people.health()
    assert health["ok"] and health["tables"] == 1 and health["path"] == people.path


def test_traverse_can_return_the_entities_it_reaches(people: rem_db.REMDatabase) -> None:
    people.create_edge("Alice", "Bob", "knows")
    people.create_edge("Bob", "Carol", "knows")
    steps = people.traverse("Alice", depth=2, entities=True)
    assert [(s["depth"], s["entity"]["properties"]["name"]) for s in steps] == [(0, "Alice"), (1, "Bob"), (2, "Carol")]
    assert "entity" not in people.traverse("Alice", depth=1)[0]


def test_slow_calls_are_logged_at_debug_through_logging(tmp_path: Any) -> None:
    import subprocess
    import sys

    # A fresh interpreter: the log bridge reads Python's logging levels once.
    script = (
        "import logging, rem_db\n"
        "logging.basicConfig(level=logging.DEBUG, format='%(name)s %(levelname)s %(message)s')\n"
        f"db = rem_db.REMDatabase({str(tmp_path / 'db')!r}, embedding_model='hash:16')\n"
        "db.register_schema('t', {'type': 'object', 'properties': {'a': {'type': 'string'}}})\n"
    )
    env = {**os.environ, "P8_SLOW_CALL_MS": "0"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "rem DEBUG slow Write call:" in out.stderr and " ms (tenant default" in out.stderr, out.stderr
