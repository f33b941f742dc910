"""Pydantic models as schemas: nested models, enums, optionals, defaults; MemoryEngine."""

from __future__ import annotations

import enum
from typing import Any, List, Optional

import pytest
from pydantic import BaseModel, ConfigDict, Field

import rem_db
from rem_db import MemoryEngine, REMDatabase


class Role(str, enum.Enum):
    engineer = "engineer"
    manager = "manager"


class Address(BaseModel):
    city: str
    zip: str = Field(pattern=r"^[0-9]{5}$")


class Employee(BaseModel):
    model_config = ConfigDict(json_schema_extra={"key_field": "name", "indexed_fields": ["role"],
                                                 "embedding_fields": ["bio"]})

    name: str
    role: Role = Role.engineer
    level: int = Field(default=1, ge=1, le=10)
    address: Optional[Address] = None
    skills: List[str] = []
    bio: str = ""


def test_model_schema_validates_and_applies_defaults(db: REMDatabase) -> None:
    record = db.register_schema("employee", Employee)
    assert record["key_field"] == "name"
    id_ = db.insert("employee", {"name": "Ann", "address": {"city": "Lyon", "zip": "69001"}})
    got = db.get(id_)
    assert got is not None
    assert got["properties"] == {"name": "Ann", "role": "engineer", "level": 1, "skills": [], "bio": "",
                                 "address": {"city": "Lyon", "zip": "69001"}}
    # A model instance is accepted as data too.
    db.insert("employee", Employee(name="Ben", role=Role.manager, skills=["go"]))
    assert db.sql("SELECT name FROM employee WHERE role = 'manager'") == [{"name": "Ben"}]


@pytest.mark.parametrize(
    "data, loc, kind",
    [
        ({"name": "X", "address": {"city": "Paris", "zip": "7500"}}, ("address", "zip"), "string_pattern_mismatch"),
        ({"name": "X", "address": {"zip": "75001"}}, ("address", "city"), "missing"),
        ({"name": "X", "role": "intern"}, ("role",), "enum"),
        ({"name": "X", "level": 11}, ("level",), "less_than_equal"),
        ({"name": "X", "skills": ["a", 3]}, ("skills", 1), "string_type"),
        ({"role": "manager"}, ("name",), "missing"),
    ],
)
def test_invalid_nested_values_name_their_loc(db: REMDatabase, data: dict, loc: tuple, kind: str) -> None:
    db.register_schema("employee", Employee)
    with pytest.raises(rem_db.ValidationError) as info:
        db.insert("employee", data)
    errors = info.value.errors()
    assert [(e["loc"], e["type"]) for e in errors] == [(loc, kind)], errors
    assert db.count("employee") == 0


def test_upsert_models(db: REMDatabase) -> None:
    db.register_schema("employee", Employee)
    ids = db.upsert([Employee(name="A"), Employee(name="B")])
    assert len(ids) == 2 and db.count("employee") == 2
    assert db.upsert(Employee(name="A", level=3)) == ids[:1], "the same key upserts"
    with pytest.raises(TypeError):
        db.upsert([{"name": "dict"}])


class Note(BaseModel):
    model_config = ConfigDict(json_schema_extra={"table_name": "notes", "embedding_fields": ["text"]})

    title: str
    text: str
    tags: List[str] = []


def test_memory_engine(db: REMDatabase) -> None:
    mem = MemoryEngine(db)
    assert mem.register_model(Note) == "notes"
    assert mem.register_model(Employee) == "employee"
    first = mem.insert(Note(title="deploy", text="the deploy failed because the disk was full"))
    mem.insert_many([Note(title="lunch", text="pasta on friday"), Note(title="db", text="the disk is full again")])
    note = mem.get(Note, first)
    assert isinstance(note, Note) and note.title == "deploy"
    assert mem.get(Employee, first) is None, "an id of another table is not an Employee"
    rows = mem.query(Note, "SELECT title, text FROM notes WHERE title = ?", params=["lunch"])
    assert rows == [Note(title="lunch", text="pasta on friday")]
    assert [n.title for n in mem.query(Note, "SELECT * FROM notes ORDER BY title")] == ["db", "deploy", "lunch"]
    hits = mem.search(Note, "disk full", limit=2)
    assert len(hits) == 2 and all(isinstance(n, Note) and isinstance(s, float) for n, s in hits)
    assert {n.title for n, _ in hits} == {"deploy", "db"}


def test_memory_engine_opens_its_own_database(tmp_path: object) -> None:
    with MemoryEngine(path=":memory:", embedding_model="hash:16") as mem:
        mem.register_model(Note)
        mem.insert(Note(title="t", text="x"))
        assert mem.db.count("notes") == 1


