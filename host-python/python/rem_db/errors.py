"""The exceptions REM raises: one hierarchy rooted at :class:`RemError`.

Every error of the engine and the host maps to exactly one class here (the
mapping lives in ``host-python/src/error.rs``). Each exception carries
``kind``, the stable snake_case name of the case (the same names as the CLI's
``--json`` errors), and subclasses the builtin a Python user would catch:
``KeyError`` for missing things, ``ValueError`` for bad input.
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple, TypedDict, Union



__all__ = [
    "RemError",
    "NotFoundError",
    "SchemaNotFoundError",
    "ValidationError",
    "ErrorDetails",
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
    "DatabaseLockedError",
    "DatabaseNotFoundError",
    "ServerConnectionError",
    "UnauthorizedError",
    "PasswordError",
    "ResourceExhaustedError",
    "CallTimeoutError",
    "DatabaseForkedError",
    "EngineError",
]


class RemError(Exception):
    """Root of every REM exception.

    Attributes:
        kind: stable snake_case name of the error case (``"not_found"``,
            ``"validation"``, ...); set on every exception the engine raises.
    """

    kind: str = "rem"

    def __init__(self, message: str, *args: Any) -> None:
        super().__init__(message, *args)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFoundError(RemError, KeyError):
    """No entity (or edge, or path) with the given id or key."""

    kind = "not_found"


class SchemaNotFoundError(RemError, KeyError):
    """The table has no registered schema; call ``register_schema`` first."""

    kind = "schema_not_found"


class ErrorDetails(TypedDict):
    """One validation issue, shaped like ``pydantic_core.ErrorDetails``.

    ``loc`` is the path from the root of the written value (for batches the
    first element is the row index), ``type`` a stable snake_case kind
    (``missing``, ``string_type``, ``enum``, ...), ``msg`` a sentence.
    """

    loc: Tuple[Union[str, int], ...]
    type: str
    msg: str


class ValidationError(RemError, ValueError):
    """Data does not satisfy the table's JSON Schema; nothing was written.

    ``errors()`` lists every issue (not just the first), like Pydantic's
    ``ValidationError.errors()``.
    """

    kind = "validation"

    def __init__(self, message: str, issues: Optional[List[ErrorDetails]] = None) -> None:
        super().__init__(message)
        self._issues: List[ErrorDetails] = list(issues or [])

    def errors(self) -> List[ErrorDetails]:
        """Every issue: dicts with ``loc`` (tuple of str/int), ``type`` and ``msg``."""
        return [dict(i) for i in self._issues]  # type: ignore[misc]

    def error_count(self) -> int:
        """Number of issues."""
        return len(self._issues)


class SchemaError(RemError, ValueError):
    """An unusable schema document, or a refused schema change (a major version bump)."""

    kind = "invalid_schema"


class QueryError(RemError, ValueError):
    """A malformed or invalid REM SQL statement.

    Attributes:
        line: 1-based line of the problem, 0 when unknown.
        column: 1-based column (in characters), 0 when unknown.
    """

    kind = "invalid_query"

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message, line, column)
        self.line = line
        self.column = column

    @property
    def position(self) -> Optional[Tuple[int, int]]:
        """``(line, column)``, or ``None`` when the parser did not report one."""
        return (self.line, self.column) if self.line else None


class UnsupportedError(QueryError):
    """A construct or feature REM does not support (the message names it)."""

    kind = "unsupported"


class InvalidArgumentError(RemError, ValueError):
    """A bad argument (malformed id, out-of-range option, wrong vector size, closed database...)."""

    kind = "invalid_argument"


class DatabaseClosedError(InvalidArgumentError):
    """A call on a handle after :meth:`~rem_db.REMDatabase.close` (as ``sqlite3`` refuses
    to operate on a closed database). Open a new handle."""

    kind = "database_closed"


class SerializationError(RemError, TypeError, ValueError):
    """A Python value that cannot be written as JSON: an unsupported type or a non-string
    key (also a ``TypeError``), NaN or infinity, an integer beyond 64 bits, or nesting too
    deep (also a ``ValueError``). Nothing was sent to the engine."""

    kind = "serialization"


class EmbeddingError(RemError):
    """The embedding provider failed or is unavailable (the message says how to fix it).

    When a custom Python embedding function raised, its exception is ``__cause__``. An
    OpenAI-compatible provider's failures that a caller can act on are subclasses:
    :class:`EmbeddingConnectionError`, :class:`EmbeddingAuthenticationError`,
    :class:`EmbeddingRateLimitError`. Nothing the call wrote was kept.
    """

    kind = "embedding"


class EmbeddingConnectionError(EmbeddingError, ConnectionError):
    """The embedding provider could not be reached (transport errors until the retries ran
    out: three, with 0.5, 1 and 2 s between them). Also a ``ConnectionError``."""


class EmbeddingAuthenticationError(EmbeddingError, PermissionError):
    """The embedding provider refused the credentials (HTTP 401 or 403): check
    ``P8_OPENAI_API_KEY``. Also a ``PermissionError``."""


class EmbeddingRateLimitError(EmbeddingError):
    """The embedding provider kept answering 429 (rate limited) until the retries ran out.

    Attributes:
        retry_after: seconds the provider asked to wait (its ``Retry-After`` header), or
            ``None`` when it did not say.
    """

    def __init__(self, message: str, retry_after: Optional[float] = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LlmError(RemError):
    """The chat model behind ``query_natural_language`` and ``dream`` failed.

    Raised when no model is configured (``P8_DEFAULT_LLM``), the endpoint cannot be
    reached or keeps failing (after bounded retries on 429 and 5xx), or its answer is
    not the JSON asked for, or a planned query still does not compile after one
    correction. The message names the next step and never the API key. When an
    ``llm=`` callable raised, its exception is ``__cause__``.
    """

    kind = "llm"


class StorageError(RemError, OSError):
    """The storage layer (redb) or the file system failed; the call was rolled back."""

    kind = "storage"


class DatabaseNotFoundError(RemError, FileNotFoundError):
    """No database at the path, and the handle was asked not to create one.

    ``REMDatabase(path)`` creates a missing database (as ``sqlite3.connect`` does), so
    Python code meets this only through a server or another host that does not.
    """

    kind = "database_not_found"


class DatabaseLockedError(StorageError):
    """Another process (or another open handle) holds the database and did not release it
    within the busy timeout (``P8_BUSY_TIMEOUT_MS``, default 5,000 ms). Close it there, or run
    ``rem serve`` for the database: every process then shares it through the server.

    Attributes:
        path: the database directory.
        holder: the process id holding it, or ``None`` when unknown.
    """

    kind = "locked"

    def __init__(self, message: str, path: str = "", holder: Optional[int] = None) -> None:
        super().__init__(message)
        self.path = path
        self.holder = holder


class ServerConnectionError(RemError, ConnectionError):
    """A served database (``rem serve``) could not be reached, or the connection broke before
    the answer came. Each call is atomic on the server: one that broke mid-request was applied
    wholly or not at all."""

    kind = "connection"


class UnauthorizedError(RemError, PermissionError):
    """The server refused the request's bearer token (HTTP 401): pass ``token=`` to
    :meth:`REMDatabase.connect` or set ``P8_SERVER_TOKEN``."""

    kind = "unauthorized"


class PasswordError(RemError, PermissionError):
    """The database is encrypted and no password was given (``password=`` or ``P8_PASSWORD``),
    or the password is wrong. Nothing was read or changed; the message never holds the password."""

    kind = "password"


class ResourceExhaustedError(RemError, MemoryError):
    """The engine hit its memory cap (``memory_limit``); the call was rolled back (also a
    ``MemoryError``)."""

    kind = "resource_exhausted"


class CallTimeoutError(RemError, TimeoutError):
    """The call ran past its deadline (``call_timeout``); it was stopped and rolled back."""

    kind = "timeout"


class DatabaseForkedError(RemError, RuntimeError):
    """The handle was opened in a parent process and this is a child made by ``fork()``.

    A handle never writes across a fork (that would corrupt the parent's database): every call
    in the child raises this, and closing it there releases nothing. Open the database in the
    child instead, after the parent has closed it, or start workers with the ``spawn`` method.
    """

    kind = "forked"


class EngineError(RemError):
    """A bug in REM (an engine trap or broken invariant); the call was rolled back. Please report it."""

    kind = "internal"
