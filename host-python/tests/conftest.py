"""Fixtures: a fresh database in ``tmp_path`` with model-free (hash) embeddings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import rem_db

# Keep compiled-engine caches and default paths inside the test run.
os.environ.setdefault("P8_HOME", str(Path(__file__).resolve().parents[2] / "target" / "pytest-p8home"))

PERSON: Dict[str, Any] = {
    "title": "Person",
    "type": "object",
    "key_field": "name",
    "indexed_fields": ["role", "age"],
    "embedding_fields": ["bio"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "role": {"type": "string", "enum": ["engineer", "manager", "designer"], "default": "engineer"},
        "bio": {"type": "string", "default": ""},
    },
    "required": ["name", "age"],
}

PEOPLE = [
    {"name": "Alice", "age": 30, "role": "engineer", "bio": "builds consensus protocols and distributed databases"},
    {"name": "Bob", "age": 25, "role": "designer", "bio": "draws user interfaces and icons"},
    {"name": "Carol", "age": 41, "role": "manager", "bio": "runs the storage team and plans roadmaps"},
    {"name": "Dana", "age": 35, "role": "engineer", "bio": "writes compilers and query planners for databases"},
]


def letters(texts: List[str]) -> List[List[float]]:
    """A toy embedding model: counts of a-z per text (case folded), 26 dims. It is also the
    conformance suite's `custom:letters`."""
    out = []
    for t in texts:
        v = [0.0] * 26
        for c in t.lower():
            if "a" <= c <= "z":
                v[ord(c) - 97] += 1.0
        out.append(v)
    return out


@pytest.fixture
def db(tmp_path: Path) -> Iterator[rem_db.REMDatabase]:
    with rem_db.REMDatabase(tmp_path / "db", embedding_model="hash:64") as d:
        yield d


@pytest.fixture
def people(db: rem_db.REMDatabase) -> rem_db.REMDatabase:
    db.register_schema("person", PERSON)
    db.insert_batch("person", PEOPLE)
    return db