class Article(BaseModel):
    """Settings on the fields, the style the design prefers (Pydantic puts them under
    ``properties.<name>``), merged with the model-level ones."""

    model_config = ConfigDict(json_schema_extra={"indexed_fields": ["slug"], "embedding_provider": "default"})

    slug: str = Field(json_schema_extra={"key_field": True})
    status: str = Field("draft", json_schema_extra={"indexed": True})
    title: str = Field(json_schema_extra={"embed": True})
    body: str = ""


def test_field_level_settings_key_index_and_embed(db: REMDatabase) -> None:
    record = db.register_schema("articles", Article)
    assert record["key_field"] == "slug"
    assert record["indexed_fields"] == ["slug", "status"]
    assert record["embedding_fields"] == ["title"]
    assert record["embedding_provider"] == "hash:64", "`default` is the handle's default model"
    first = db.insert("articles", Article(slug="rem", title="REM launches", status="live"))
    again = db.insert("articles", Article(slug="rem", title="REM launches again", status="live"))
    assert first == again and db.count("articles") == 1, "the same key upserts"
    assert [r["title"] for r in db.sql("SELECT title FROM articles WHERE status = 'live'")] == ["REM launches again"]
    assert db.search("launch", table="articles")[0]["properties"]["slug"] == "rem"


def test_a_typo_in_a_setting_says_what_was_meant(db: REMDatabase) -> None:
    class Post(BaseModel):
        model_config = ConfigDict(json_schema_extra={"indexed_fields": ["titel"]})
        title: str

    with pytest.raises(rem_db.SchemaError, match="did you mean 'title'"):
        db.register_schema("posts", Post)


def test_the_core_models_register_as_the_core_tables(tmp_path: Any) -> None:
    from rem_db.models import CORE_MODELS, Message, Moment, Session

    with REMDatabase(tmp_path / "core", embedding_model="hash:64") as core, \
            REMDatabase(tmp_path / "models", embedding_model="hash:64") as typed:
        core.register_core_schemas()
        for model in CORE_MODELS:
            built_in = core.get_schema(model.TABLE)
            record = typed.register_schema(model.TABLE, model)
            for setting in ["key_field", "indexed_fields", "embedding_fields", "references", "version",
                            "short_name", "category"]:
                assert record[setting] == built_in[setting], (model.TABLE, setting)
            assert set(record["schema"]["properties"]) == set(built_in["schema"]["properties"]), model.TABLE
            # The model registers over the built-in table too (same major version).
            core.register_schema(model.TABLE, model)
        typed.insert("sessions", Session(session_id="s1", user_id="alice", case_id="CASE-7"))
        typed.insert("messages", Message(message_id="m1", session_id="s1", role="user", content="hi",
                                         timestamp="2026-12-07T09:00:00Z", span_id="sp1"))
        typed.insert("moments", Moment(name="hello", summary="said hi", start_time="2026-12-07T09:00:00Z",
                                       end_time="2026-12-07T09:01:00Z", moment_type="communication",
                                       classifications=["greeting"]))
        assert typed.sql("SELECT session_id FROM sessions WHERE case_id = 'CASE-7'") == [{"session_id": "s1"}]
        assert typed.get("m1")["properties"]["span_id"] == "sp1"
        assert typed.get_edges(typed.get("m1")["id"])[0]["rel_type"] == "belongs_to"


def test_memory_engine_takes_the_designs_argument_order_and_closes(tmp_path: Any) -> None:
    class Note(BaseModel):
        model_config = ConfigDict(json_schema_extra={"key_field": "title", "embedding_fields": ["text"]})
        title: str
        text: str

    mem = MemoryEngine(path=tmp_path / "db", embedding_model="hash:64")
    table = mem.register_model(Note, name="notes")
    note_id = mem.insert(table, Note(title="deploy", text="the disk was full"))
    assert mem.insert(Note(title="lunch", text="pizza")) != note_id
    got = mem.get(table, note_id, Note)
    assert got is not None and got.text == "the disk was full"
    assert mem.get(Note, "deploy") == got, "a natural key works too"
    assert [n.title for n in mem.query(table, Note, "SELECT * FROM notes ORDER BY title")] == ["deploy", "lunch"]
    assert mem.search("disk full", Note, 1)[0][0].title == "deploy"
    mem.close()
    mem.close()
    with pytest.raises(rem_db.DatabaseClosedError):
        mem.query(Note, "SELECT * FROM notes")
