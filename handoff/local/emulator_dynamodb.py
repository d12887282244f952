"""moto's DynamoDB, made cheaper to run and answering the same (part of handoff.local.emulator).

Every DynamoDB request runs under the emulator's one lock, so what moto spends on each is time
every other request waits. Under a burst three costs took most of it; each is now paid once:

- **Answers written as JSON.** moto writes each answer through a serializer driven by the
  service model, walking every attribute of every item with a picker object per value: a lead's
  item (its timeline, its notifications) took milliseconds. An item-level answer (GetItem,
  Query, UpdateItem...) is already DynamoDB's JSON once moto has built it, so it is written with
  ``json.dumps``, binary values as base64, as the serializer writes them.
  Anything else, errors included, still goes through moto's serializer.
- **An item converted once per projection.** moto projects an item (an index's INCLUDE or
  KEYS_ONLY entry, a ProjectionExpression) by converting the whole item again for every
  attribute projected; it is converted once and each projected part copied from that.
- **No copy made only to be copied again.** moto turns a stored value into plain JSON by
  deep-copying it and then converting each nested value, which deep-copies it again, once per
  level; the conversion now builds its new value directly.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from typing import Any

# The item-level operations: their answers hold only structures, strings, numbers, booleans,
# lists and binary values, which is all DynamoDB's JSON protocol needs here.
JSON_ANSWERS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
CONTENT_TYPE = "application/x-amz-json-1.0"


class _NotPlain(TypeError):
    """A value json.dumps cannot write as DynamoDB does: the answer goes to moto's serializer."""


def _wire_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise _NotPlain(type(value).__name__)


def json_answers(serialized: Any) -> Any:
    """moto's BaseResponse.serialized for DynamoHandler, writing item-level answers with json."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    @functools.wraps(serialized)
    def answer(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if (
            type(action_result) in (ActionResult, DynamoResult)
            and isinstance(result, dict)
            and self._get_action() in JSON_ANSWERS
        ):
            try:
                body = json.dumps(result, default=_wire_value, separators=(",", ":"))
            except _NotPlain:
                return serialized(self, action_result)
            headers = {"Content-Type": CONTENT_TYPE, **self.response_headers}
            return 200, headers, body
        return serialized(self, action_result)

    return answer


def project_converting_once(self: Any, projection_expressions: list[list[str]]) -> Any:
    """moto's Item.project, converting the item to plain JSON once rather than once per path."""
    from boto3.dynamodb.types import TypeSerializer
    from moto.core.utils import merge_dicts
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.utilities import find_nested_key

    whole = self.to_regular_json()
    result: dict[str, Any] = {}
    for expr in projection_expressions:
        # A copy of each part, as moto's fresh conversion per path gave: merging one path into
        # another must not change the item the next path is read from.
        merge_dicts(result, copy.deepcopy(find_nested_key(expr, whole)))
    attrs = dict(TypeSerializer().serialize(result)["M"])
    return Item(hash_key=self.hash_key, range_key=self.range_key, attrs=attrs)


def to_regular_json_built_directly(self: Any) -> dict[str, Any]:
    """moto's DynamoType.to_regular_json: the same new value, built without copies of copies."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    value = self.value
    if isinstance(value, dict):
        value = {
            k: v.to_regular_json() if isinstance(v, DynamoType) else copy.deepcopy(v)
            for k, v in value.items()
        }
    elif isinstance(value, list):
        value = [v.to_regular_json() if isinstance(v, DynamoType) else copy.deepcopy(v) for v in value]
    if self.is_binary() and isinstance(value, str):
        value = base64.b64decode(value)
    return {self.type: value}


# moto's own versions of what install replaces, kept so a test can hold the two side by side.
MOTO: dict[str, Any] = {}


def install() -> None:
    """Apply the changes above (called once, under handoff.local.emulator.install's lock)."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.responses import DynamoHandler

    MOTO.update(
        serialized=DynamoHandler.serialized, project=Item.project, to_regular_json=DynamoType.to_regular_json
    )
    DynamoHandler.serialized = json_answers(DynamoHandler.serialized)  # type: ignore[method-assign]
    Item.project = project_converting_once  # type: ignore[method-assign]
    DynamoType.to_regular_json = to_regular_json_built_directly  # type: ignore[method-assign]
