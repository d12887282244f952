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

Three more are paid on every write, and grow with the item (a lead, with its timeline):

- **An item copied without the copy module's bookkeeping.** moto copies the item twice per
  UpdateItem (once for ReturnValues, once for a stream the table may not have) and every item a
  Query returns, through copy.deepcopy's dispatch and memo at each nested value. The copy is
  built directly: new containers at every level, the immutable strings, numbers and bytes
  shared, as moto's own copy shares them.
- **An item's size counted without rewrapping.** moto's count wrapped each nested value in a new
  DynamoType, which wraps all of that value's children again, at every level. The count is the
  same, read from the values as they are held.
- **An item's size checked once per write.** moto checks the 400 KB limit as each attribute is
  set, by counting the whole item: once per attribute an update sets, and once per attribute a
  new item is built with (a lead's PutItem counted its item some forty times over). The item is
  counted once, when the write's attributes are all set; past the limit the write is refused
  with moto's own error, and an update leaves the item as it was before it, as DynamoDB does
  (moto kept whatever the update had set before the attribute that crossed it). For that an
  update keeps a direct copy of the item while it runs: one copy, where moto counted the whole
  item once per attribute set.
- **A condition expression split into tokens once.** moto splits each ConditionExpression into
  tokens character run by character run, compiling its list of patterns for every token, twice
  per conditional write. An expression's tokens (immutable, and never changed by the passes
  that follow) are kept by its text; the parse that builds on them still runs on each request,
  with its own names and values.
