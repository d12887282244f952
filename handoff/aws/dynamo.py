"""The one place DynamoDB's types and errors meet the domain."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from handoff.errors import (
    THROTTLING_CODES,
    AlreadyExists,
    BadRequest,
    PayloadTooLarge,
    StorageError,
    StorageThrottled,
)

T = TypeVar("T")


def to_item(model: BaseModel, **extra: Any) -> dict[str, Any]:
    """A pydantic model as a DynamoDB item (numbers as Decimal, datetimes as ISO strings)."""
    item: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True), parse_float=Decimal)
    item.update(extra)
    return item


# DynamoDB's limits: 400 KB an item (kept well clear of, for the timeline and decisions added
# later), numbers of at most 38 significant digits between 1e-130 and 1e126, and attribute
# names (map keys at every depth too) of 1 byte to under 64 KB of UTF-8.
MAX_NEW_ITEM_BYTES = 300_000
MAX_DIGITS = 38
MAX_EXPONENT = 125
MAX_NAME_BYTES = 65_535


def _names(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(where, name) for every map key in ``value``, at every depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            name = str(key)
            yield path, name
            yield from _names(inner, f"{path}.{name[:40]}" if path else name[:40])
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _names(inner, f"{path}[{index}]")


def _name_problem(name: str) -> str | None:
    if not name:
        return "a field name may not be empty"
    size = len(name.encode("utf-8", errors="surrogatepass"))
    if size > MAX_NAME_BYTES:
        return f"a field name is at most {MAX_NAME_BYTES} bytes; this one is {size}"
    return None


def _numbers(value: Any, path: str) -> Iterator[tuple[str, Decimal]]:
    if isinstance(value, Decimal):
        yield path, value
    elif isinstance(value, int) and not isinstance(value, bool):
        yield path, Decimal(value)
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _numbers(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _numbers(inner, f"{path}[{index}]")


def check_storable(item: dict[str, Any]) -> None:
    """Refuse, naming the problem, what DynamoDB would refuse: the sender's data, not an outage."""
    size = len(json.dumps(item, default=str))
    if size > MAX_NEW_ITEM_BYTES:
        raise PayloadTooLarge(
            f"the lead is {size} bytes once stored, over the {MAX_NEW_ITEM_BYTES} limit: send fewer or shorter activities"
        )
    for where, name in _names(item, ""):
        problem = _name_problem(name)
        if problem:
            label = name[:40] or "<empty>"
            field = f"{where}.{label}" if where else label
            raise BadRequest(f"{field}: {problem}", [{"field": field, "message": problem}])
    for path, number in _numbers(item, ""):
        digits = number.normalize().as_tuple()
        exponent = number.adjusted() if number else 0
        if not number.is_finite() or len(digits.digits) > MAX_DIGITS or abs(exponent) > MAX_EXPONENT:
            raise BadRequest(f"{path}: the number is too large or too precise to store", [{"field": path}])


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
        # The operation is named (never the request: its values may be a contact's), so a sweep
        # that stops on an error says which call met it.
        if code in THROTTLING_CODES:
            raise StorageThrottled(f"DynamoDB {exc.operation_name} {code}") from exc
        raise StorageError(f"DynamoDB {exc.operation_name} {code or 'error'}") from exc
    except BotoCoreError as exc:
        raise StorageError(f"DynamoDB unreachable: {type(exc).__name__}") from exc
