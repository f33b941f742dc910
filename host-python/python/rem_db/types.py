"""Shapes of what REM returns (``TypedDict``s; at run time they are plain dicts)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, TypedDict

__all__ = ["Entity", "SearchHit", "Edge", "TraversalStep", "GraphPath", "IndexStats"]


class Edge(TypedDict):
    """A typed edge ``src -[rel_type]-> dst`` (ids); ``properties`` may hold ``weight``."""

    src: str
    dst: str
    rel_type: str
    properties: Dict[str, Any]
    created_at: str


class _EntityBase(TypedDict):
    id: str
    entity_type: str
    created_at: str
    modified_at: str
    deleted_at: Optional[str]
    edges: List[Edge]
    properties: Dict[str, Any]


class Entity(_EntityBase, total=False):
    """A stored entity: system fields plus the validated ``properties``.

    ``id`` is a UUID string (BLAKE3 of tenant, table and natural key when the
    table has a ``key_field``); timestamps are RFC 3339 UTC strings;
    ``deleted_at`` is set by a soft delete. ``embedding`` (asked for with
    ``include_vectors=True``) is the stored vector: a 1-D float32 NumPy array of unit
    length (a list of floats without NumPy), or None for an entity without one.
    """

    embedding: Any


class _SearchHitBase(Entity):
    _score: float


class SearchHit(_SearchHitBase, total=False):
    """An :class:`Entity` with ``_score`` (1 - cosine distance, in [-1, 1], higher is closer);
    hybrid searches add ``_vector_score`` and ``_bm25_score``."""

    _vector_score: float
    _bm25_score: float


class _TraversalStepBase(TypedDict):
    id: str
    depth: int
    path: List[Edge]


class TraversalStep(_TraversalStepBase, total=False):
    """A node reached by ``traverse``: its id, hop depth (0 for the start) and the edges from the
    start; ``entity`` (the stored entity, or None) with ``traverse(..., entities=True)``."""

    entity: Optional["Entity"]


class GraphPath(TypedDict):
    """A shortest path: ``nodes`` from ``source`` to ``target``, its edges, ``hops`` and ``cost``
    (sum of edge ``weight``s when weighted, else hops)."""

    source: str
    target: str
    hops: int
    cost: float
    nodes: List[str]
    path: List[Edge]


class _IndexStatsBase(TypedDict):
    table: str
    embedding_fields: List[str]
    model: str
    dims: int
    metric: str
    m: int
    ef_construction: int
    ef_search: int
    count: int
    live: int
    tombstones: int
    max_level: int
    resident: int


class IndexStats(_IndexStatsBase, total=False):
    """Figures of a table's vector index (HNSW, Malkov & Yashunin 2018); ``alt``: the same
    figures of its second model's index (``embedding_alt``), when it has one."""

    alt: "IndexStats"