- **An update expression parsed once.** moto parses each UpdateExpression into a tree twice per
  UpdateItem (once to list the names and values it uses, once to apply it). The tree holds the
  expression's placeholders, never their values, and nothing changes it: the answer only reads
  it, and the update works on a copy (moto's validator copies it first). It is kept by its text.
  That copy, a deep copy through the copy module's memo at every node and back up each node's
  parent link, is built directly: each node's type, its children copied, its parent the new one.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


SET_TYPES = frozenset({"SS", "NS", "BS"})
# Distinct expressions whose tokens or parse trees are kept: a deployment writes a few dozen.
MAX_EXPRESSIONS = 4096


def size_without_rewrapping() -> Any:
    """moto's DynamoType.size: the same count, without wrapping each nested value anew."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    def size(self: Any) -> int:
        kind, value = self.type, self.value
        if kind == "N":
            return len(str(value))
        if kind in SET_TYPES:  # each member counted as a value of the set's own type
            return sum(len(str(member)) if kind == "NS" else bytesize(member) for member in value)
        if kind == "L":
            return sum(member.size() for member in value)
        if kind == "M":
            return sum(
                bytesize(name) + (member if type(member) is DynamoType else DynamoType(member)).size()
                for name, member in value.items()
            )
        if isinstance(value, bool):
            return 1
        return bytesize(value)

    return size


# moto's limit (its comment: DynamoDB's 400 KB, measured to fall between 409 and 410 KB).
ITEM_SIZE_LIMIT = 405_000


class _Writing(threading.local):
    """Set while this thread builds or updates an item: its size is checked when that is done."""

    depth = 0


_writing = _Writing()


@contextmanager
def _size_checked_once(item: Any, restore: Callable[[], None] | None = None) -> Iterator[None]:
    """Run the body with the per-attribute check off; then count ``item`` once, and past the
    limit ``restore()`` it (if given) and raise moto's ItemSizeTooLarge."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge

    _writing.depth += 1
    try:
        yield
    finally:
        _writing.depth -= 1
    if _writing.depth == 0 and item.size() > ITEM_SIZE_LIMIT:
        if restore is not None:
            restore()
        raise ItemSizeTooLarge


def size_checked_once() -> tuple[Any, Any, Any]:
    """LimitedSizeDict.__setitem__, Item.__init__ and UpdateExpressionExecutor.execute, with the
    item counted once per write (see above)."""
    from moto.dynamodb.models.dynamo_type import Item

    setitem, init, execute = MOTO["set_attribute"], MOTO["build_item"], MOTO["execute_update"]

    def set_attribute(self: Any, key: str, value: Any) -> None:
        if _writing.depth:
            dict.__setitem__(self, key, value)
        else:
            setitem(self, key, value)

    def build_item(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        with _size_checked_once(self):
            init(self, hash_key, range_key, attrs)

    def execute_update(self: Any, node: Any = None) -> None:
        if node is not None:  # a subtree, inside the update's own run
            execute(self, node)
            return
        item = self.item
        before = Item.__deepcopy__(item, {})

        def restore() -> None:
            item.attrs = before.attrs

        with _size_checked_once(item, restore):
            execute(self)

    return set_attribute, build_item, execute_update


def copied_directly() -> tuple[Any, Any]:
    """moto's DynamoType.__deepcopy__ and Item.__deepcopy__, building each copy directly.

    DynamoDB values hold no cycles, so no memo is needed: a value held twice is copied twice,
    into two equal values.
    """
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    def value_copy(held: Any) -> Any:
        if type(held) is not DynamoType:
            return copy.deepcopy(held)
        new = DynamoType.__new__(DynamoType)
        new.type = kind = held.type
        value = held.value
        if kind == "L":
            new.value = [value_copy(member) for member in value]
        elif kind == "M":
            new.value = {name: value_copy(member) for name, member in value.items()}
        elif kind in SET_TYPES:
            new.value = list(value)
        else:  # a string, number, bytes, bool: immutable, shared as moto shares it
            new.value = value
        return new

    def item_copy(self: Any, memo: dict[int, Any]) -> Any:
        new: Any = Item.__new__(Item)
        new.hash_key = value_copy(self.hash_key)
        new.range_key = value_copy(self.range_key)
        attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(attrs)  # the item passed the size check when written
        for name, value in self.attrs.items():
            dict.__setitem__(attrs, name, value_copy(value))
        new.attrs = attrs
        return new

    return (lambda self, memo: value_copy(self)), item_copy


class KeptByText:
    """What a text builds (an expression's tokens, its parse tree), built once per text, for the
    first MAX_EXPRESSIONS texts. A text the build refuses raises each time, as moto does."""

    def __init__(self) -> None:
        self._kept: dict[str, Any] = {}

    def get(self, text: str, build: Callable[[], Any]) -> Any:
        found = self._kept.get(text)
        if found is None:
            found = build()
            if len(self._kept) < MAX_EXPRESSIONS:
                self._kept[text] = found
        return found


def lexed_once(lex: Any) -> Any:
    """moto's ConditionExpressionParser._lex_condition_expression, each expression's tokens
    found once: the tokens are namedtuples, and no later pass changes one or its children."""
    tokens = KeptByText()

    @functools.wraps(lex)
    def lexed(self: Any) -> deque[Any]:
        # The parse consumes its deque; the tokens stay.
        return deque(tokens.get(self.condition_expression, lambda: tuple(lex(self))))

    return lexed


def parsed_once(make: Any) -> Any:
    """moto's UpdateExpressionParser.make, each expression's tree built once (see above)."""
    trees = KeptByText()

    def parsed(cls: Any, expression: str) -> Any:
        return trees.get(expression, lambda: make(expression))

    return classmethod(parsed)


def tree_copied_directly(deepcopy: Any, node_type: Any) -> Any:
    """The copy module's deepcopy, for moto's update validator: a whole parse tree (a node with no
    parent) is copied directly; anything else (a value, a subtree) goes to ``deepcopy``. A tree's
    nodes hold only their type name (a string), their children (nodes, or strings at the leaves)
    and their parent."""

    def node_copy(node: Any, parent: Any) -> Any:
        new: Any = object.__new__(type(node))
        new.type = node.type
        new.parent = parent
        children = node.children
        new.children = (
            None
            if children is None
            else [node_copy(child, new) if isinstance(child, node_type) else child for child in children]
        )
        return new

    def copied(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, node_type) and value.parent is None and set(vars(value)) == NODE_ATTRIBUTES:
            return node_copy(value, None)
        return deepcopy(value, memo)

    return copied


NODE_ATTRIBUTES = frozenset({"type", "children", "parent"})

# moto's own versions of what install replaces, kept so a test can hold the two side by side.
MOTO: dict[str, Any] = {}


def install() -> None:
    """Apply the changes above (called once, under handoff.local.emulator.install's lock)."""
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]
    from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
    from moto.dynamodb.responses import DynamoHandler

    MOTO.update(
        serialized=DynamoHandler.serialized,
        project=Item.project,
        to_regular_json=DynamoType.to_regular_json,
        size=DynamoType.size,
        copy_item=Item.__deepcopy__,
        lex=ConditionExpressionParser._lex_condition_expression,
        parse_update=UpdateExpressionParser.make,
        validator_copy=getattr(validators, "deepcopy"),  # noqa: B009 - moto imports it, not exports
        set_attribute=LimitedSizeDict.__setitem__,
        build_item=Item.__init__,
        execute_update=UpdateExpressionExecutor.execute,
    )
    DynamoHandler.serialized = json_answers(DynamoHandler.serialized)  # type: ignore[method-assign]
    Item.project = project_converting_once  # type: ignore[method-assign]
    DynamoType.to_regular_json = to_regular_json_built_directly  # type: ignore[method-assign]
    DynamoType.size = size_without_rewrapping()  # type: ignore[method-assign]
    DynamoType.__deepcopy__, Item.__deepcopy__ = copied_directly()  # type: ignore[method-assign]
    ConditionExpressionParser._lex_condition_expression = lexed_once(  # type: ignore[method-assign]
        ConditionExpressionParser._lex_condition_expression
    )
    UpdateExpressionParser.make = parsed_once(UpdateExpressionParser.make)
    setattr(validators, "deepcopy", tree_copied_directly(MOTO["validator_copy"], Node))  # noqa: B010
    LimitedSizeDict.__setitem__, Item.__init__, UpdateExpressionExecutor.execute = size_checked_once()  # type: ignore[method-assign]
