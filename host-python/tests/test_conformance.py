"""The conformance suite (tests/conformance/suite.json) through the Python wheel.

The Rust host and the Node host run the same file; its ``about`` gives the rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

import rem_db
from conftest import letters

SUITE = json.loads((Path(__file__).resolve().parents[2] / "tests" / "conformance" / "suite.json").read_text())


def suite_model(texts: List[str]) -> List[List[float]]:
    return letters(texts)


suite_model.model_name = SUITE["model"]  # type: ignore[attr-defined]


def matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return (isinstance(actual, (list, tuple)) and len(expected) == len(actual)
                and all(matches(e, a) for e, a in zip(expected, actual)))
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and not isinstance(actual, bool):
        return isinstance(actual, (int, float)) and abs(expected - actual) <= 1e-6
    return bool(expected == actual)


def substitute(value: Any, saved: Dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return saved.get(value[1:], value)
    if isinstance(value, list):
        return [substitute(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, saved) for k, v in value.items()}
    return value


def call(db: rem_db.REMDatabase, op: str, a: Dict[str, Any]) -> Any:
    if op == "register_schema":
        return db.register_schema(a["name"], a["schema"])
    if op == "list_schemas":
        return db.list_schemas()
    if op == "get_schema":
        return db.get_schema(a["name"])
    if op == "insert":
        return db.get(db.insert(a["table"], a["data"]))
    if op == "insert_batch":
        return db.insert_batch(a["table"], a["rows"])
    if op == "get":
        return db.get(a["id"])
    if op == "update":
        return db.update(a["id"], a["patch"])
    if op == "delete":
        return db.delete(a["id"], hard=a.get("hard", False))
    if op == "lookup":
        return db.lookup(a["key"])
    if op == "count":
        return db.count(a["table"])
    if op == "query":
        return db.sql(a["sql"], params=a.get("params"))
    if op == "search":
        query = a["text"] if "text" in a else a["vector"]
        return db.search(query, table=a["table"], limit=a.get("top_k", 10), where=a.get("filter"), min_score=-1.0)
    if op == "add_edge":
        return db.create_edge(a["src"], a["dst"], a["rel_type"], a.get("properties"))
    if op == "traverse":
        return db.traverse(a["start"], direction=a["direction"], depth=a["depth"], rel_type=a["rel_types"] or None)
    if op == "shortest_path":
        path = db.shortest_path(a["source"], a["target"], direction=a["direction"], max_depth=a["max_depth"],
                                weighted=a["weighted"], rel_type=a.get("rel_types") or None)
        if path is None:  # the Python API returns None where the engine says not_found ("no path")
            raise rem_db.NotFoundError("no path")
        return path
    raise AssertionError(f"the suite uses op {op!r}, which this runner does not know")


def test_the_python_wheel_passes_the_conformance_suite() -> None:
    with rem_db.REMDatabase(":memory:", embedding_model=suite_model) as db:
        run_suite(db, SUITE)


def run_suite(db: rem_db.REMDatabase, suite: Dict[str, Any]) -> None:
    """Run every step of ``suite`` on ``db`` (fresh), asserting each result or error."""
    saved: Dict[str, Any] = {}
    for n, step in enumerate(suite["steps"]):
        op, args = step["op"], substitute(step["args"], saved)
        if "error" in step:
            with pytest.raises(rem_db.RemError) as info:
                call(db, op, args)
            assert info.value.kind == step["error"], f"step {n} ({op}): {info.value!r}"
            if "issues" in step:
                assert isinstance(info.value, rem_db.ValidationError)
                got = [{"loc": list(i["loc"]), "type": i["type"]} for i in info.value.errors()]
                assert matches(step["issues"], got), f"step {n} ({op}): {got}"
            continue
        got = call(db, op, args)
        if "expect" in step:
            want = substitute(step["expect"], saved)
            assert matches(want, got), f"step {n} ({op}): got {got}, want {want}"
        if isinstance(step.get("save"), str):
            saved[step["save"]] = got["id"]
        elif isinstance(step.get("save"), list):
            saved.update(zip(step["save"], got))
