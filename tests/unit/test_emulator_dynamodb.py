"""The emulator's cheaper DynamoDB (handoff.local.emulator_dynamodb) answers as moto does: each
answer of a workload over every attribute type, written both ways and read back by botocore's
own parser, comes out the same; projections and conversions match moto's own functions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import botocore.parsers
import botocore.session
import pytest
from moto import mock_aws

from handoff.local import emulator, emulator_dynamodb

TABLE = "leads"
# Every AttributeValue type, nested inside maps and lists too.
ITEM: dict[str, Any] = {
    "pk": {"S": "ld_1"},
    "n": {"N": "12.50"},
    "attachment": {"B": b"\x00\xffbinary"},
    "attachments": {"BS": [b"a", b"\x01"]},
    "names": {"SS": ["r1", "r2"]},
    "scores": {"NS": ["1", "2.5"]},
    "nothing": {"NULL": True},
    "yes": {"BOOL": True},
    "status": {"S": "notified"},
    "owner": {"S": "r1"},
    "timeline": {
        "L": [
            {"M": {"event": {"S": "received"}, "at": {"S": "2026-12-01T00:00:00Z"}}},
            {"M": {"event": {"S": "notified"}, "tags": {"L": [{"S": "a"}, {"N": "3"}, {"NULL": True}]}}},
        ]
    },
    "assignment": {"M": {"rep": {"M": {"id": {"S": "r1"}, "weights": {"NS": ["1"]}}}, "round": {"N": "0"}}},
}


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any, Any]]]:
    """Each answer moto writes, written by moto's serializer and by the JSON one."""
    from moto.dynamodb.responses import DynamoHandler

    emulator.install()
    moto_serialized = emulator_dynamodb.MOTO["serialized"]
    as_json = emulator_dynamodb.json_answers(moto_serialized)
    written: list[tuple[str, Any, Any]] = []

    def both(self: Any, action_result: Any) -> Any:
        fast = as_json(self, action_result)
        written.append((self._get_action(), moto_serialized(self, action_result), fast))
        return fast

    monkeypatch.setattr(DynamoHandler, "serialized", both)
    with mock_aws():
        yield written


def _parsed(operation: str, answer: Any) -> Any:
    status, headers, body = answer
    model = botocore.session.get_session().get_service_model("dynamodb").operation_model(operation)
    raw = {
        "status_code": status,
        "headers": headers,
        "body": body.encode() if isinstance(body, str) else body,
    }
    parsed = botocore.parsers.create_parser("json").parse(raw, model.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def _workload(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "owner", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_status",
                "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["assignment", "n"]},
            },
            {
                "IndexName": "by_owner",
                "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(3):
        client.put_item(TableName=TABLE, Item={**ITEM, "pk": {"S": f"ld_{i}"}})
    key = {"pk": {"S": "ld_0"}}
    client.put_item(TableName=TABLE, Item=ITEM, ReturnValues="ALL_OLD", ReturnConsumedCapacity="TOTAL")
    client.get_item(TableName=TABLE, Key=key)
    client.get_item(TableName=TABLE, Key={"pk": {"S": "missing"}})
    client.get_item(
        TableName=TABLE,
        Key=key,
        ProjectionExpression="assignment.rep.id, timeline[1].tags, attachment",
        ReturnConsumedCapacity="INDEXES",
    )
    for returning in ("ALL_NEW", "ALL_OLD", "UPDATED_NEW", "NONE"):
        client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET n = n + :one, timeline = list_append(timeline, :more)",
            ExpressionAttributeValues={":one": {"N": "1"}, ":more": {"L": [{"M": {"event": {"S": "x"}}}]}},
            ReturnValues=returning,
        )
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET #s = :s",
            ConditionExpression="#s = :other",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "closed"}, ":other": {"S": "open"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    # An INCLUDE index read a page at a time, and a KEYS_ONLY one that finds nothing.
    for index, attribute, value, page in (
        ("by_status", "status", "notified", 2),
        ("by_owner", "owner", "nobody", 10),
    ):
        client.query(
            TableName=TABLE,
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": attribute},
            ExpressionAttributeValues={":v": {"S": value}},
            Limit=page,
        )
    client.scan(
        TableName=TABLE,
        ProjectionExpression="pk, scores, yes, #n",
        ExpressionAttributeNames={"#n": "nothing"},
    )
    client.batch_get_item(RequestItems={TABLE: {"Keys": [key, {"pk": {"S": "ld_1"}}]}})
    client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": {**ITEM, "pk": {"S": "ld_9"}}}}]})
    client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": key}}])
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {**ITEM, "pk": {"S": "ld_8"}}}},
            {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "ld_9"}}}},
        ]
    )
    client.delete_item(TableName=TABLE, Key={"pk": {"S": "ld_2"}}, ReturnValues="ALL_OLD")
    client.describe_table(TableName=TABLE)


