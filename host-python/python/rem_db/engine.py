"""``MemoryEngine``: a thin Pydantic layer over :class:`~rem_db.REMDatabase`.

Models are tables: ``register_model(Model)`` registers ``Model.model_json_schema()``
(REM settings in ``json_schema_extra``), and results come back as model
instances, validated by Pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union

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

    def insert(self, obj: BaseModel) -> str:
        """Upsert one model instance into its table; returns its id.

        Raises:
            SchemaNotFoundError: the model was not registered.
            ValidationError: the instance does not satisfy the stored schema.
        """
        return self.db.insert(self.db.table_of(type(obj)), obj)

    def insert_many(self, objs: Sequence[BaseModel]) -> List[str]:
        """Upsert instances (atomic per table); returns their ids in order."""
        return self.db.upsert(list(objs))

    def _model(self, model: Type[M], props: Mapping[str, Any]) -> M:
        fields = getattr(model, "model_fields", None)
        data = {k: v for k, v in props.items() if k in fields} if fields else dict(props)
        return model.model_validate(data)

    def get(self, model: Type[M], id: str) -> Optional[M]:
        """The instance with ``id``, or ``None`` (also when it was soft-deleted or
        belongs to another table).

        Raises:
            pydantic.ValidationError: the stored properties no longer fit ``model``.
        """
        entity = self.db.get(id)
        if entity is None or entity["deleted_at"] is not None or entity["entity_type"] != self.db.table_of(model):
            return None
        return self._model(model, entity["properties"])

    def query(
        self, model: Type[M], sql: str, *, params: Union[Sequence[Any], Mapping[str, Any], None] = None
    ) -> List[M]:
        """Run a REM SQL statement and build ``model`` from each row (system columns
        and columns the model lacks are dropped; a row with ``properties`` uses them).

        Raises:
            QueryError, SchemaNotFoundError: as :meth:`rem_db.REMDatabase.sql`.
            pydantic.ValidationError: a row lacks fields the model requires (select them).
        """
        rows: List[Dict[str, Any]] = self.db.sql(sql, params=params)
        return [self._model(model, r["properties"] if isinstance(r.get("properties"), dict) else r) for r in rows]

    def search(
        self, model: Type[M], text: str, limit: int = 10, *, where: Optional[str] = None, min_score: float = 0.0
    ) -> List[Tuple[M, float]]:
        """Semantic search of ``model``'s table; returns ``(instance, score)`` pairs, best first
        (score = 1 - cosine distance).

        Raises:
            as :meth:`rem_db.REMDatabase.search`.
        """
        hits = self.db.search(text, table=self.db.table_of(model), limit=limit, where=where, min_score=min_score)
        return [(self._model(model, h["properties"]), h["_score"]) for h in hits]
