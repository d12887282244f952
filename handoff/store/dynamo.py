"""The one place DynamoDB's types and errors meet the domain."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from handoff.errors import AlreadyExists, StorageError

T = TypeVar("T")


def to_item(model: BaseModel, **extra: Any) -> dict[str, Any]:
    """A pydantic model as a DynamoDB item (numbers as Decimal, datetimes as ISO strings)."""
    item: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True), parse_float=Decimal)
    item.update(extra)
    return item


def to_plain(value: Any) -> Any:
    """A JSON-compatible value ready for a DynamoDB write."""
    return json.loads(json.dumps(value, default=str), parse_float=Decimal)


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """Decimals back to int or float so pydantic and JSON see plain numbers."""

    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    result: dict[str, Any] = convert(item)
    return result


@contextmanager
def storage_errors(on_conditional: Callable[[], Exception] | None = None) -> Iterator[None]:
    """Translate botocore failures into domain exceptions.

    A failed condition means something specific to each call site (a duplicate,
    a full rep), so the caller says what it becomes.
    """
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raise (on_conditional() if on_conditional else AlreadyExists(str(exc))) from exc
        raise StorageError(f"DynamoDB {code or 'error'}") from exc
    except BotoCoreError as exc:
        raise StorageError(f"DynamoDB unreachable: {type(exc).__name__}") from exc
