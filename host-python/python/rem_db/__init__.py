"""REM (Resources, Entities, Moments): an embedded memory database for AI agents.

Tables defined by JSON Schema (or Pydantic models), validated on every write;
entities with deterministic ids and upserts; a SQL dialect with ``LOOKUP``,
``SEARCH`` and ``TRAVERSE``; semantic search with embeddings made on write and
an HNSW index; and a graph of typed, weighted edges. The engine is a WASI
component run by an embedded wasmtime host over redb storage::

    from rem_db import REMDatabase

    with REMDatabase(":memory:", embedding_model="hash:64") as db:
        db.register_schema("note", {"type": "object", "properties": {"text": {"type": "string"}}},
                           embedding_fields=["text"])
        db.insert("note", {"text": "the deploy failed on Friday"})
        print(db.search("deploy failure", table="note", limit=1)[0]["_score"])
"""

from __future__ import annotations

import logging as _logging
import os as _os
from typing import TYPE_CHECKING, Any, Dict, Optional

# The engine host logs through Python's `logging`, logger "rem" (slow calls, at debug, with their
# timing; P8_SLOW_CALL_MS sets the threshold). P8_LOG=debug|info|warning sets its level and, when
# the application configured no handler, prints it to stderr.
_level = _os.environ.get("P8_LOG", "").strip().upper()
if _level:
    _rem_logger = _logging.getLogger("rem")
    _rem_logger.setLevel(getattr(_logging, _level, _logging.WARNING))
    if not _rem_logger.handlers and not _logging.getLogger().handlers:
        _rem_logger.addHandler(_logging.StreamHandler())

from ._rem import DEFAULT_EMBEDDING_MODEL, ENGINE_HASH, __version__
from .database import MEMORY, PathLike, REMDatabase
from .engine import MemoryEngine
from .errors import (
    CallTimeoutError,
    DatabaseForkedError,
    DatabaseLockedError,
    DatabaseNotFoundError,
    ServerConnectionError,
    UnauthorizedError,
    PasswordError,
    EmbeddingAuthenticationError,
    EmbeddingConnectionError,
    EmbeddingError,
    EmbeddingRateLimitError,
    LlmError,
    EngineError,
    ErrorDetails,
    InvalidArgumentError,
    DatabaseClosedError,
    SerializationError,
    NotFoundError,
    QueryError,
    RemError,
    ResourceExhaustedError,
    SchemaError,
    SchemaNotFoundError,
    StorageError,
    UnsupportedError,
    ValidationError,
)
from .types import Edge, Entity, GraphPath, IndexStats, SearchHit, TraversalStep

if TYPE_CHECKING:
    from .aio import AsyncREMDatabase


def restore(src: PathLike, dest: PathLike, *, force: bool = False, password: Optional[str] = None) -> Dict[str, Any]:
    """Restore a backup made by :meth:`REMDatabase.backup` into a new database directory.

    Args:
        src: the backup's directory.
        dest: the database directory to create.
        force: replace a database already at ``dest`` (never one that is open).
        password: the password of an encrypted backup (default ``$P8_PASSWORD``); the
            restored database is encrypted with the same one.

    Returns:
        ``{"path": str, "keys": int, "file_bytes": int}``.

    Raises:
        DatabaseNotFoundError: no database at ``src``.
        InvalidArgumentError: ``dest`` exists and ``force`` is false.
        DatabaseLockedError: ``src`` or ``dest`` is open in another process.
        PasswordError: an encrypted backup and no password, or a wrong one.
    """
    import json as _json

    from . import _rem

    return _json.loads(_rem.restore(_os.fspath(src), _os.fspath(dest), force, password))  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    # asyncio costs ~50 ms to import: load the async API only when it is used.
    if name == "AsyncREMDatabase":
        from .aio import AsyncREMDatabase

        return AsyncREMDatabase
    raise AttributeError(f"module 'rem_db' has no attribute {name!r}")

__all__ = [
    "REMDatabase",
    "restore",
    "AsyncREMDatabase",
    "MemoryEngine",
    "MEMORY",
    "DEFAULT_EMBEDDING_MODEL",
    "ENGINE_HASH",
    "Entity",
    "SearchHit",
    "Edge",
    "TraversalStep",
    "GraphPath",
    "IndexStats",
    "ErrorDetails",
    "RemError",
    "NotFoundError",
    "SchemaNotFoundError",
    "ValidationError",
    "SchemaError",
    "QueryError",
    "UnsupportedError",
    "InvalidArgumentError",
    "DatabaseClosedError",
    "SerializationError",
    "EmbeddingError",
    "EmbeddingConnectionError",
    "EmbeddingAuthenticationError",
    "EmbeddingRateLimitError",
    "LlmError",
    "StorageError",
    "DatabaseForkedError",
    "DatabaseLockedError",
    "DatabaseNotFoundError",
    "ServerConnectionError",
    "UnauthorizedError",
    "PasswordError",
    "ResourceExhaustedError",
    "CallTimeoutError",
    "EngineError",
    "__version__",
]
