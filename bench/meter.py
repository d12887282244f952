"""Meter what the handlers consume on the local stack, the way AWS would bill it.

Two patches, undone on exit: the in-process Lambda dispatch is timed (wall and the handler
thread's own CPU), and every botocore call made while a handler runs on that thread is
recorded. DynamoDB request units are worked out from item sizes as AWS documents them:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from handoff.deploy.functions import FunctionSpec
from handoff.local import lambdas

T = TypeVar("T")

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
READS = {"GetItem", "Query", "Scan"}


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    included: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableShape:
    keys: tuple[str, ...]
    indexes: tuple[Index, ...] = ()


@dataclass(frozen=True)
class Invocation:
    function: str
    wall_s: float
    cpu_s: float
    api: bool  # an API Gateway event (a billed API request), not a workflow step


@dataclass(frozen=True)
class Call:
    function: str
    service: str
    operation: str
    read_units: float = 0.0
    write_units: float = 0.0


@dataclass
class Meter:
    tables: dict[str, TableShape]  # by table name
    reader: Any  # a DynamoDB client for before/after images; never metered itself
    invocations: list[Invocation] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    unmetered: int = 0  # calls the meter could not size; they ran all the same
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self._lock:
            self.invocations.clear()
            self.calls.clear()
            self.unmetered = 0

    def safely(self, measure: Callable[[], T]) -> T | None:
        """Run a piece of metering; a failure is counted, never passed to the handler."""
        try:
            return measure()
        except Exception:
            with self._lock:
                self.unmetered += 1
            return None

    def invoked(self, invocation: Invocation) -> None:
        with self._lock:
            self.invocations.append(invocation)

    def called(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)


# --- DynamoDB item sizes -------------------------------------------------------------------


def _number_size(value: Decimal | int | float) -> int:
    """About one byte per two significant digits, plus one."""
    digits = Decimal(str(value)).normalize().as_tuple().digits
    return (len(digits) + 1) // 2 + 1


def _scalar_size(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, Decimal | int | float):
        return _number_size(value)
    return len(bytes(value))  # binary: bytes, bytearray or boto3's Binary


def value_size(value: Any) -> int:
    """An attribute value's size; lists and maps carry 3 bytes plus 1 per element."""
    if isinstance(value, Mapping):
        return 3 + sum(len(str(k).encode()) + value_size(v) + 1 for k, v in value.items())
    if isinstance(value, list | tuple):
        return 3 + sum(value_size(v) + 1 for v in value)
    if isinstance(value, set | frozenset):
        return sum(value_size(v) for v in value)
    return _scalar_size(value)


def item_size(item: Mapping[str, Any] | None) -> int:
    return sum(len(k.encode()) + value_size(v) for k, v in (item or {}).items())


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


def _entry(index: Index, table: TableShape, item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The item's entry in ``index``, or None when the item is not in it (a sparse index)."""
    if item is None or any(k not in item for k in index.keys):
        return None
    if index.projection == "ALL":
        return dict(item)
    kept = {*table.keys, *index.keys, *index.included}
    return {k: v for k, v in item.items() if k in kept}


def _index_write_units(index: Index, table: TableShape, before: Any, after: Any) -> int:
    old, new = _entry(index, table, before), _entry(index, table, after)
    if old is None and new is None:
        return 0
    if old is None or new is None:  # put into, or deleted from, the index
        return _units(item_size(old or new), WRITE_UNIT_BYTES)
    if any(old[k] != new[k] for k in index.keys):  # moved: a delete and a put
        return _units(item_size(old), WRITE_UNIT_BYTES) + _units(item_size(new), WRITE_UNIT_BYTES)
    return _units(item_size(new), WRITE_UNIT_BYTES) if old != new else 0


def write_units(table: TableShape, before: Any, after: Any, *, failed: bool) -> int:
    """A write costs the larger of the before and after images (a failed condition still
    costs), plus each index entry it puts, changes or deletes."""
    units = _units(max(item_size(before), item_size(after)), WRITE_UNIT_BYTES)
    if failed:
        return units
    return units + sum(_index_write_units(i, table, before, after) for i in table.indexes)


def read_units(items: Sequence[Mapping[str, Any]], *, consistent: bool) -> float:
    """One page of reads: the items' total size in 4 KB units, half that when eventually consistent."""
    units = _units(sum(item_size(i) for i in items), READ_UNIT_BYTES)
    return units if consistent else units / 2


# --- the patches ---------------------------------------------------------------------------

_thread = threading.local()  # .function: the handler running on this thread; .quiet: the meter's own reads
_serialize, _deserialize = TypeSerializer().serialize, TypeDeserializer().deserialize


TYPES = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}


def _typed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in TYPES


