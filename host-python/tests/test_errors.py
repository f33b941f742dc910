"""Every case of the WIT ``error`` variant, walked through the host into its Python class.

The cases are read from ``wit/engine.wit`` itself, so a case added to the boundary without a
Python class fails here. Each goes through the host's conversion (``rem_host::Error``) and
the wheel's one mapping (``host-python/src/error.rs``), exactly as an engine error does.
``test_api.py`` raises most of the same classes from real calls.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

import rem_db
from rem_db import _rem

WIT = Path(__file__).resolve().parents[2] / "wit" / "engine.wit"

# WIT case -> (class, builtin it also inherits, the exception's ``kind``)
EXPECTED: Dict[str, Tuple[type, type, str]] = {
    "not-found": (rem_db.NotFoundError, KeyError, "not_found"),
    "schema-not-found": (rem_db.SchemaNotFoundError, KeyError, "schema_not_found"),
    "invalid-schema": (rem_db.SchemaError, ValueError, "invalid_schema"),
    "schema-conflict": (rem_db.SchemaError, ValueError, "schema_conflict"),
    "validation": (rem_db.ValidationError, ValueError, "validation"),
    "invalid-query": (rem_db.QueryError, ValueError, "invalid_query"),
    "unsupported": (rem_db.UnsupportedError, ValueError, "unsupported"),
    "invalid-argument": (rem_db.InvalidArgumentError, ValueError, "invalid_argument"),
    "storage": (rem_db.StorageError, OSError, "storage"),
    "embedding": (rem_db.EmbeddingError, rem_db.RemError, "embedding"),
    "resource-exhausted": (rem_db.ResourceExhaustedError, rem_db.RemError, "resource_exhausted"),
    "internal": (rem_db.EngineError, rem_db.RemError, "internal"),
}


def wit_error_cases() -> list:
    """The case names of ``variant error`` in the WIT file."""
    text = WIT.read_text()
    body = re.search(r"variant error \{(.*?)\n    \}", text, re.S)
    assert body, "no `variant error` in wit/engine.wit"
    return re.findall(r"^\s*([a-z][a-z-]*)\(", body.group(1), re.M)


def test_the_table_covers_exactly_the_wit_cases() -> None:
    assert sorted(wit_error_cases()) == sorted(EXPECTED)


@pytest.mark.parametrize("case", wit_error_cases())
def test_each_wit_case_becomes_its_python_class(case: str) -> None:
    cls, builtin, kind = EXPECTED[case]
    with pytest.raises(rem_db.RemError) as info:
        _rem._raise_wit_error(case, f"the {case} message")
    err = info.value
    assert type(err) is cls, f"{case} became {type(err).__name__}, not {cls.__name__}"
    assert isinstance(err, builtin)
    assert err.kind == kind
    assert f"the {case} message" in str(err)
    if case == "validation":
        assert err.errors() == [{"loc": ("field",), "type": "value_error", "msg": "the validation message"}]
    if case == "invalid-query":
        assert (err.line, err.column) == (1, 2)


def test_a_name_that_is_not_a_case_is_refused() -> None:
    with pytest.raises(ValueError, match="not a WIT error case"):
        _rem._raise_wit_error("no-such-case", "x")


def test_the_exceptions_the_bindings_design_names(tmp_path: Any) -> None:
    db = rem_db.REMDatabase(tmp_path / "db", embedding_model="hash:16")
    db.register_schema("t", {"type": "object", "properties": {"a": {}}})
    # Values that cannot be JSON: SerializationError, also TypeError / ValueError.
    for bad in [{"a": object()}, {"a": float("nan")}, {1: "x"}, {"a": 1 << 70}]:
        with pytest.raises(rem_db.SerializationError) as err:
            db.insert("t", bad)
        assert isinstance(err.value, (TypeError, ValueError)) and err.value.kind == "serialization"
    assert db.count("t") == 0
    # A closed handle: DatabaseClosedError, still an InvalidArgumentError (and a ValueError).
    db.close()
    with pytest.raises(rem_db.DatabaseClosedError, match="closed") as closed:
        db.count("t")
    assert isinstance(closed.value, rem_db.InvalidArgumentError) and closed.value.kind == "database_closed"
    # The memory cap is also a MemoryError.
    assert issubclass(rem_db.ResourceExhaustedError, MemoryError)