def test_every_answer_reads_back_as_moto_s_own(answers: list[tuple[str, Any, Any]]) -> None:
    _workload(boto3.client("dynamodb", region_name="us-east-1"))
    seen = {operation for operation, _, _ in answers}
    assert seen >= emulator_dynamodb.JSON_ANSWERS
    for operation, by_moto, as_json in answers:
        assert _parsed(operation, as_json) == _parsed(operation, by_moto), operation
    # The workload's values made it through both: binary as bytes, numbers as strings.
    got = next(_parsed(op, fast) for op, _, fast in answers if op == "GetItem")["Item"]
    assert got["attachment"] == {"B": b"\x00\xffbinary"} and got["n"] == {"N": "12.50"}


def test_an_error_is_still_written_by_moto(answers: list[tuple[str, Any, Any]]) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_item(TableName="no-such-table", Key={"pk": {"S": "x"}})
    # moto raised before any answer was built: nothing was written the JSON way.
    assert all(by_moto == as_json for _, by_moto, as_json in answers)


def _items() -> list[Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    attrs = {name: DynamoType(value) for name, value in ITEM.items()}
    # Binary values as moto holds them when they came off the wire: base64 text.
    attrs["attachment"] = DynamoType({"B": "AP9iaW5hcnk="})
    return [Item(hash_key=attrs["pk"], range_key=None, attrs=attrs)]


def _members_sorted(value: Any) -> Any:
    """``value`` with each set's members in order: a DynamoDB set has none, and two Python sets of
    the same strings may list them in either order (it changes with the hash seed)."""
    if isinstance(value, dict):
        return {
            k: sorted(v) if k in emulator_dynamodb.SET_TYPES else _members_sorted(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_members_sorted(v) for v in value]
    return value


@pytest.mark.parametrize(
    "paths",
    [
        [["pk"], ["assignment"], ["n"]],
        [["assignment", "rep", "id"], ["assignment", "round"], ["assignment", "rep"]],
        [["timeline[1]", "tags"], ["timeline[0]"], ["attachment"], ["names"]],
        [["missing"], ["nothing"], ["yes"]],
    ],
)
def test_a_projection_and_a_conversion_match_moto_s(paths: list[list[str]]) -> None:
    emulator.install()
    for item in _items():
        ours, motos = item.project(paths).to_json(), emulator_dynamodb.MOTO["project"](item, paths).to_json()
        assert _members_sorted(ours) == _members_sorted(motos)
        for value in item.attrs.values():
            assert value.to_regular_json() == emulator_dynamodb.MOTO["to_regular_json"](value)
    # Converting builds a new value: changing it leaves the stored item as it was.
    [item] = _items()
    converted = item.attrs["assignment"].to_regular_json()
    converted["M"]["rep"]["M"]["id"]["S"] = "changed"
    assert item.attrs["assignment"].to_regular_json()["M"]["rep"]["M"]["id"]["S"] == "r1"


def test_a_size_is_moto_s_count_at_every_level() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    emulator.install()
    motos_size = emulator_dynamodb.MOTO["size"]
    values = [DynamoType(value) for value in ITEM.values()]
    values += [
        DynamoType({"S": "naïve ünïcode"}),
        DynamoType({"N": "-1.5E+3"}),
        DynamoType({"B": "AP9iaW5hcnk="}),
    ]
    for value in values:
        assert value.size() == motos_size(value) > 0
    [item] = _items()
    assert item.size() == sum(len(name) + motos_size(value) for name, value in item.attrs.items())


def _table() -> Any:
    """A client, and the table TABLE (inside mock_aws)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def test_an_update_past_400_kb_changes_nothing_as_dynamodb_refuses_it() -> None:
    emulator.install()
    with mock_aws():
        client = _table()
        page = {"S": "x" * 1_000}
        near = {"pk": {"S": "ld_1"}, "timeline": {"L": [{"M": {"note": page}}] * 390}}
        client.put_item(TableName=TABLE, Item=near)
        with pytest.raises(client.exceptions.ClientError, match="size"):
            client.update_item(
                TableName=TABLE,
                Key={"pk": {"S": "ld_1"}},
                # The first attribute fits; the second crosses the limit. moto kept the first.
                UpdateExpression="SET status_note = :small, more = :more",
                ExpressionAttributeValues={":small": {"S": "set"}, ":more": {"L": [page] * 20}},
            )
        assert client.get_item(TableName=TABLE, Key={"pk": {"S": "ld_1"}})["Item"] == near


def test_a_new_item_past_400_kb_is_refused() -> None:
    emulator.install()
    with mock_aws():
        client = _table()
        too_big = {"pk": {"S": "ld_1"}, "timeline": {"L": [{"S": "x" * 1_000}] * 420}}
        with pytest.raises(client.exceptions.ClientError, match="size"):
            client.put_item(TableName=TABLE, Item=too_big)
        assert "Item" not in client.get_item(TableName=TABLE, Key={"pk": {"S": "ld_1"}})


def test_an_item_is_counted_once_per_write(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    emulator.install()
    counted: list[str] = []
    size = DynamoType.size

    def counting(self: DynamoType) -> int:
        counted.append(self.type)
        return size(self)

    monkeypatch.setattr(DynamoType, "size", counting)
    attributes = {f"field_{n}": {"S": f"value {n}"} for n in range(40)}
    Item(DynamoType({"S": "ld_1"}), None, attributes)
    # Once per attribute, when all are set; moto counted the item so far at each of them (820).
    assert len(counted) == len(attributes)


def test_a_condition_is_split_once_and_each_parse_reads_its_own_values() -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    emulator.install()
    expression = "#s = :wanted AND attribute_not_exists(closed_at) OR size(#s) > :long"
    tokens = ConditionExpressionParser(expression, {"#s": "status"}, {})._lex_condition_expression()
    assert list(tokens) == list(emulator_dynamodb.MOTO["lex"](ConditionExpressionParser(expression, {}, {})))
    again = ConditionExpressionParser(expression, {"#s": "status"}, {})._lex_condition_expression()
    assert [id(token) for token in again] == [id(token) for token in tokens]  # kept, not split again

    item = Item(DynamoType({"S": "ld_1"}), None, {"pk": {"S": "ld_1"}, "status": {"S": "routing"}})

    def holds(wanted: str) -> bool:
        values = {":wanted": {"S": wanted}, ":long": {"N": "20"}}
        return bool(ConditionExpressionParser(expression, {"#s": "status"}, values).parse().expr(item))

    assert holds("routing") and not holds("assigned")
    with pytest.raises(ValueError, match="Cannot parse"):  # still moto's error, every time
        ConditionExpressionParser("#s = :v ~ !", {"#s": "status"}, {":v": {"S": "a"}}).parse()


def test_an_update_expression_is_parsed_once_and_each_update_applies_its_own_values() -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    emulator.install()
    expression = "SET #s = :status, n = n + :one REMOVE closed_at ADD #names :name"
    tree = UpdateExpressionParser.make(expression)
    assert UpdateExpressionParser.make(expression) is tree  # kept, not parsed again
    as_parsed = _shape(emulator_dynamodb.MOTO["parse_update"](expression))
    assert _shape(tree) == as_parsed
    with mock_aws():
        client = _table()
        client.put_item(TableName=TABLE, Item=ITEM)
        for status, name in (("assigned", "r3"), ("notified", "r4")):
            client.update_item(
                TableName=TABLE,
                Key={"pk": {"S": "ld_1"}},
                UpdateExpression=expression,
                ExpressionAttributeNames={"#s": "status", "#names": "names"},
                ExpressionAttributeValues={
                    ":status": {"S": status},
                    ":one": {"N": "1"},
                    ":name": {"SS": [name]},
                },
            )
            stored = client.get_item(TableName=TABLE, Key={"pk": {"S": "ld_1"}})["Item"]
            assert stored["status"] == {"S": status} and name in stored["names"]["SS"]
        assert float(stored["n"]["N"]) == 14.5  # 12.50 + 1, twice
        with pytest.raises(client.exceptions.ClientError, match="ValidationException"):
            client.update_item(  # still moto's refusal, every time
                TableName=TABLE, Key={"pk": {"S": "ld_1"}}, UpdateExpression="SET = :v ~"
            )
    assert _shape(tree) == as_parsed  # the updates worked on copies: the kept tree is as parsed


def test_the_validator_s_copy_of_a_tree_is_moto_s_and_shares_no_node() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    emulator.install()
    tree = UpdateExpressionParser.make(
        "SET #s = :s, a.b[2] = if_not_exists(c, :zero) + :one, t = list_append(t, :tl) REMOVE x[1] ADD #n :n"
    )
    mine, motos = validators.deepcopy(tree), emulator_dynamodb.MOTO["validator_copy"](tree)
    assert _shape(mine) == _shape(motos) == _shape(tree)

    def nodes(node: Any) -> list[Any]:
        below = [n for child in node.children or () if hasattr(child, "children") for n in nodes(child)]
        return [node, *below]

    originals = {id(n) for n in nodes(tree)}
    assert mine.parent is None and not originals & {id(n) for n in nodes(mine)}
    assert all(
        child.parent is node
        for node in nodes(mine)
        for child in node.children or ()
        if hasattr(child, "children")
    )
    # Anything else is copied as moto copies it: a subtree (with its parents) and a value.
    subtree = tree.children[0]
    assert _shape(validators.deepcopy(subtree).parent) == _shape(tree)
    value = DynamoType({"L": [{"S": "a"}]})
    assert validators.deepcopy(value) == value and validators.deepcopy(value) is not value


def _shape(node: Any) -> Any:
    """A parse tree as plain values: each node's type and its children, in order."""
    if not hasattr(node, "children"):
        return node
    return (type(node).__name__, tuple(_shape(child) for child in node.children or ()))


def test_a_copy_equals_moto_s_and_shares_nothing_that_can_change() -> None:
    import copy

    emulator.install()
    [item] = _items()
    mine = copy.deepcopy(item)
    motos = emulator_dynamodb.MOTO["copy_item"](item, {})
    assert mine.to_json() == motos.to_json() == item.to_json()
    assert (mine.hash_key, mine.range_key) == (item.hash_key, None)
    # Changing the copy at any depth leaves the original as it was.
    mine.attrs["timeline"].value[1].value["tags"].value.append(mine.attrs["n"])
    mine.attrs["assignment"].value["rep"].value["weights"].value.append("2")
    mine.attrs["names"].value.append("r3")
    mine.attrs["status"] = type(mine.attrs["status"])({"S": "closed"})
    assert item.to_json() == motos.to_json()
    value = item.attrs["assignment"]
    assert copy.deepcopy(value) == value and copy.deepcopy(value) is not value
