"""``MemoryEngine``: a thin Pydantic layer over :class:`~rem_db.REMDatabase`.

Models are tables: ``register_model(Model)`` registers ``Model.model_json_schema()``
(REM settings in ``json_schema_extra``), and results come back as model
instances, validated by Pydantic.

Each method also takes the argument order of the design's bindings, with the table first:
``insert(table, obj)``, ``get(table, id, model)``, ``query(table, model, sql)`` and
``search(query, model, limit)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union, overload

from .database import PathLike, REMDatabase

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["MemoryEngine"]

M = TypeVar("M", bound="BaseModel")


class MemoryEngine:
    """Pydantic models in, Pydantic models out.

    Args:
        db: an open :class:`~rem_db.REMDatabase`; or ``None`` to open one at
            ``path`` with ``options`` (keyword arguments of ``REMDatabase``).
    """

    def __init__(self, db: Optional[REMDatabase] = None, *, path: Optional[PathLike] = None, **options: Any) -> None:
        self.db = db if db is not None else REMDatabase(path, **options)

    def __enter__(self) -> "MemoryEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def close(self) -> None:
        """Close the database (idempotent); later calls raise
        :class:`~rem_db.errors.DatabaseClosedError`."""
        self.db.close()

    def register_model(
        self,
        model: Type[BaseModel],
        *,
        name: Optional[str] = None,
        indexed_fields: Optional[Sequence[str]] = None,
        embedding_fields: Optional[Sequence[str]] = None,
        key_field: Optional[str] = None,
    ) -> str:
        """Register ``model`` as a table; returns the table name (``name``, else the
        model's ``json_schema_extra`` ``table_name``/``name``/``short_name``, else its
        class name in snake_case).

        Raises:
            SchemaError: the model's schema is unusable.
        """
        table = name or self.db.table_of(model)
        self.db.register_schema(
            table,
            model,
            indexed_fields=indexed_fields,
            embedding_fields=embedding_fields,
            key_field=key_field,
        )
        return table

    @overload
    def insert(self, obj: BaseModel, /) -> str: ...
    @overload
    def insert(self, table: str, obj: BaseModel, /) -> str: ...
    def insert(self, first: Union[str, BaseModel], obj: Optional[BaseModel] = None, /) -> str:
        """Upsert one model instance into its table (or into ``table``: ``insert(table, obj)``);
        returns its id.

        Raises:
            SchemaNotFoundError: the model was not registered.
            ValidationError: the instance does not satisfy the stored schema.
        """
        if isinstance(first, str):
            if obj is None:
                raise TypeError("insert(table, obj) needs the instance")
            return self.db.insert(first, obj)
        return self.db.insert(self.db.table_of(type(first)), first)

    def insert_many(self, objs: Sequence[BaseModel]) -> List[str]:
        """Upsert instances (atomic per table); returns their ids in order."""
        return self.db.upsert(list(objs))

    def _model(self, model: Type[M], props: Mapping[str, Any]) -> M:
        fields = getattr(model, "model_fields", None)
        data = {k: v for k, v in props.items() if k in fields} if fields else dict(props)
        return model.model_validate(data)

    @overload
    def get(self, model: Type[M], id: str, /) -> Optional[M]: ...
    @overload
    def get(self, table: str, id: str, model: Type[M], /) -> Optional[M]: ...
    def get(self, first: Union[str, Type[M]], id: str, model: Optional[Type[M]] = None, /) -> Optional[M]:
        """The instance with ``id`` (or natural key), or ``None`` (also when it was soft-deleted or
        belongs to another table). Also ``get(table, id, model)``.

        Raises:
            pydantic.ValidationError: the stored properties no longer fit ``model``.
        """
        if isinstance(first, str):
            if model is None:
                raise TypeError("get(table, id, model) needs the model")
            table, cls = first, model
        else:
            table, cls = self.db.table_of(first), first
        entity = self.db.get(id)
        if entity is None or entity["deleted_at"] is not None or entity["entity_type"] != table:
            return None
        return self._model(cls, entity["properties"])

    @overload
    def query(
        self, model: Type[M], sql: str, /, *, params: Union[Sequence[Any], Mapping[str, Any], None] = None
    ) -> List[M]: ...
    @overload
    def query(
        self,
        table: str,
        model: Type[M],
        sql: str,
        /,
        *,
        params: Union[Sequence[Any], Mapping[str, Any], None] = None,
    ) -> List[M]: ...
    def query(
        self,
        first: Union[str, Type[M]],
        second: Union[str, Type[M]],
        third: Optional[str] = None,
        /,
        *,
        params: Union[Sequence[Any], Mapping[str, Any], None] = None,
    ) -> List[M]:
        """Run a REM SQL statement and build ``model`` from each row (system columns
        and columns the model lacks are dropped; a row with ``properties`` uses them).
        Also ``query(table, model, sql)`` (the table is named by the statement itself).

        Raises:
            QueryError, SchemaNotFoundError: as :meth:`rem_db.REMDatabase.sql`.
            pydantic.ValidationError: a row lacks fields the model requires (select them).
        """
        if isinstance(first, str):
            if isinstance(second, str) or third is None:
                raise TypeError("query(table, model, sql) takes the model class second and the statement third")
            model, sql = second, third
        else:
            if not isinstance(second, str):
                raise TypeError("query(model, sql) takes the statement second")
            model, sql = first, second
        rows: List[Dict[str, Any]] = self.db.sql(sql, params=params)
        return [self._model(model, r["properties"] if isinstance(r.get("properties"), dict) else r) for r in rows]

    @overload
    def search(
        self, model: Type[M], text: str, /, limit: int = 10, *, where: Optional[str] = None, min_score: float = 0.0
    ) -> List[Tuple[M, float]]: ...
    @overload
    def search(
        self, text: str, model: Type[M], /, limit: int = 10, *, where: Optional[str] = None, min_score: float = 0.0
    ) -> List[Tuple[M, float]]: ...
    def search(
        self,
        first: Union[str, Type[M]],
        second: Union[str, Type[M]],
        /,
        limit: int = 10,
        *,
        where: Optional[str] = None,
        min_score: float = 0.0,
    ) -> List[Tuple[M, float]]:
        """Semantic search of ``model``'s table; returns ``(instance, score)`` pairs, best first
        (score = 1 - cosine distance). Also ``search(text, model, limit)``.

        Raises:
            as :meth:`rem_db.REMDatabase.search`.
        """
        if isinstance(first, str):
            if isinstance(second, str):
                raise TypeError("search(text, model, limit) takes the model class second")
            text, model = first, second
        else:
            if not isinstance(second, str):
                raise TypeError("search(model, text, limit) takes the text second")
            model, text = first, second
        hits = self.db.search(text, table=self.db.table_of(model), limit=limit, where=where, min_score=min_score)
        return [(self._model(model, h["properties"]), h["_score"]) for h in hits]
