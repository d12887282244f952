"""Which global secondary index entries one write of an item touches, as DynamoDB decides it.

DynamoDB writes an item's entry in an index only when the write changes something that entry
holds: its keys or an attribute the index projects. An item enters a sparse index when it gains
both key attributes and leaves it when it loses one; a change of either key moves the entry,
which is a delete under the old partition key and a put under the new one
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations).
Pure: the benchmarks size the entries and count the write units; the tests pin the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from handoff.aws.tables import Index, TableSpec

Action = Literal["put", "update", "delete"]


@dataclass(frozen=True)
class IndexWrite:
    index: str
    partition_key: str  # the index partition key value the entry is written (or deleted) under
    action: Action  # put: a new entry; update: the entry rewritten in place; delete: removed
    entry: Mapping[str, Any]  # what the index holds for the item: table keys, index keys, projection


def entry(table: TableSpec, index: Index, item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The item's entry in ``index``, or None when the item is not in it (a key is missing)."""
    keys = [k for k in (index.partition_key, index.sort_key) if k]
    if item is None or any(k not in item for k in keys):
        return None
    if index.include is None:  # projects the whole item
        return dict(item)
    kept = {table.partition_key, table.sort_key, *keys, *index.include}
    return {k: v for k, v in item.items() if k in kept}


def index_writes(
    table: TableSpec, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[IndexWrite]:
    """Every index entry a write from ``before`` to ``after`` (None: no item) puts, rewrites or
    deletes, in the table's index order; a write that changes nothing an index holds touches none."""
    writes: list[IndexWrite] = []
    for index in table.indexes:
        old, new = entry(table, index, before), entry(table, index, after)
        key = index.partition_key
        keys = [k for k in (key, index.sort_key) if k]
        if old is not None and (new is None or any(old[k] != new[k] for k in keys)):
            writes.append(IndexWrite(index.name, str(old[key]), "delete", old))
            old = None
        if new is not None and old is None:
            writes.append(IndexWrite(index.name, str(new[key]), "put", new))
        elif new is not None and new != old:
            writes.append(IndexWrite(index.name, str(new[key]), "update", new))
    return writes
