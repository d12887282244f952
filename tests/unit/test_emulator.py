"""The local emulator's changes to moto: what AWS does, where moto does otherwise."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from handoff.local.emulator import (
    _backend_remembered,
    _failed_invoke_as_aws_names_it,
)


def test_a_dropped_invoke_is_lambda_sdk_client_exception_which_every_step_retries() -> None:
    seen: list[Exception] = []

    def moto_from_error(self: Any, env: Any, ex: Exception) -> str:
        seen.append(ex)
        return "event"

    named = _failed_invoke_as_aws_names_it(moto_from_error)
    assert named(None, None, EndpointConnectionError(endpoint_url="http://127.0.0.1:1/")) == "event"
    [error] = seen
    assert isinstance(error, ClientError) and error.response["Error"]["Code"] == "SdkClientException"
    other = ValueError("a handler's own error")
    named(None, None, other)
    assert seen[-1] is other  # anything else is moto's to name, as before


def test_which_service_a_host_names_is_worked_out_once_per_host() -> None:
    asked: list[str | None] = []

    def moto_lookup(self: Any, host: str | None) -> str | None:
        asked.append(host)
        return None if host is None else host.split(".")[0]

    lookup = _backend_remembered(moto_lookup)
    hosts = ["dynamodb.us-east-1.amazonaws.com", "states.us-east-1.amazonaws.com", None]
    answers = [lookup(None, host) for host in hosts * 3]
    assert answers == ["dynamodb", "states", None] * 3
    assert asked == hosts  # each host once, a None answer included


def test_a_jsonpath_is_parsed_once_and_still_reads_each_input() -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    from handoff.local import emulator

    emulator.install()
    parse = vars(json_path)["parse"]
    assert parse("$.lead.owner") is parse("$.lead.owner")
    assert json_path.extract_json("$.lead.owner", {"lead": {"owner": "r1"}}) == "r1"
    assert json_path.extract_json("$.lead.owner", {"lead": {"owner": "r2"}}) == "r2"


def test_a_tables_items_come_in_moto_s_own_key_order() -> None:
    import random

    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    from handoff.local.emulator import _all_items_in_key_order

    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name="us-east-1")
        for name, keys in (
            ("pairs", [("pk", "S", "HASH"), ("n", "N", "RANGE")]),
            ("singles", [("pk", "S", "HASH")]),
        ):
            client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": k, "KeyType": role} for k, _, role in keys],
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": t} for k, t, _ in keys],
                BillingMode="PAY_PER_REQUEST",
            )
        rows = [(f"lead-{random.randint(0, 30)}", random.choice([2, 10, 1, 33, 4])) for _ in range(80)]
        for pk, n in rows:
            client.put_item(TableName="pairs", Item={"pk": {"S": pk}, "n": {"N": str(n)}})
            client.put_item(TableName="singles", Item={"pk": {"S": pk}})
        for name in ("pairs", "singles"):
            table = dynamodb_backends["123456789012"]["us-east-1"].tables[name]
            items: list[Any] = [
                i for s in table.items.values() for i in (s.values() if table.range_key_attr else [s])
            ]
            # moto's own order: its DynamoType comparisons (numbers as numbers: 2 before 10).
            expected = sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
            assert _all_items_in_key_order(table) == expected
