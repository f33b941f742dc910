"""``REMDatabase``: the synchronous Python API of REM."""

from __future__ import annotations

import inspect
import os
import threading
from types import TracebackType
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Type, Union

from . import _convert
from ._convert import LlmFunction
from ._rem import Database as _Native
from ._rem import default_db_path
from .errors import InvalidArgumentError, NotFoundError
from .types import Edge, Entity, GraphPath, IndexStats, SearchHit, TraversalStep

__all__ = ["REMDatabase", "MEMORY"]

#: Pass as ``path`` for a throwaway in-memory database.
MEMORY = ":memory:"

PathLike = Union[str, "os.PathLike[str]"]
#: A vector: a list of floats or a 1-D NumPy array.
VectorLike = Any


def _bind(params: Union[Sequence[Any], Mapping[str, Any], None]) -> Any:
    """Query parameters as the engine takes them: ``None``, a list or a dict.

    Raises:
        TypeError: ``params`` is a string or neither a sequence nor a mapping."""
    if params is None:
        return None
    if isinstance(params, (str, bytes)) or not isinstance(params, (Sequence, Mapping)):
        raise TypeError("params must be a list/tuple (for ?, $1) or a dict (for :name)")
    return params if isinstance(params, Mapping) else list(params)


class REMDatabase:
    """One tenant's handle on a REM database: the file opened in this process, or,
    when ``rem serve`` serves it, that server (found by itself through the
    database folder's endpoint file, so several processes share one database).

    Args:
        path: database directory (created if needed; holds ``rem.redb``).
            ``None``: ``$P8_DB_PATH``, else ``$P8_HOME/db``, else ``~/.p8/db``
            (as the ``rem`` CLI). ``":memory:"``: a throwaway in-memory database.
        tenant_id: tenant whose data this handle reads and writes (1-128 bytes).
        embedding_model: model for tables whose schema names none: a name
            (``"local:all-MiniLM-L6-v2"``, the default; ``"hash:384"``;
            ``"openai:text-embedding-3-small"``), or any callable
            ``list[str] -> list[vector]`` (vectors as lists or NumPy arrays),
            recorded in schemas as ``custom:<function name>`` (or its
            ``model_name`` attribute). It is called with the database lock
            held: it must not call this database.
        memory_limit: cap on the engine's memory in bytes (default 2 GiB or
            ``$P8_MEMORY_LIMIT_MIB``); a call that needs more raises
            :class:`~rem_db.errors.ResourceExhaustedError` and is rolled back.
        call_timeout: deadline of each call in seconds, embedding included
            (default ``$P8_CALL_TIMEOUT_MS``, else 60 s; ``0`` for none); a
            call past it raises :class:`~rem_db.errors.CallTimeoutError` and
            is rolled back.
        server: send every call to the REM server at this URL
            (``http://127.0.0.1:7878``) instead of opening ``path``; when
            ``path`` is ``None``, default ``$P8_SERVER``. See :meth:`connect`.
        token: the server's bearer token (default ``$P8_SERVER_TOKEN``, or the
            token file the server's endpoint file names).
        password: the password of an encrypted database (``docs/design.md``,
            "Encryption at rest"): a new database is created encrypted with it
            (every page sealed with XChaCha20-Poly1305; the key wrapped under
            Argon2id of the password). An encrypted database opened without one
            uses ``$P8_PASSWORD``. Never logged or shown in errors.

    Raises:
        DatabaseLockedError: another process holds the database and did not
            release it within ``$P8_BUSY_TIMEOUT_MS`` (default 5,000 ms); the
            message names its process id. Run ``rem serve`` to share it.
        ServerConnectionError: the named server cannot be reached.
        UnauthorizedError: the server refused the token.
        PasswordError: the database is encrypted and no password was given,
            or it is wrong (nothing is read or changed).
        StorageError: the directory or file cannot be created or read, or the
            database file is damaged (the message says what to do).
        InvalidArgumentError: a bad ``tenant_id``, or a bad ``P8_*`` setting
            in the environment (each named).

    Ctrl-C (``KeyboardInterrupt``) in the main thread stops a running call
    within about 0.1 s and rolls it back. A handle belongs to the process that
    opened it: after ``fork()`` every call in the child raises
    :class:`~rem_db.errors.DatabaseForkedError` and nothing is written through it.

    Every method runs in one transaction: a mutation is written completely or
    not at all. Calls release the GIL; one handle may be shared by threads:
    reads from several threads run at once (each on its own engine instance,
    in its own snapshot, up to one per core), writes one at a time, and a write
    never holds up reads. Use it as a context manager, or call
    :meth:`close`.
    """

    def __init__(
        self,
        path: Optional[PathLike] = None,
        *,
        tenant_id: str = "default",
        embedding_model: Union[str, _convert.EmbeddingFunction, None] = None,
        memory_limit: Optional[int] = None,
        call_timeout: Optional[float] = None,
        server: Optional[str] = None,
        token: Optional[str] = None,
        llm: Union[str, LlmFunction, None] = None,
        password: Optional[str] = None,
    ) -> None:
        if llm is None or isinstance(llm, str):
            self._llm_name: Optional[str] = llm
            self._llm_fn: Optional[LlmFunction] = None
        elif callable(llm):
            self._llm_name = getattr(llm, "__name__", None) or type(llm).__name__
            self._llm_fn = llm
        else:
            raise TypeError("llm must be a chat model name or a callable (messages, schema) -> str | dict")
        if path is None:
            # $P8_SERVER stands in for the default path only; an explicit path (":memory:" too)
            # is opened as given (or through the server that serves it).
            server = server or os.environ.get("P8_SERVER", "").strip() or None
            resolved: Optional[str] = None if server else default_db_path()
        else:
            resolved = os.fspath(path)
            if resolved == MEMORY:
                resolved = None
        model: Optional[str]
        fn = None
        if embedding_model is None or isinstance(embedding_model, str):
            model = embedding_model
        elif callable(embedding_model):
            model = _convert.embedder_name(embedding_model)
            fn = _convert.embedder(embedding_model)
        else:
            raise TypeError("embedding_model must be a model name or a callable list[str] -> list[vector]")
        timeout_ms = None if call_timeout is None else 0 if call_timeout == 0 else max(1, int(call_timeout * 1000))
        self._db = _Native(
            resolved,
            tenant=tenant_id,
            default_model=model,
            embed_fn=fn,
            model_dir=_convert.minilm_dir(),
            memory_limit=memory_limit,
            call_timeout_ms=timeout_ms,
            server=server,
            token=token,
            password=password,
        )
        self._tables: Dict[type, str] = {}
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        token: Optional[str] = None,
        tenant_id: str = "default",
        llm: Union[str, LlmFunction, None] = None,
    ) -> "REMDatabase":
        """A handle on the database ``rem serve`` serves at ``url`` (``http://host:port``),
        on this machine or another: the same methods, results and exceptions as a handle
        on the file. Each call is one request, atomic on the server. ``llm`` is as for
        :class:`REMDatabase` (the chat model runs in this process).

        Raises:
            ServerConnectionError: nothing answers at ``url``.
            UnauthorizedError: the server needs a ``token`` and got none or another.
            InvalidArgumentError: ``url`` is not an ``http://`` URL.
        """
        return cls(None, tenant_id=tenant_id, server=url, token=token, llm=llm)

    @property
    def server(self) -> Optional[str]:
        """The server's URL when calls go to ``rem serve``, else ``None``."""
        return self._db.server

    @property
    def path(self) -> Optional[str]:
        """The database directory, or ``None`` in memory (or when connected by URL)."""
        return self._db.path

    @property
    def tenant_id(self) -> str:
        """The tenant this handle reads and writes."""
        return self._db.tenant

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._db.closed

    def close(self) -> None:
        """Close the handle and release the database's file lock (idempotent).
        Later calls raise :class:`~rem_db.errors.InvalidArgumentError`."""
        self._db.close()

    def __enter__(self) -> "REMDatabase":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.path or self.server or MEMORY
        served = f", server={self.server!r}" if self.server and self.path else ""
        return f"REMDatabase({where!r}, tenant_id={self.tenant_id!r}{served}{', closed' if self.closed else ''})"

    # -- schemas -------------------------------------------------------------

    def register_schema(
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
        """Register (or replace) table ``name``'s schema.

        Args:
            name: table name.
            schema: a JSON Schema as a dict or JSON string, or a Pydantic model
                class (``model_json_schema()`` is used; REM settings may sit in
                its ``json_schema_extra``).
            indexed_fields: fields with a secondary index (overrides the schema's).
            embedding_fields: fields embedded on write for :meth:`search`.
            key_field: natural-key field: the same key upserts the same entity.
            embedding_model: model of this table (overrides the database default).
            covering_fields: indexed fields whose index keeps a copy of each row, so
                ``SELECT * ... WHERE field = value`` reads its rows from the index
                (overrides the schema's; each costs one more record per row written).

        Returns:
            The stored schema record (``name``, ``version``, settings, ``schema``).

        Raises:
            SchemaError: unusable schema, or a refused change (major version bump).
            EmbeddingError: the embedding model cannot be loaded (probed once here).
            TypeError: ``schema`` is not a dict, string or model class.
        """
        doc = _convert.schema_dict(schema)
        if indexed_fields is not None:
            doc["indexed_fields"] = list(indexed_fields)
        if embedding_fields is not None:
            doc["embedding_fields"] = list(embedding_fields)
        if covering_fields is not None:
            doc["covering_fields"] = list(covering_fields)
        if key_field is not None:
            doc["key_field"] = key_field
        if embedding_model is not None:
            doc["embedding_provider"] = embedding_model
        record: Dict[str, Any] = self._db.register_schema(name, _convert.dumps(doc))
        if _convert.is_model_class(schema):
            with self._lock:
                self._tables[schema] = name
        return record

    def register_core_schemas(self) -> List[str]:
        """Register the core system schemas (``resources``, ``documents``, ``sessions``,
        ``messages``, ``moments``; as ``rem init``), all or none; returns their names.

        Raises:
            EmbeddingError: the default embedding model is unavailable (the tables embed text).
        """
        return self._db.register_core_schemas()

    def ingest(
        self,
        paths: Union[PathLike, Sequence[PathLike]],
        *,
        table: str = "resources",
        chunk_size: int = 1000,
        overlap: int = 100,
        unit: str = "chars",
        force: bool = False,
    ) -> Dict[str, Any]:
        """Ingest documents (folders are walked recursively) as searchable chunks, as
        ``rem ingest`` does: text, Markdown, HTML, PDF, Word (``.docx``, ``.doc``),
        PowerPoint (``.pptx``, ``.ppt``), spreadsheets (``.xlsx``, ``.xlsm``, ``.xls``,
        ``.ods``), CSV/TSV, JSON, YAML and e-mail (``.eml``).

        Each file becomes a ``documents`` row (uri, content type, size, BLAKE3 hash, chunk
        count) and chunks in ``table`` (``uri``, ``chunk_ordinal``, ``content``,
        ``metadata`` with where the chunk is: ``page``, ``sheet`` and ``rows``, ``slide`` or
        ``headings``; id from uri + ordinal; a ``part_of`` edge to the document), embedded in
        one call per file. A file already in ``table`` with the same hash is skipped; a
        changed one has its chunks replaced in one transaction. Markdown is split at
        headings first (text-splitter); table rows are chunked under their header row.

        Args:
            paths: a file or folder, or several.
            table: chunk table (default ``resources``; the core schemas are registered if missing).
            chunk_size: largest chunk, in ``unit``s.
            overlap: how much consecutive chunks share, in ``unit``s (below ``chunk_size``).
            unit: ``"chars"``, or ``"tokens"`` of the all-MiniLM-L6-v2 tokenizer.
            force: re-ingest unchanged files too.

        Returns:
            ``{table, files, ingested, chunks, skipped_unchanged, removed_stale_chunks, errors,
            unsupported, ignored, extract_seconds, chunk_seconds, write_seconds}``: ``errors``
            lists ``{path, error}`` for files that could not be read (the rest went in),
            ``unsupported`` and ``ignored`` list ``{path, reason}``; the seconds are the
            workers' time reading and extracting, and chunking (summed over workers), and the
            writer's time (embedding included).

        Raises:
            StorageError: a path does not exist. InvalidArgumentError: bad chunk settings.
            EmbeddingError: the chunks could not be embedded.
        """
        items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        summary: Dict[str, Any] = self._db.ingest(
            [os.fspath(p) for p in items], table, chunk_size, overlap, unit, force
        )
        return summary

    def list_schemas(self) -> List[str]:
        """Registered table names, sorted."""
        return self._db.list_schemas()

    def get_schema(self, name: str) -> Dict[str, Any]:
        """The schema record of table ``name``.

        Raises:
            SchemaNotFoundError: no such table.
        """
        record: Dict[str, Any] = self._db.get_schema(name)
        return record

    def table_of(self, model: type) -> str:
        """The table a Pydantic model class writes to: the name it was registered under,
        else ``json_schema_extra`` ``table_name``/``name``/``short_name``, else its class
        name in snake_case."""
        return self._tables.get(model) or _convert.default_table_name(model)

    # -- entities ------------------------------------------------------------

    def insert(self, table: str, data: Any, *, vector: Optional[VectorLike] = None) -> str:
        """Validate and upsert one entity; returns its id (a UUID string).

        Args:
            table: table name.
            data: a dict (or Pydantic instance) of the entity's properties.
                Defaults from the schema are applied. An ``embedding`` member (a list of
                numbers), unless the schema declares that property, is the row's own vector.
            vector: the row's own vector (list of floats or 1-D NumPy array) of the table's
                dimension: indexed instead of embedding the row's text. A table registered with
                ``embedding_provider: "none"`` and ``embedding_dims`` keeps only such vectors.

        Raises:
            SchemaNotFoundError: no such table.
            ValidationError: ``data`` does not satisfy the schema (``.errors()`` lists every issue),
                or ``vector`` has the wrong dimension (``loc`` ``["embedding"]``).
            EmbeddingError: the embedding fields could not be embedded.
        """
        obj = data if type(data) is dict else _convert.as_object(data, "data")
        if vector is not None:
            obj = {**obj, "embedding": _convert.vector(vector)}
        return self._db.insert(table, obj)

    def insert_batch(self, table: str, rows: Iterable[Any], *, vectors: Optional[Any] = None) -> List[str]:
        """Upsert every row or none (one transaction); returns the ids in order.

        Args:
            rows: dicts (or Pydantic models); or a ``pyarrow.Table``; or the path of a Parquet,
                CSV or JSONL file (:meth:`export`'s files too: their system columns are dropped,
                ``id`` and ``embedding`` kept), format from its extension.
            vectors: the rows' own vectors, one per row: a 2-D NumPy array (``len(rows) × dims``,
                passed as one float32 buffer, no Python list in between) or a list of vectors.
                Rows given vectors are not embedded (see :meth:`insert`).

        Raises:
            ValidationError: some rows are invalid; each issue's ``loc`` starts with the row index.
            InvalidArgumentError: ``vectors`` is not one vector per row.
            SchemaNotFoundError, EmbeddingError: as :meth:`insert`.
        """
        if isinstance(rows, (str, os.PathLike)):
            return self._db.import_rows(table, os.fspath(rows))
        if hasattr(rows, "to_batches") and hasattr(rows, "schema"):
            # A pyarrow Table: handed over as Parquet bytes, read by the same code as a file.
            import io

            import pyarrow.parquet as pq  # type: ignore[import-untyped,import-not-found,unused-ignore]

            sink = io.BytesIO()
            pq.write_table(rows, sink, compression="zstd")
            return self._db.import_rows(table, None, sink.getvalue())
        items = rows if type(rows) is list else list(rows)
        if vectors is None:
            return self._db.insert_batch(table, items)
        buffer, dims = _convert.vector_rows(vectors, len(items))
        return self._db.insert_batch(table, items, buffer, dims)

    def get_vectors(self, ids: Sequence[str]) -> List[Optional[Any]]:
        """The stored vectors of ``ids`` (entity ids), in order, in one call: each a 1-D
        float32 NumPy array (a list of floats without NumPy) of unit length, as the index
        keeps it (REM normalises every vector for cosine similarity); ``None`` for a missing
        or soft-deleted entity or one without a vector.

        Raises:
            InvalidArgumentError: an id that is not a UUID.
        """
        out: List[Optional[Any]] = self._then(
            self._db.get_vectors(list(ids)), lambda found: [_convert.vector_out(v) for v in found]
        )
        return out

    def _then(self, result: Any, fn: Any) -> Any:
        """``fn(result)``, or, when the handle is served asynchronously and ``result`` is a
        coroutine, a coroutine of it (awaiting what ``fn`` returns too)."""
        if inspect.isawaitable(result):

            async def later() -> Any:
                out = fn(await result)
                return await out if inspect.isawaitable(out) else out

            return later()
        return fn(result)

    def _with_vectors(self, result: Any, single: bool) -> Any:
        """Entities (one, or a list with ``None`` gaps) each given its stored vector as
        ``embedding`` (see :meth:`get_vectors`); awaitable in, awaitable out."""

        def attach(found: Any) -> Any:
            rows = [found] if single else found
            ids = [r["id"] for r in rows if r is not None]
            if not ids:
                return found

            def put(vectors: List[Any]) -> Any:
                it = iter(vectors)
                for r in rows:
                    if r is not None:
                        r["embedding"] = next(it)
                return found

            return self._then(self.get_vectors(ids), put)

        return self._then(result, attach)

    def upsert(self, models: Any) -> List[str]:
        """Upsert Pydantic instances (one, or an iterable) into their tables
        (see :meth:`table_of`); returns the ids in order. Instances of one table
        are written atomically; several tables are written one table at a time.

        Raises:
            as :meth:`insert_batch`; TypeError for objects that are not Pydantic instances.
        """
        items = [models] if callable(getattr(models, "model_dump", None)) else list(models)
        by_table: Dict[str, List[int]] = {}
        payload: List[Any] = []
        for i, obj in enumerate(items):
            if not callable(getattr(obj, "model_dump", None)):
                raise TypeError(f"upsert takes Pydantic model instances; item {i} is a {type(obj).__name__}")
            by_table.setdefault(self.table_of(type(obj)), []).append(i)
            payload.append(obj.model_dump(mode="json"))
        ids: List[str] = [""] * len(items)
        for table, positions in by_table.items():
            for pos, id_ in zip(positions, self._db.insert_batch(table, [payload[p] for p in positions])):
                ids[pos] = id_
        return ids

    def get(self, id: str, *, include_vectors: bool = False) -> Optional[Entity]:
        """The entity ``id`` (soft-deleted ones included, with ``deleted_at`` set), or ``None``.

        ``id`` may also be a natural key: the one live entity with that key (``None`` when no
        entity has it), as ``rem get 'Python Guide'`` does. With ``include_vectors``, the
        entity's stored vector is its ``embedding`` (see :meth:`get_vectors`).

        Raises:
            InvalidArgumentError: ``id`` is empty, or a key that names entities in several
                tables (pass the id).
        """
        found = self._db.get(id)
        return self._with_vectors(found, True) if include_vectors else found  # type: ignore[no-any-return]

    def get_batch(self, ids: Sequence[str], *, include_vectors: bool = False) -> List[Optional[Entity]]:
        """:meth:`get` for each id (UUIDs, not keys), in order (``None`` where missing), in one call."""
        found = self._db.get_many(list(ids))
        return self._with_vectors(found, False) if include_vectors else found  # type: ignore[no-any-return]

    def update(self, id: str, patch: Mapping[str, Any]) -> Entity:
        """Merge ``patch`` into the entity's properties (top-level keys replace), re-validate and store.
        ``id`` may be a natural key (as for :meth:`get`).

        Returns:
            The updated entity.

        Raises:
            NotFoundError: no such entity.
            ValidationError: the merged properties do not satisfy the schema (nothing is written).
        """
        return self._db.update(id, _convert.as_object(patch, "patch"))  # type: ignore[no-any-return]

    def delete(self, id: str, *, hard: bool = False) -> Entity:
        """Soft-delete (set ``deleted_at``; hidden from queries, ``get`` still returns it),
        or with ``hard=True`` remove the entity, its index entries and edges. ``id`` may be a
        natural key (as for :meth:`get`).

        Returns:
            The entity as last stored.

        Raises:
            NotFoundError: no such entity.
        """
        return self._db.delete(id, hard)  # type: ignore[no-any-return]

    def lookup(self, key: str) -> List[Entity]:
        """Live entities whose natural key is exactly ``key``, across tables."""
        return self._db.lookup(key)  # type: ignore[no-any-return]

    def list(
        self, table: str, *, limit: Optional[int] = None, offset: int = 0, after: Optional[str] = None
    ) -> List[Entity]:
        """Live entities of ``table`` in id order: ``limit`` of them (all when ``None``) after
        ``offset``, or, with ``after`` (an id: the last of the page before), the ``limit``
        (default 1,000) after that id, a page costing only its own rows (keyset pagination).

        Raises:
            SchemaNotFoundError: no such table.
            InvalidArgumentError: ``after`` is not an id; ``after`` with ``offset``.
        """
        if after is None:
            return self._db.list(table, limit, offset)  # type: ignore[no-any-return]
        if offset:
            raise InvalidArgumentError("list takes after= or offset=, not both")
        page = self._db.query_page(f'SELECT id FROM "{table}"', None, after, 1000 if limit is None else limit)
        # A row removed between the two reads is left out.
        return self._then(  # type: ignore[no-any-return]
            page,
            lambda p: self._then(self._db.get_many([r["id"] for r in p["rows"]]), lambda es: [e for e in es if e]),
        )

    def count(self, table: str) -> int:
        """Number of live (not soft-deleted) entities of ``table``.

        Raises:
            SchemaNotFoundError: no such table.
        """
        return self._db.count(table)

    # -- query ---------------------------------------------------------------

    def sql(
        self,
        query: str,
        *,
        params: Union[Sequence[Any], Mapping[str, Any], None] = None,
        read_only: bool = True,
    ) -> List[Dict[str, Any]]:
        """Run one REM SQL statement; returns its rows as dicts.

        ``SELECT`` (projections, expressions, ``WHERE``, ``GROUP BY``, ``ORDER BY``, ``LIMIT``,
        ``JOIN``/``LEFT JOIN ... ON``, subqueries, ``WITH``, ``UNION``) plus ``LOOKUP 'key'``, ``SEARCH 'text' IN table [WHERE ...] [LIMIT n]``,
        ``TRAVERSE FROM 'id' DEPTH n ...`` and ``EXPLAIN``; with ``read_only=False`` also
        ``DELETE FROM t [WHERE ...] [HARD]`` and ``UPDATE t SET f = expr [WHERE ...]``
        (see :meth:`execute`), which return ``[{"changed": n}]``.

        Args:
            query: the statement.
            params: values for placeholders, bound as SQL literals (never
                spliced as text): a sequence for ``?`` (in order), ``?N`` and
                ``$N``; a mapping for ``:name`` and ``$name``. A list value
                becomes ``(a, b, ...)`` for ``IN``.
            read_only: ``True`` (the default) refuses statements that write.

        Raises:
            QueryError: a malformed statement (``.line``/``.column`` say where).
            UnsupportedError: a construct REM does not support (named in the message), or a
                write with ``read_only=True``.
            SchemaNotFoundError: an unknown table.
            InvalidArgumentError: missing, unused or unbindable params.
            ValidationError: an ``UPDATE`` a row's schema refuses (nothing is written).
        """
        bound = _bind(params)
        if not read_only:
            return self._db.execute(query, bound)  # type: ignore[no-any-return]
        text = self._db.query(query) if bound is None else self._db.query(query, bound)
        return text  # type: ignore[no-any-return]

    def export(
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
        """Write ``table``'s rows to a Parquet (ZSTD), CSV or JSONL file, streaming.

        Parquet columns are typed from the table's JSON Schema: strings, int64, float64, booleans,
        timestamps (UTC, microseconds) for ``format: date-time``, lists of scalars; objects and
        other values as JSON text; the system fields first; members the schema does not declare
        in ``_extra`` (JSON text); vectors as ``FixedSizeList<float32>`` with ``with_vectors``.

        Args:
            table: the table.
            path: the file to write (written under a temporary name, renamed when complete).
            format: ``"parquet"``, ``"csv"`` or ``"jsonl"`` (default: from ``path``'s extension).
            where: a REM SQL predicate the rows must pass, e.g. ``"status = 'open'"``.
            with_vectors: add the ``embedding`` column.
            include_deleted: soft-deleted rows too.
            force: replace a file already at ``path``.

        Returns:
            ``{"table", "path", "format", "rows", "bytes"}``.

        Raises:
            InvalidArgumentError: ``path`` exists (without ``force``), an unknown format, vectors
                of a table that keeps none, or a value its column cannot hold.
            QueryError: a bad ``where``.
            SchemaNotFoundError: no such table.
        """
        return self._db.export(  # type: ignore[no-any-return]
            table, os.fspath(path), format, where, with_vectors, include_deleted, force
        )

    def backup(self, dest: PathLike, *, force: bool = False) -> Dict[str, Any]:
        """Copy the whole database (every tenant) to the new database directory ``dest``.

        The copy is taken from one read snapshot, so it is consistent while other threads of this
        process keep writing; it opens as ``REMDatabase(dest)`` and is compact (no free pages).
        Nothing is left at ``dest`` when it fails. Connected to ``rem serve``, the server writes
        the copy: ``dest`` is made absolute here and is a path on the server's machine.

        Args:
            dest: the new database directory.
            force: replace a database already at ``dest`` (never one that is open).

        Returns:
            ``{"path": str, "keys": int, "file_bytes": int}``: keys copied (rows, index entries,
            vectors, graph records) and the copy's file size in bytes.

        Raises:
            InvalidArgumentError: ``dest`` exists and ``force`` is false, or is not a database.
            DatabaseLockedError: replacing a database some process has open.
        """
        return self._db.backup(os.fspath(dest), force)  # type: ignore[no-any-return]

    def compact(self) -> Dict[str, Any]:
        """Give back the space of deleted data (redb's compaction).

        Needs the only handle on the file: other calls on this handle wait meanwhile. Connected
        to ``rem serve``, the server compacts its file while it holds every other call.

        Returns:
            ``{"file_bytes_before": int | None, "file_bytes_after": int | None}`` (``None`` in
            memory).

        Raises:
            InvalidArgumentError: other handles on the file are open (``for_tenant`` handles).
        """
        return self._db.compact()  # type: ignore[no-any-return]

    def delete_batch(self, ids: Iterable[str], *, hard: bool = False) -> int:
        """Delete every id (or natural key), of any tables, in one transaction.

        Args:
            ids: the rows to delete.
            hard: remove the rows and their index entries and vectors; by default they are
                soft-deleted (``deleted_at`` set), as :meth:`delete` does.

        Returns:
            The number of rows deleted (a soft delete of a row already deleted counts none).

        Raises:
            NotFoundError: an id that does not exist (named; nothing is deleted).
        """
        return self._db.delete_batch(list(ids), hard)

    def execute(self, sql: str, *, params: Union[Sequence[Any], Mapping[str, Any], None] = None) -> int:
        """Run one ``DELETE`` or ``UPDATE`` in one transaction; returns the number of rows changed.

        ``DELETE FROM t [WHERE ...]`` soft-deletes the matching rows (as :meth:`delete` does;
        a trailing ``HARD`` removes them); ``UPDATE t SET f = expr, ... [WHERE ...]`` sets
        top-level properties to REM SQL expressions of each row (``SET views = views + 1``)
        and re-validates every row against its schema. Index entries, vectors and counts are
        kept in step; a failure on any row changes nothing.

        Args:
            sql: the statement.
            params: placeholder values, as for :meth:`sql`.

        Returns:
            Rows deleted (a soft delete counts rows that were live) or updated.

        Raises:
            InvalidArgumentError: ``sql`` is not a ``DELETE`` or ``UPDATE`` (use :meth:`sql`).
            ValidationError: an updated row its schema refuses.
            QueryError, UnsupportedError, SchemaNotFoundError: as :meth:`sql`.
        """
        words = sql.split(None, 1)
        if not words or words[0].upper() not in ("DELETE", "UPDATE"):
            raise InvalidArgumentError("execute runs DELETE and UPDATE statements; run reads with sql()")
        return self._then(  # type: ignore[no-any-return]
            self._db.execute(sql, _bind(params)), lambda rows: int(rows[0]["changed"])
        )

    query = sql

    def query_page(
        self,
        sql: str,
        *,
        params: Union[Sequence[Any], Mapping[str, Any], None] = None,
        after: Optional[str] = None,
        limit: int = 1000,
    ) -> Dict[str, Any]:
        """One page of a plain ``SELECT`` (one table; no ``ORDER BY``, ``GROUP BY``, aggregates,
        ``DISTINCT``, ``LIMIT`` or ``OFFSET``) in id order: ``{"rows": [...], "next": id | None}``.
        Pass ``next`` as ``after`` for the page after (``None`` on the last page). Keyset
        pagination: each page costs what its own rows cost. :meth:`iter_query` walks them all.

        Raises:
            UnsupportedError: a statement that cannot be paged by id (run it with :meth:`sql`).
            InvalidArgumentError: ``after`` is not an id, ``limit`` outside 1..100,000.
            QueryError, SchemaNotFoundError: as :meth:`sql`.
        """
        bound = None if params is None else (params if isinstance(params, Mapping) else list(params))
        return self._db.query_page(sql, bound, after, limit)

    def iter_query(
        self,
        sql: str,
        *,
        params: Union[Sequence[Any], Mapping[str, Any], None] = None,
        batch_size: int = 1000,
    ) -> Iterator[Dict[str, Any]]:
        """Yield the rows of a plain ``SELECT`` (see :meth:`query_page`) in id order, reading
        ``batch_size`` rows a call, so memory stays bounded however large the result. Each page
        is its own read: rows written meanwhile may appear if their id comes later.

        Raises:
            as :meth:`query_page` (on the first ``next()``).
        """
        after: Optional[str] = None
        while True:
            page = self.query_page(sql, params=params, after=after, limit=batch_size)
            yield from page["rows"]
            after = page["next"]
            if after is None:
                return

    def iter(self, table: str, *, where: Optional[str] = None, batch_size: int = 1000) -> Iterator[Dict[str, Any]]:
        """Yield the live rows of ``table`` (``SELECT *`` rows: ``id``, ``entity_type`` and the
        properties) matching the REM SQL predicate ``where``, in id order, ``batch_size`` a
        call (see :meth:`iter_query`).

        Raises:
            SchemaNotFoundError: no such table; QueryError: a malformed ``where``.
        """
        sql = f'SELECT * FROM "{table}"' + ("" if where is None else f" WHERE {where}")
        return self.iter_query(sql, batch_size=batch_size)

    def query_natural_language(
        self,
        question: str,
        *,
        table: Optional[str] = None,
        max_stages: int = 3,
        plan_only: bool = False,
    ) -> Dict[str, Any]:
        """Answer ``question`` (in words) with one REM SQL read statement a chat model plans.

        The model (``llm=`` of the handle, else ``$P8_DEFAULT_LLM`` on the OpenAI-compatible
        endpoint ``$P8_OPENAI_BASE_URL``) sees the tables (fields, types, descriptions, indexed
        and embedded fields, frequent values) and REM's dialect, and answers a plan. REM refuses
        a plan that writes and compiles the query before anything runs; a query that does not
        compile goes back to the model once with the error. When the query returns no rows and
        stages are left, the model is asked again with that result.

        Args:
            question: the question.
            table: show the model only this table.
            max_stages: plans tried at most (1: no second try after an empty result).
            plan_only: return the checked plan without running it (``results`` and
                ``stages`` are then empty).

        Returns:
            ``{"results": [row], "query": str, "query_type": "select" | "search" | "lookup" |
            "traverse", "confidence": float (0-1), "explanation": str, "requires_search": bool,
            "stages": [{"query", "query_type", "rows"}], "model": str, "tokens": {"prompt",
            "completion", "calls"}}``.

        Raises:
            LlmError: no model configured, the endpoint failed (after retries), the answer was
                not JSON twice, or the query still did not compile after one correction
                (``__cause__`` is the ``llm=`` callable's exception, if it raised).
            InvalidArgumentError: an empty question, or a database without tables.
            SchemaNotFoundError: an unknown ``table``.
        """
        if max_stages < 1:
            raise ValueError("max_stages must be at least 1")
        return self._db.ask(question, table, max_stages, plan_only, self._llm_name, self._llm_fn)  # type: ignore[no-any-return]

    def dream(
        self,
        *,
        lookback_hours: float = 24.0,
        start: Optional[str] = None,
        end: Optional[str] = None,
        dry_run: bool = False,
        max_context_chars: int = 48_000,
    ) -> Dict[str, Any]:
        """Let a chat model read a period's activity and write back what is worth remembering.

        Reads the window's messages (by session) and the rows of other tables created or
        modified in it, asks the model (see :meth:`query_natural_language`) for ``moments``,
        a summary of the period and edges between the rows it saw, and writes them in one
        transaction (all or nothing), validated by the schemas. Moments are keyed by name and
        tagged ``dream``; dreaming over the same window again updates them and removes the
        ones no longer proposed. Edges are written only between rows the model was shown.

        Args:
            lookback_hours: the window is the last this many hours (when ``start`` is None).
            start, end: the window's ends: dates (``"2026-12-01"``; the end date is inclusive)
                or RFC 3339 times. Give both or neither.
            dry_run: return what would be written (under ``writes``) and write nothing.
            max_context_chars: characters of activity per chat call (about 4 per token).

        Returns:
            The report: ``window {start, end}``, ``dry_run``, ``model``, ``messages``,
            ``sessions``, ``rows``, ``batches``, ``moments_written``, ``summaries_written``,
            ``edges_written``, ``edges_dropped``, ``ids_dropped``, ``moments_renamed``,
            ``moments_replaced``, ``tokens``,
            ``summary`` and ``writes {moments, edges, deletes}``.

        Raises:
            LlmError: as :meth:`query_natural_language`.
            SchemaNotFoundError: the database has no ``moments`` table (``register_core_schemas``).
            ValidationError: a moment the schema refuses (nothing is written).
            InvalidArgumentError: a bad window.
        """
        return self._db.dream(  # type: ignore[no-any-return]
            lookback_hours, start, end, dry_run, max_context_chars, self._llm_name, self._llm_fn
        )

    def search(
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
        """Semantic search of ``table``'s embedding fields (HNSW, cosine).

        Args:
            query: text (embedded with the table's model) or a vector of the
                table's dimension (list of floats or 1-D NumPy array).
            table: the table (default ``resources``, where ``ingest`` puts document chunks).
            limit: top-k, 1 to 10,000.
            min_score: smallest ``_score`` returned (``_score`` = 1 - cosine distance, in [-1, 1]).
            where: a REM SQL predicate (what follows ``WHERE``) the rows must match;
                with one, exactly ``min(limit, matching rows)`` rows come back.
            hybrid: fuse a BM25 keyword ranking with the vector ranking
                (reciprocal rank fusion, Cormack et al. 2009); text queries only.
            ef_search: HNSW search breadth for this call (default: the table's, 64).
            include_vectors: give each hit its stored vector as ``embedding`` (see :meth:`get_vectors`).
            vector_field: the vectors searched: ``"embedding"`` (the table's model) or
                ``"embedding_alt"`` (the second model's, for a table registered with
                ``embedding_provider_alt`` or while ``P8_ALT_EMBEDDING`` was set).

        Returns:
            Entities with ``_score``, best first.

        Raises:
            SchemaNotFoundError: no such table.
            InvalidArgumentError: the table has no embedding fields, a vector of the wrong size, bad limit.
            QueryError: a malformed ``where``.
            EmbeddingError: the query text could not be embedded.
        """
        text: Optional[str] = None
        vec: Optional[List[float]] = None
        if isinstance(query, str):
            text = query
        elif type(query) is list:
            vec = query  # converted (and checked) by the native layer
        else:
            vec = _convert.vector(query)
        field = None if vector_field == "embedding" else vector_field
        out = self._db.search(table, text, vec, limit, min_score, where, hybrid, ef_search, field)
        return self._with_vectors(out, False) if include_vectors else out  # type: ignore[no-any-return]

    def stats(self) -> Dict[str, Any]:
        """What is in the database, counted by a scan of every record of the tenant.

        Returns ``{"tenant", "engine", "file_bytes" (the redb file; None when served),
        "format_version", "bytes" (keys plus values stored), "tables": {name: {"rows" (live),
        "deleted" (soft-deleted), "stored", "index_entries", "row_copies", "bytes",
        "indexed_fields", "vectors"?: {"model", "dims", "nodes", "live", "tombstones", "m",
        "ef_search", "bytes"}, "keyword_documents"?}}, "spaces": {"edges", "reverse_edges",
        "id_index", "key_index", "deleted_markers", "schemas"}, "tables_without_schema",
        "caches": {"vector_graphs", "adjacency", "statements", "schemas"}}``. ``rem stats``
        prints the same.

        Raises:
            DatabaseClosedError, StorageError, ServerConnectionError.
        """
        return self._db.stats()  # type: ignore[no-any-return]

    def rekey(self, new_password: str) -> None:
        """Change the password of an encrypted database. The random data key is wrapped again
        under Argon2id of ``new_password`` in the file's header; no data is rewritten, so it
        takes about 0.1 s whatever the size. Other handles stay open.

        Raises:
            InvalidArgumentError: the database is not encrypted, or the password is empty.
            UnsupportedError: through a server (stop it, then ``rem rekey``).
        """
        self._db.rekey(new_password)

    def check(self, max_problems: int = 100) -> Dict[str, Any]:
        """Verify every derived record against the rows, from one snapshot: the id, key,
        secondary-index and soft-delete records each row owns, the live-row counts, the vector
        and keyword indexes, and every edge's reverse and endpoints (``docs/design.md``,
        "Stats and check"). ``rem check`` prints the same and exits 1 on a problem.

        Args:
            max_problems: most problems listed, 1 to 10,000 (all are counted).

        Returns:
            ``{"ok": bool, "problems": [{"space": "X", "table": str | None, "id": str | None,
            "problem": str}], "problems_total": int, "checked": {"rows", "index_entries",
            "vectors", "keyword_documents", "edges"}}``.

        Raises:
            DatabaseClosedError, StorageError, ServerConnectionError; OverflowError for a
            negative ``max_problems``.
        """
        return self._db.check(max_problems)  # type: ignore[no-any-return]

    def health(self) -> Dict[str, Any]:
        """That the handle works: ``{"ok": True, "engine": "rem-core <version> (format <n>)",
        "path", "server", "tenant", "tables" (how many), "file_bytes"}``.

        Raises:
            DatabaseClosedError: the handle is closed; ServerConnectionError: the server is gone.
        """
        return self._db.health()  # type: ignore[no-any-return]

    def index_stats(self, table: str) -> IndexStats:
        """Figures of ``table``'s vector index (model, dims, M, ef_construction, ef_search, live, tombstones).

        Raises:
            SchemaNotFoundError, InvalidArgumentError (no embedding fields).
        """
        return self._db.index_stats(table)  # type: ignore[no-any-return]

    def rebuild_index(self, table: str, *, reembed: bool = False) -> IndexStats:
        """Rebuild ``table``'s vector index from stored vectors (dropping tombstones),
        or with ``reembed=True`` embed every row again. Returns the new figures."""
        return self._db.rebuild_index(table, reembed)  # type: ignore[no-any-return]

    # -- graph ---------------------------------------------------------------

    def create_edge(
        self, src: str, dst: str, rel_type: str, properties: Optional[Mapping[str, Any]] = None
    ) -> Edge:
        """Add (upsert) the edge ``src -[rel_type]-> dst``; ends are ids or natural keys and must exist.

        Args:
            properties: optional JSON-serialisable dict; a numeric ``weight`` (>= 0)
                is used by weighted shortest paths.

        Raises:
            NotFoundError: an end does not exist.
            InvalidArgumentError: an empty ``rel_type`` or a bad weight.
        """
        props = None if properties is None else _convert.as_object(properties, "properties")
        return self._db.add_edge(src, dst, rel_type, props)  # type: ignore[no-any-return]

    def create_edges(self, edges: Iterable[Mapping[str, Any]]) -> int:
        """Add many edges (dicts with ``src``, ``dst``, ``rel_type``, optional ``properties``)
        in one transaction, all or none; returns how many were written.

        Raises:
            ValidationError: malformed edges (``loc`` starts with the edge index).
            NotFoundError: an end does not exist.
        """
        return self._db.add_edges([_convert.as_object(e, "each edge") for e in edges])

    def get_edges(
        self, id: str, *, direction: str = "out", rel_type: Union[str, Sequence[str], None] = None
    ) -> List[Edge]:
        """Edges of ``id`` (or natural key): ``direction`` ``"out"``, ``"in"`` or ``"both"``,
        optionally only of ``rel_type`` (one type or several).

        Raises:
            NotFoundError: no such entity. InvalidArgumentError: a bad direction.
        """
        return self._db.get_edges(id, direction, _convert.rel_types(rel_type))  # type: ignore[no-any-return]

    def delete_edge(self, src: str, dst: str, rel_type: str) -> Edge:
        """Remove the edge ``src -[rel_type]-> dst``; returns it.

        Raises:
            NotFoundError: no such edge.
        """
        return self._db.delete_edge(src, dst, rel_type)  # type: ignore[no-any-return]

    def traverse(
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
        """Walk the graph from ``start`` (id or natural key) up to ``depth`` hops (1 to 10).

        Returns:
            ``{id, depth, path}`` per node reached (the start first, depth 0);
            BFS depths are hop distances; ``strategy="dfs"`` walks depth-first. With
            ``entities=True`` each step also has ``entity``, the node's stored entity (read
            in one call), as the design's ``traverse`` returns the reached entities.

        Raises:
            NotFoundError: no such start. InvalidArgumentError: bad depth, direction or strategy.
        """
        out: List[TraversalStep] = self._db.traverse(
            start, direction, depth, _convert.rel_types(rel_type), strategy, limit
        )
        if entities:
            found = self.get_batch([step["id"] for step in out])
            for step, entity in zip(out, found):
                step["entity"] = entity
        return out

    def shortest_path(
        self,
        src: str,
        dst: str,
        *,
        direction: str = "out",
        max_depth: int = 10,
        rel_type: Union[str, Sequence[str], None] = None,
        weighted: bool = False,
    ) -> Optional[GraphPath]:
        """The shortest path from ``src`` to ``dst`` within ``max_depth`` hops: fewest hops
        (BFS), or with ``weighted=True`` least total edge ``weight`` (Dijkstra; absent = 1).

        Returns:
            The path, or ``None`` when there is none within ``max_depth``.

        Raises:
            NotFoundError: ``src`` or ``dst`` does not exist.
        """
        try:
            out = self._db.shortest_path(src, dst, direction, max_depth, _convert.rel_types(rel_type), weighted)
        except NotFoundError as e:
            if str(e).startswith("no path"):
                return None
            raise
        return out  # type: ignore[no-any-return]