def plain(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An item as Python values, whichever client sent it: a Table resource's are plain, a
    low-level client's (Powertools idempotency uses one) are typed, {"S": "..."}."""
    if item is None:
        return None
    if item and all(_typed(v) for v in item.values()):
        return {k: _deserialize(v) for k, v in item.items()}
    return dict(item)


def _image(meter: Meter, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
    # A key attribute is a string, number or binary, never a map: a dict value is typed already.
    typed_key = {k: v if isinstance(v, dict) else _serialize(v) for k, v in key.items()}
    _thread.quiet = True
    try:
        found = meter.reader.get_item(TableName=table, Key=typed_key, ConsistentRead=True).get("Item")
    finally:
        _thread.quiet = False
    return {k: _deserialize(v) for k, v in found.items()} if found else None


def _write_key(shape: TableShape | None, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if shape is None:
        return None  # a table the template does not declare: the request is sized alone
    key: Mapping[str, Any] = params.get("Key") or {k: params["Item"][k] for k in shape.keys}
    return key


class _Write(NamedTuple):
    table: str
    shape: TableShape | None
    key: Mapping[str, Any] | None
    params: Mapping[str, Any]


def _write_cost(meter: Meter, write: _Write, before: Any, *, failed: bool) -> int:
    if write.shape is None or write.key is None:
        return _units(item_size(plain(write.params.get("Item"))), WRITE_UNIT_BYTES)
    after = before if failed else _image(meter, write.table, write.key)
    return write_units(write.shape, before, after, failed=failed)


def _metered_write(
    meter: Meter, function: str, call: Callable[[], Any], op: str, params: Mapping[str, Any]
) -> Any:
    """The write, between images of its item taken before and after (the metering's own
    failures are counted and never reach the handler)."""
    name = str(params["TableName"])
    shape = meter.tables.get(name)
    key = meter.safely(lambda: _write_key(shape, params))
    write = _Write(name, shape, key, params)
    before = meter.safely(lambda: _image(meter, name, key)) if key is not None else None
    failed = False
    try:
        return call()
    except ClientError:
        failed = True  # ConditionalCheckFailed: AWS bills the write all the same
        raise
    finally:
        units = meter.safely(lambda: _write_cost(meter, write, before, failed=failed))
        meter.called(Call(function, "dynamodb", op, write_units=units or 0))


def _metered_read(
    meter: Meter, function: str, result: Mapping[str, Any], op: str, params: Mapping[str, Any]
) -> None:
    found = [result["Item"]] if result.get("Item") else list(result.get("Items", []))
    items = [i for i in map(plain, found) if i is not None]
    # Reads from an index are always eventually consistent.
    consistent = bool(params.get("ConsistentRead")) and not params.get("IndexName")
    meter.called(Call(function, "dynamodb", op, read_units=read_units(items, consistent=consistent)))


@contextmanager
def metering(meter: Meter) -> Iterator[Meter]:
    """Patch the Lambda dispatch and botocore for the duration; AWS calls outside a handler
    (the benchmark's own polling, moto's internals) are not counted."""
    original_invoke = lambdas.invoke
    original_call = BaseClient._make_api_call  # type: ignore[attr-defined]  # botocore's private entry point

    def timed_invoke(spec: FunctionSpec, event: Any) -> Any:
        _thread.function = spec.key
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return original_invoke(spec, event)
        finally:
            _thread.function = None
            api = isinstance(event, dict) and "httpMethod" in event
            meter.invoked(Invocation(spec.key, time.perf_counter() - wall, time.thread_time() - cpu, api))

    def metered_call(client: BaseClient, op: str, params: dict[str, Any]) -> Any:
        function = getattr(_thread, "function", None)
        if function is None or getattr(_thread, "quiet", False):
            return original_call(client, op, params)
        service = client.meta.service_model.service_name
        if service == "dynamodb" and op in WRITES:
            return _metered_write(meter, function, lambda: original_call(client, op, params), op, params)
        result = original_call(client, op, params)
        if service == "dynamodb" and op in READS:
            meter.safely(lambda: _metered_read(meter, function, result, op, params))
        else:
            meter.called(Call(function, service, op))
        return result

    lambdas.invoke = timed_invoke
    BaseClient._make_api_call = metered_call  # type: ignore[attr-defined]
    try:
        yield meter
    finally:
        lambdas.invoke = original_invoke
        BaseClient._make_api_call = original_call  # type: ignore[attr-defined]


class LogBytes(io.TextIOBase):
    """A sink that only counts the UTF-8 bytes written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.bytes += len(text.encode())
        return len(text)

    def clear(self) -> None:
        with self._lock:
            self.bytes = 0


@contextmanager
def counting_logs(level: str) -> Iterator[LogBytes]:
    """Count what the handlers would ship to CloudWatch Logs at the deployed ``level``: the
    Powertools logger's JSON lines and the EMF metric lines printed to stdout."""
    from handoff.observability import logger

    sink = LogBytes()
    handler = logger.registered_handler
    if not isinstance(handler, logging.StreamHandler):
        raise TypeError("the Powertools logger does not write to a stream")
    previous_level, previous_stream = logger.log_level, handler.setStream(sink)
    logger.setLevel(level)
    try:
        with contextlib.redirect_stdout(sink):
            yield sink
    finally:
        logger.setLevel(previous_level)
        handler.setStream(previous_stream)
