"""``AsyncREMDatabase``: :class:`~rem_db.REMDatabase` for asyncio (FastAPI, agent loops).

In process, each method runs the blocking call in a worker thread
(``asyncio.to_thread``), so the event loop keeps serving while the engine
works; the GIL is released inside the engine, so other Python threads run too.
On a served database named by URL (:meth:`AsyncREMDatabase.connect`), calls are
non-blocking HTTP requests made on the event loop itself (``rem_db._remote``).
Methods, arguments, returns and exceptions are those of
:class:`~rem_db.REMDatabase`.
"""

from __future__ import annotations

import asyncio
import os
from types import TracebackType
from typing import Any, AsyncIterator, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Type, TypeVar, Union, cast

from ._convert import EmbeddingFunction, LlmFunction
from ._remote import AsyncNative, ServedCalls
from .database import PathLike, REMDatabase, VectorLike
from .types import Edge, Entity, GraphPath, IndexStats, SearchHit, TraversalStep

__all__ = ["AsyncREMDatabase"]

T = TypeVar("T")


class AsyncREMDatabase:
    """The asyncio form of :class:`~rem_db.REMDatabase` (same arguments).

    Open with ``await AsyncREMDatabase.open(...)`` or ``AsyncREMDatabase(...)``
    (opening loads the engine, a few milliseconds when its compiled form is
    cached); use ``async with`` or ``await db.close()``.
    """

    def __init__(
        self,
        path: Optional[PathLike] = None,
        *,
        tenant_id: str = "default",
        embedding_model: Union[str, EmbeddingFunction, None] = None,
        memory_limit: Optional[int] = None,
        call_timeout: Optional[float] = None,
        server: Optional[str] = None,
        token: Optional[str] = None,
        llm: Union[str, LlmFunction, None] = None,
        password: Optional[str] = None,
    ) -> None:
        self.sync = REMDatabase(
            path,
            tenant_id=tenant_id,
            embedding_model=embedding_model,
            memory_limit=memory_limit,
            call_timeout=call_timeout,
            server=server,
            token=token,
            llm=llm,
            password=password,
        )
        # Named by URL: calls do their own async I/O (rem_db._remote). Otherwise (a file, or a
        # server found through the database folder) they run in worker threads.
        self._served: Optional[ServedCalls] = None
        if server is None and path is None:
            server = os.environ.get("P8_SERVER", "").strip() or None
        if server is not None:
            token = token or os.environ.get("P8_SERVER_TOKEN", "").strip() or None
            self._served = ServedCalls(AsyncNative(server, token, tenant_id))

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        token: Optional[str] = None,
        tenant_id: str = "default",
        llm: Union[str, LlmFunction, None] = None,
    ) -> "AsyncREMDatabase":
        """The asyncio form of :meth:`REMDatabase.connect`: a handle on the database ``rem serve``
        serves at ``url``, whose calls are non-blocking HTTP requests on the event loop (httpx),
        not worker threads; ``ingest``, ``upsert`` and ``register_core_schemas`` run in a worker
        thread over the synchronous client. Same methods, results and exceptions as in process.

        Raises:
            ServerConnectionError, UnauthorizedError, InvalidArgumentError: as :meth:`REMDatabase.connect`.
        """
        return await asyncio.to_thread(cls, None, tenant_id=tenant_id, server=url, token=token, llm=llm)

    #: Methods that run in a worker thread even on a served handle: they read local files
    #: (ingest), make several calls whose results they combine (and ask a chat model: ``query_natural_language``,
    #: ``dream``), or keep state in :attr:`sync`
    #: (``register_schema`` records a model's table for ``upsert``).
    _THREADED = frozenset(
        {"ingest", "upsert", "register_core_schemas", "register_schema", "query_natural_language", "dream", "stats",
         "health", "backup", "compact", "export"}
    )

    async def _call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``method`` (a method of :attr:`sync`): over the served handle's own async I/O
        when there is one, else in a worker thread."""
        if self._served is not None and method.__name__ not in self._THREADED:
            return cast(T, await self._served.run(method.__name__, *args, **kwargs))
        return await asyncio.to_thread(method, *args, **kwargs)

    @classmethod
    async def open(
        cls,
        path: Optional[PathLike] = None,
        *,
        tenant_id: str = "default",
        embedding_model: Union[str, EmbeddingFunction, None] = None,
        memory_limit: Optional[int] = None,
        call_timeout: Optional[float] = None,
        llm: Union[str, LlmFunction, None] = None,
        password: Optional[str] = None,
    ) -> "AsyncREMDatabase":
        """Open the database in a worker thread (see :class:`~rem_db.REMDatabase`; ``password``
        opens or creates an encrypted one)."""
        return await asyncio.to_thread(
            cls,
            path,
            tenant_id=tenant_id,
            embedding_model=embedding_model,
            memory_limit=memory_limit,
            call_timeout=call_timeout,
            llm=llm,
            password=password,
        )

    @property
    def path(self) -> Optional[str]:
        """The database directory, or ``None`` in memory."""
        return self.sync.path

    @property
    def tenant_id(self) -> str:
        """The tenant this handle reads and writes."""
        return self.sync.tenant_id

    async def close(self) -> None:
        """Close the handle (idempotent)."""
        self.sync.close()
        if self._served is not None:
            await self._served.aclose()

    async def __aenter__(self) -> "AsyncREMDatabase":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    async def register_schema(
        self,
        name: str,
        schema: Any,
        *,
        indexed_fields: Optional[Sequence[str]] = None,
        embedding_fields: Optional[Sequence[str]] = None,
        key_field: Optional[str] = None,
        embedding_model: Optional[str] = None,
        covering_fields: Optional[Sequence[str]] = None,
    ) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.register_schema`."""
        return await self._call(
            self.sync.register_schema,
            name,
            schema,
            indexed_fields=indexed_fields,
            embedding_fields=embedding_fields,
            key_field=key_field,
            embedding_model=embedding_model,
            covering_fields=covering_fields,
        )

    async def register_core_schemas(self) -> List[str]:
        """See :meth:`rem_db.REMDatabase.register_core_schemas`."""
        return await self._call(self.sync.register_core_schemas)

    async def ingest(
        self,
        paths: Union[PathLike, Sequence[PathLike]],
        *,
        table: str = "resources",
        chunk_size: int = 1000,
        overlap: int = 100,
        unit: str = "chars",
        force: bool = False,
    ) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.ingest`."""
        return await self._call(
            self.sync.ingest, paths, table=table, chunk_size=chunk_size, overlap=overlap, unit=unit, force=force
        )

    async def list_schemas(self) -> List[str]:
        """See :meth:`rem_db.REMDatabase.list_schemas`."""
        return await self._call(self.sync.list_schemas)

    async def get_schema(self, name: str) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.get_schema`."""
        return await self._call(self.sync.get_schema, name)

    async def insert(self, table: str, data: Any, *, vector: Optional[VectorLike] = None) -> str:
        """See :meth:`rem_db.REMDatabase.insert`."""
        return await self._call(self.sync.insert, table, data, vector=vector)

    async def insert_batch(self, table: str, rows: Iterable[Any], *, vectors: Optional[Any] = None) -> List[str]:
        """See :meth:`rem_db.REMDatabase.insert_batch`."""
        return await self._call(self.sync.insert_batch, table, list(rows), vectors=vectors)

    async def get_vectors(self, ids: Sequence[str]) -> List[Optional[Any]]:
        """See :meth:`rem_db.REMDatabase.get_vectors`."""
        return await self._call(self.sync.get_vectors, ids)

    async def upsert(self, models: Any) -> List[str]:
        """See :meth:`rem_db.REMDatabase.upsert`."""
        return await self._call(self.sync.upsert, models)

    async def get(self, id: str, *, include_vectors: bool = False) -> Optional[Entity]:
        """See :meth:`rem_db.REMDatabase.get`."""
        return await self._call(self.sync.get, id, include_vectors=include_vectors)

    async def get_batch(self, ids: Sequence[str], *, include_vectors: bool = False) -> List[Optional[Entity]]:
        """See :meth:`rem_db.REMDatabase.get_batch`."""
        return await self._call(self.sync.get_batch, ids, include_vectors=include_vectors)

    async def update(self, id: str, patch: Mapping[str, Any]) -> Entity:
        """See :meth:`rem_db.REMDatabase.update`."""
        return await self._call(self.sync.update, id, patch)

    async def delete(self, id: str, *, hard: bool = False) -> Entity:
        """See :meth:`rem_db.REMDatabase.delete`."""
        return await self._call(self.sync.delete, id, hard=hard)

    async def lookup(self, key: str) -> List[Entity]:
        """See :meth:`rem_db.REMDatabase.lookup`."""
        return await self._call(self.sync.lookup, key)

    async def list(
        self, table: str, *, limit: Optional[int] = None, offset: int = 0, after: Optional[str] = None
    ) -> List[Entity]:
        """See :meth:`rem_db.REMDatabase.list`."""
        return await self._call(self.sync.list, table, limit=limit, offset=offset, after=after)

    async def count(self, table: str) -> int:
        """See :meth:`rem_db.REMDatabase.count`."""
        return await self._call(self.sync.count, table)

    async def sql(
        self,
        query: str,
        *,
        params: Union[Sequence[Any], Mapping[str, Any], None] = None,
        read_only: bool = True,
    ) -> List[Dict[str, Any]]:
        """See :meth:`rem_db.REMDatabase.sql`."""
        return await self._call(self.sync.sql, query, params=params, read_only=read_only)

    async def backup(self, dest: PathLike, *, force: bool = False) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.backup`."""
        return await self._call(self.sync.backup, dest, force=force)

    async def export(
        self,
        table: str,
        path: PathLike,
        *,
        format: Optional[str] = None,
        where: Optional[str] = None,
        with_vectors: bool = False,
        include_deleted: bool = False,
        force: bool = False,
    ) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.export`."""
        return await self._call(
            self.sync.export, table, path, format=format, where=where, with_vectors=with_vectors,
            include_deleted=include_deleted, force=force,
        )

    async def compact(self) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.compact`."""
        return await self._call(self.sync.compact)

    async def delete_batch(self, ids: Iterable[str], *, hard: bool = False) -> int:
        """See :meth:`rem_db.REMDatabase.delete_batch`."""
        return await self._call(self.sync.delete_batch, list(ids), hard=hard)

    async def execute(self, sql: str, *, params: Union[Sequence[Any], Mapping[str, Any], None] = None) -> int:
        """See :meth:`rem_db.REMDatabase.execute`."""
        return await self._call(self.sync.execute, sql, params=params)

    query = sql

    async def query_page(
        self,
        sql: str,
        *,
        params: Union[Sequence[Any], Mapping[str, Any], None] = None,
        after: Optional[str] = None,
        limit: int = 1000,
    ) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.query_page`."""
        return await self._call(self.sync.query_page, sql, params=params, after=after, limit=limit)

    async def iter_query(
        self,
        sql: str,
        *,
        params: Union[Sequence[Any], Mapping[str, Any], None] = None,
        batch_size: int = 1000,
    ) -> AsyncIterator[Dict[str, Any]]:
        """See :meth:`rem_db.REMDatabase.iter_query`: an async iterator, one call per page."""
        after: Optional[str] = None
        while True:
            page = await self.query_page(sql, params=params, after=after, limit=batch_size)
            for row in page["rows"]:
                yield row
            after = page["next"]
            if after is None:
                return

    def iter(self, table: str, *, where: Optional[str] = None, batch_size: int = 1000) -> AsyncIterator[Dict[str, Any]]:
        """See :meth:`rem_db.REMDatabase.iter`: an async iterator."""
        sql = f'SELECT * FROM "{table}"' + ("" if where is None else f" WHERE {where}")
        return self.iter_query(sql, batch_size=batch_size)

    async def search(
        self,
        query: Union[str, VectorLike],
        *,
        table: str = "resources",
        limit: int = 10,
        min_score: float = 0.0,
        where: Optional[str] = None,
        hybrid: bool = False,
        ef_search: Optional[int] = None,
        include_vectors: bool = False,
        vector_field: str = "embedding",
    ) -> List[SearchHit]:
        """See :meth:`rem_db.REMDatabase.search`."""
        return await self._call(
            self.sync.search,
            query,
            table=table,
            limit=limit,
            min_score=min_score,
            where=where,
            hybrid=hybrid,
            ef_search=ef_search,
            include_vectors=include_vectors,
            vector_field=vector_field,
        )

    async def query_natural_language(
        self,
        question: str,
        *,
        table: Optional[str] = None,
        max_stages: int = 3,
        plan_only: bool = False,
    ) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.query_natural_language`."""
        return await self._call(
            self.sync.query_natural_language, question, table=table, max_stages=max_stages, plan_only=plan_only
        )

    async def dream(
        self,
        *,
        lookback_hours: float = 24.0,
        start: Optional[str] = None,
        end: Optional[str] = None,
        dry_run: bool = False,
        max_context_chars: int = 48_000,
    ) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.dream`."""
        return await self._call(
            self.sync.dream,
            lookback_hours=lookback_hours,
            start=start,
            end=end,
            dry_run=dry_run,
            max_context_chars=max_context_chars,
        )

    async def stats(self) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.stats`."""
        return await self._call(self.sync.stats)

    async def rekey(self, new_password: str) -> None:
        """See :meth:`rem_db.REMDatabase.rekey`."""
        await self._call(self.sync.rekey, new_password)

    async def check(self, max_problems: int = 100) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.check`."""
        return await self._call(self.sync.check, max_problems)

    async def health(self) -> Dict[str, Any]:
        """See :meth:`rem_db.REMDatabase.health`."""
        return await self._call(self.sync.health)

    async def index_stats(self, table: str) -> IndexStats:
        """See :meth:`rem_db.REMDatabase.index_stats`."""
        return await self._call(self.sync.index_stats, table)

    async def rebuild_index(self, table: str, *, reembed: bool = False) -> IndexStats:
        """See :meth:`rem_db.REMDatabase.rebuild_index`."""
        return await self._call(self.sync.rebuild_index, table, reembed=reembed)

    async def create_edge(
        self, src: str, dst: str, rel_type: str, properties: Optional[Mapping[str, Any]] = None
    ) -> Edge:
        """See :meth:`rem_db.REMDatabase.create_edge`."""
        return await self._call(self.sync.create_edge, src, dst, rel_type, properties)

    async def create_edges(self, edges: Iterable[Mapping[str, Any]]) -> int:
        """See :meth:`rem_db.REMDatabase.create_edges`."""
        return await self._call(self.sync.create_edges, list(edges))

    async def get_edges(
        self, id: str, *, direction: str = "out", rel_type: Union[str, Sequence[str], None] = None
    ) -> List[Edge]:
        """See :meth:`rem_db.REMDatabase.get_edges`."""
        return await self._call(self.sync.get_edges, id, direction=direction, rel_type=rel_type)

    async def delete_edge(self, src: str, dst: str, rel_type: str) -> Edge:
        """See :meth:`rem_db.REMDatabase.delete_edge`."""
        return await self._call(self.sync.delete_edge, src, dst, rel_type)

    async def traverse(
        self,
        start: str,
        *,
        direction: str = "out",
        depth: int = 2,
        rel_type: Union[str, Sequence[str], None] = None,
        strategy: str = "bfs",
        limit: Optional[int] = None,
        entities: bool = False,
    ) -> List[TraversalStep]:
        """See :meth:`rem_db.REMDatabase.traverse`."""
        return await self._call(
            self.sync.traverse,
            start,
            direction=direction,
            depth=depth,
            rel_type=rel_type,
            strategy=strategy,
            limit=limit,
            entities=entities,
        )

    async def shortest_path(
        self,
        src: str,
        dst: str,
        *,
        direction: str = "out",
        max_depth: int = 10,
        rel_type: Union[str, Sequence[str], None] = None,
        weighted: bool = False,
    ) -> Optional[GraphPath]:
        """See :meth:`rem_db.REMDatabase.shortest_path`."""
        return await self._call(
            self.sync.shortest_path,
            src,
            dst,
            direction=direction,
            max_depth=max_depth,
            rel_type=rel_type,
            weighted=weighted,
        )
