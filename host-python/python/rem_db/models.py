"""Pydantic models of REM's core schemas: ``Resource``, ``Document``, ``Session``, ``Message``
and ``Moment``.

Each model's ``model_json_schema()`` registers as the same table, with the same settings, as
the built-in schema ``rem init`` and :meth:`~rem_db.REMDatabase.register_core_schemas`
register (``host/schemas/core/*.json``; a test compares them field by field), so an agent
can write rows as typed objects::

    from rem_db import REMDatabase
    from rem_db.models import Message, Session

    db = REMDatabase()
    db.register_core_schemas()
    db.insert("sessions", Session(session_id="s1", user_id="alice"))
    db.insert("messages", Message(message_id="m1", session_id="s1", role="user",
                                  content="hello", timestamp="2026-12-07T09:00:00Z"))

``Model.TABLE`` names each model's table. Requires Pydantic 2 (``pip install rem-db[pydantic]``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Dict, List, Literal, Optional

try:
    from pydantic import BaseModel, ConfigDict, Field
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("rem_db.models needs Pydantic 2: pip install 'rem-db[pydantic]'") from e

__all__ = ["Resource", "Document", "Session", "Message", "Moment", "ToolCall", "CORE_MODELS"]


def _settings(table: str, version: str, description: str, **settings: Any) -> ConfigDict:
    extra: Dict[str, Any] = {"short_name": table, "version": version, "category": "system",
                             "description": description, **settings}
    return ConfigDict(title=table[:-1].capitalize(), json_schema_extra=extra)


class Resource(BaseModel):
    """A chunk of a document, or any text the agent can search (table ``resources``)."""

    TABLE: ClassVar[str] = "resources"
    model_config = _settings(
        "resources", "1.0.0",
        "A chunk of a document, or any text the agent can search.",
        key_field="uri", indexed_fields=["content_type", "category", "document_id"], embedding_fields=["content"],
    )

    name: str = Field(description="Human-readable name, e.g. the file name and chunk number")
    content: str = Field(description="The text of the chunk (embedded)")
    uri: str = Field(min_length=1, description="Where the text comes from (file://, https://, ...)")
    chunk_ordinal: int = Field(0, ge=0, description="Position of the chunk in its document, from 0")
    content_type: Optional[str] = Field(None, description="MIME type of the source, e.g. text/markdown")
    category: Optional[str] = None
    tags: List[str] = Field(default_factory=list)
    document_id: Optional[str] = Field(None, description="Id of the `documents` row of the source")
    metadata: Dict[str, Any] = Field(default_factory=dict)


class Document(BaseModel):
    """A source file or page, one row per document (table ``documents``)."""

    TABLE: ClassVar[str] = "documents"
    model_config = _settings(
        "documents", "1.0.0",
        "A source file or page, one row per document; its chunks are `resources` rows linked to it by `part_of` edges.",
        key_field="uri", indexed_fields=["content_type", "file_hash", "category"],
    )

    name: str
    uri: str = Field(min_length=1)
    content_type: Optional[str] = Field(None, description="MIME type, e.g. application/pdf")
    file_size: Optional[int] = Field(None, ge=0, description="Size in bytes")
    file_hash: Optional[str] = Field(None, description="BLAKE3 of the file's bytes, hex")
    chunk_count: int = Field(0, ge=0)
    category: Optional[str] = None
    tags: List[str] = Field(default_factory=list)
    metadata: Dict[str, Any] = Field(default_factory=dict)


class Session(BaseModel):
    """A conversation between a user and an agent (table ``sessions``)."""

    TABLE: ClassVar[str] = "sessions"
    model_config = _settings(
        "sessions", "1.1.0",
        "A conversation between a user and an agent; its messages point to it by `session_id`.",
        key_field="session_id", indexed_fields=["user_id", "agent_uri", "case_id"],
    )

    session_id: str = Field(min_length=1)
    name: Optional[str] = None
    user_id: Optional[str] = None
    agent_uri: Optional[str] = Field(None, description="The agent (agentlet) that ran the session")
    case_id: Optional[str] = Field(None, description="The case, ticket or project the session belongs to")
    metadata: Dict[str, Any] = Field(default_factory=dict)


class ToolCall(BaseModel):
    """One tool call of an assistant message."""

    id: Optional[str] = None
    name: str
    arguments: Dict[str, Any] = Field(default_factory=dict)


class Message(BaseModel):
    """One message of a session (table ``messages``; ``session_id`` is kept as a
    ``belongs_to`` edge to the session, which must exist first)."""

    TABLE: ClassVar[str] = "messages"
    model_config = _settings(
        "messages", "1.1.0",
        "One message of a session, kept as a belongs_to edge to its session.",
        key_field="message_id", indexed_fields=["session_id", "role", "timestamp"], embedding_fields=["content"],
        references={"session_id": {"table": "sessions", "rel_type": "belongs_to"}},
    )

    message_id: str = Field(min_length=1)
    session_id: str = Field(min_length=1)
    role: Literal["user", "assistant", "system", "tool"]
    content: str
    timestamp: datetime
    model: Optional[str] = None
    tool_calls: List[ToolCall] = Field(default_factory=list)
    trace_id: Optional[str] = None
    span_id: Optional[str] = Field(None, description="The tracing span of the call that produced the message")
    metadata: Dict[str, Any] = Field(default_factory=dict)


class Moment(BaseModel):
    """A span of time worth remembering, summarised and searchable (table ``moments``;
    ``rem dream`` writes them)."""

    TABLE: ClassVar[str] = "moments"
    model_config = _settings(
        "moments", "1.1.0",
        "A span of time worth remembering (a work session, a decision, a conversation), summarised and searchable.",
        key_field="name", indexed_fields=["start_time", "end_time", "moment_type"], embedding_fields=["summary"],
    )

    name: str = Field(min_length=1, max_length=200)
    summary: str
    start_time: datetime
    end_time: datetime
    moment_type: Literal["work_session", "learning", "planning", "communication", "reflection", "creation", "other"]
    tags: List[str] = Field(default_factory=list)
    classifications: List[str] = Field(
        default_factory=list, description="Labels from a fixed vocabulary, e.g. decision, incident"
    )
    emotion_tags: List[str] = Field(default_factory=list)
    people: List[str] = Field(default_factory=list)
    resource_ids: List[str] = Field(default_factory=list)
    session_ids: List[str] = Field(default_factory=list)
    metadata: Dict[str, Any] = Field(default_factory=dict)


#: The core models, in the order ``register_core_schemas`` registers their tables.
CORE_MODELS = (Resource, Document, Session, Message, Moment)
