"""The asyncio client of a served database (``rem serve``): real async I/O over HTTP with
``httpx.AsyncClient`` (no worker thread per call), speaking the protocol of ``docs/server.md``.

:class:`AsyncNative` mirrors the native handle (``rem_db._rem.Database``) method for method,
with ``async`` methods: arguments are written to JSON by the same native encoder
(``_rem._dumps``), and error answers become the same exceptions the in-process call raises
(``_rem._error_from_wire``). :class:`ServedCalls` runs :class:`~rem_db.REMDatabase`'s own
argument handling over it, so an ``AsyncREMDatabase`` on a server takes and returns exactly
what it does in process. Not public API: use ``AsyncREMDatabase.connect``.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import Any, Dict, List, Optional

from . import _rem
from .errors import InvalidArgumentError, NotFoundError

NDJSON = "application/x-ndjson"


class AsyncNative:
    """The native handle's methods as coroutines, each one ``POST /v1/<call>``."""

    def __init__(self, url: str, token: Optional[str], tenant: str) -> None:
        try:
            import httpx
        except ImportError as e:  # pragma: no cover (httpx is a dependency of the [server] extra)
            raise ImportError(
                "AsyncREMDatabase.connect needs httpx: pip install 'rem-db[server]' (or pip install httpx)"
            ) from e
        self._httpx = httpx
        # Percent-encoded: a tenant may hold any character, a header only visible ASCII.
        headers = {"x-rem-tenant": urllib.parse.quote(tenant, safe=""), "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # No read deadline: the server bounds each call with its own (docs/server.md).
        # trust_env=False: never through $HTTP_PROXY (the token would go to the proxy).
        self._client = httpx.AsyncClient(
            base_url=url.rstrip("/"), headers=headers, timeout=httpx.Timeout(None, connect=5.0), trust_env=False
        )
        self.url = url.rstrip("/")
        self.tenant = tenant
        self.path: Optional[str] = None
        self.closed = False

    async def call(self, name: str, args: Dict[str, Any]) -> Any:
        """``POST /v1/<name>`` with ``args``; the answer as Python values.

        Raises:
            ServerConnectionError: the server cannot be reached or the connection broke.
            The call's own exceptions (as in process), ``UnauthorizedError`` on 401.
        """
        if self.closed:
            raise InvalidArgumentError("the database is closed; open a new REMDatabase")
        try:
            response = await self._client.post(f"/v1/{name}", content=_rem._dumps(args))
        except self._httpx.TransportError as e:
            raise _rem._connection_error(f"{self.url}: {e!r}") from None
        if response.status_code >= 300:
            raise _rem._error_from_wire(response.status_code, response.text)
        return response.json()

    async def aclose(self) -> None:
        """Close the connection pool (idempotent)."""
        self.closed = True
        await self._client.aclose()

    # -- the native methods ---------------------------------------------------

    async def register_schema(self, name: str, schema: str) -> Any:
        return await self.call("register-schema", {"name": name, "schema": schema})

    async def list_schemas(self) -> List[str]:
        return await self.call("list-schemas", {})  # type: ignore[no-any-return]

    async def get_schema(self, name: str) -> Any:
        return await self.call("get-schema", {"name": name})

    async def insert(self, table: str, data: Any) -> str:
        entity = await self.call("insert", {"table": table, "data": _rem._dumps(data)})
        return entity["id"]  # type: ignore[no-any-return]

    async def insert_batch(self, table: str, rows: Any, vectors: Optional[bytes] = None, dims: int = 0) -> List[str]:
        texts = [_rem._dumps(r) for r in rows]
        if vectors is not None:
            texts = _rem._splice_vectors(texts, vectors, dims)
        return await self.call("insert-batch", {"table": table, "rows": texts})  # type: ignore[no-any-return]

    async def get_vectors(self, ids: List[str]) -> List[Optional[bytes]]:
        import array
        import sys

        found = await self.call("get-vectors", {"ids": list(ids)})
        out: List[Optional[bytes]] = []
        for v in found:
            if v is None:
                out.append(None)
                continue
            a = array.array("f", v)
            if sys.byteorder != "little":  # pragma: no cover
                a.byteswap()
            out.append(a.tobytes())
        return out

    async def get(self, id: str) -> Any:
        return await self.call("get", {"id": id})

    async def get_many(self, ids: List[str]) -> Any:
        return await self.call("get-many", {"ids": list(ids)})

    async def update(self, id: str, patch: Any) -> Any:
        return await self.call("update", {"id": id, "patch": _rem._dumps(patch)})

    async def delete(self, id: str, hard: bool) -> Any:
        return await self.call("delete", {"id": id, "hard": hard})

    async def lookup(self, key: str) -> Any:
        return await self.call("lookup", {"key": key})

    async def list(self, table: str, limit: Optional[int], offset: int) -> Any:
        return await self.call("list", {"table": table, "limit": limit, "offset": offset})

    async def count(self, table: str) -> int:
        return await self.call("count", {"table": table})  # type: ignore[no-any-return]

    async def query(self, sql: str, params: Any = None) -> Any:
        if params is None:
            return await self.call("query", {"sql": sql})
        return await self.call("query-with-params", {"sql": sql, "params": _rem._dumps(params)})

    async def delete_batch(self, ids: List[str], hard: bool = False) -> Any:
        return await self.call("delete-batch", {"ids": ids, "hard": hard})

    async def execute(self, sql: str, params: Any = None) -> Any:
        return await self.call("execute", {"sql": sql, "params": None if params is None else _rem._dumps(params)})

    async def query_page(
        self, sql: str, params: Any = None, after: Optional[str] = None, limit: int = 1000
    ) -> Any:
        args = {"sql": sql, "params": None if params is None else _rem._dumps(params), "after": after, "limit": limit}
        return await self.call("query-page", args)

    async def search(
        self,
        table: str,
        text: Optional[str],
        vector: Optional[List[float]],
        top_k: int,
        min_score: float,
        filter: Optional[str],
        hybrid: bool,
        ef_search: Optional[int],
        vector_field: Optional[str] = None,
    ) -> Any:
        args: Dict[str, Any] = {"table": table, "top_k": top_k, "min_score": min_score, "filter": filter,
                                "hybrid": hybrid, "ef_search": ef_search, "vector_field": vector_field}
        if text is not None:
            args["text"] = text
        if vector is not None:
            args["vector"] = [float(x) for x in vector]
        return await self.call("search", args)

    async def index_stats(self, table: str) -> Any:
        return await self.call("index-stats", {"table": table})

    async def rebuild_index(self, table: str, reembed: bool) -> Any:
        return await self.call("rebuild-index", {"table": table, "reembed": reembed})

    async def add_edge(self, src: str, dst: str, rel_type: str, properties: Any) -> Any:
        props = None if properties is None else _rem._dumps(properties)
        return await self.call("add-edge", {"src": src, "dst": dst, "rel_type": rel_type, "properties": props})

    async def add_edges(self, edges: Any) -> int:
        return await self.call("add-edges", {"edges": [_rem._dumps(e) for e in edges]})  # type: ignore[no-any-return]

    async def get_edges(self, id: str, direction: str, rel_types: List[str]) -> Any:
        return await self.call("get-edges", {"id": id, "direction": direction, "rel_types": rel_types})

    async def delete_edge(self, src: str, dst: str, rel_type: str) -> Any:
        return await self.call("delete-edge", {"src": src, "dst": dst, "rel_type": rel_type})

    async def traverse(
        self, start: str, direction: str, depth: int, rel_types: List[str], strategy: str, limit: Optional[int]
    ) -> Any:
        return await self.call("traverse", {"start": start, "direction": direction, "depth": depth,
                                            "rel_types": rel_types, "strategy": strategy, "limit": limit})

    async def shortest_path(
        self, source: str, target: str, direction: str, max_depth: int, rel_types: List[str], weighted: bool
    ) -> Any:
        return await self.call("shortest-path", {"source": source, "target": target, "direction": direction,
                                                 "max_depth": max_depth, "rel_types": rel_types,
                                                 "weighted": weighted})


class ServedCalls:
    """:class:`~rem_db.REMDatabase`'s methods over an :class:`AsyncNative`: each runs the
    synchronous method's own argument handling, which hands the native call's coroutine back
    unchanged, and awaits it. ``shortest_path`` keeps its "no path is ``None``" rule here, as
    its result is looked at after the call."""

    def __init__(self, native: AsyncNative) -> None:
        from .database import REMDatabase

        shell = REMDatabase.__new__(REMDatabase)
        shell._db = native  # type: ignore[assignment]
        shell._tables = {}
        shell._lock = threading.Lock()
        self._shell = shell

    async def aclose(self) -> None:
        """Close the client's connections."""
        native = self._shell._db
        if isinstance(native, AsyncNative):
            await native.aclose()

    async def run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Await REMDatabase method ``name`` over the served handle."""
        if name == "shortest_path":
            try:
                return await getattr(self._shell, name)(*args, **kwargs)
            except NotFoundError as e:
                if str(e).startswith("no path"):
                    return None
                raise
        return await getattr(self._shell, name)(*args, **kwargs)
