"""A hypothesis state machine: upsert/get/update/delete/count/query against a dict model."""

from __future__ import annotations

import tempfile
from typing import Any, Dict, Optional

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import rem_db

SCHEMA = {
    "type": "object",
    "key_field": "key",
    "indexed_fields": ["score"],
    "properties": {
        "key": {"type": "string", "minLength": 1},
        "score": {"type": "integer", "minimum": 0},
        "note": {"type": "string"},
    },
    "required": ["key", "score"],
}

keys = st.sampled_from([f"k{i}" for i in range(12)])
scores = st.integers(min_value=0, max_value=50)
notes = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)


class Model(RuleBasedStateMachine):
    """REM must agree with a plain dict of key -> properties after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.db = rem_db.REMDatabase(self.dir.name, embedding_model="hash:8")
        self.db.register_schema("item", SCHEMA)
        self.model: Dict[str, Dict[str, Any]] = {}
        self.ids: Dict[str, str] = {}

    def teardown(self) -> None:
        self.db.close()
        self.dir.cleanup()

    @rule(key=keys, score=scores, note=st.one_of(st.none(), notes))
    def upsert(self, key: str, score: int, note: Optional[str]) -> None:
        row: Dict[str, Any] = {"key": key, "score": score}
        if note is not None:
            row["note"] = note
        id_ = self.db.insert("item", row)
        assert self.ids.setdefault(key, id_) == id_, "the same key always maps to the same id"
        self.model[key] = row

    @rule(key=keys, score=st.integers(min_value=-5, max_value=50))
    def update(self, key: str, score: int) -> None:
        if key not in self.model:
            if key in self.ids:
                return  # deleted: update of a soft-deleted row is not modelled
            return
        if score < 0:
            try:
                self.db.update(self.ids[key], {"score": score})
            except rem_db.ValidationError as e:
                assert e.errors()[0]["loc"] == ("score",)
            else:
                raise AssertionError("a negative score was accepted")
            return
        got = self.db.update(self.ids[key], {"score": score})
        self.model[key] = {**self.model[key], "score": score}
        assert got["properties"] == self.model[key]

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), hard=st.booleans())
    def delete(self, data: st.DataObject, hard: bool) -> None:
        key = data.draw(st.sampled_from(sorted(self.model)))
        self.db.delete(self.ids[key], hard=hard)
        del self.model[key]
        if hard:
            assert self.db.get(self.ids[key]) is None
        else:
            gone = self.db.get(self.ids[key])
            assert gone is not None and gone["deleted_at"] is not None

    @rule(key=keys)
    def get(self, key: str) -> None:
        if key in self.model:
            got = self.db.get(self.ids[key])
            assert got is not None and got["properties"] == self.model[key] and got["deleted_at"] is None
        assert [e["properties"] for e in self.db.lookup(key)] == ([self.model[key]] if key in self.model else [])

    @rule(threshold=scores)
    def query(self, threshold: int) -> None:
        rows = self.db.sql("SELECT key FROM item WHERE score >= ? ORDER BY key", params=[threshold])
        want = sorted(k for k, v in self.model.items() if v["score"] >= threshold)
        assert [r["key"] for r in rows] == want

    @invariant()
    def count_matches(self) -> None:
        assert self.db.count("item") == len(self.model)


Model.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
TestModel = Model.TestCase
