"""The local emulator's changes to moto: what AWS does, where moto does otherwise."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from handoff.local import emulator
from handoff.local.emulator import (
    _backend_remembered,
    _failed_invoke_as_aws_names_it,
    _method_names_listed_once,
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


def test_a_handler_class_s_operations_are_listed_once_with_the_same_names() -> None:
    from moto.core.utils import method_names_from_class
    from moto.dynamodb.responses import DynamoHandler
    from moto.sesv2.responses import SESV2Response

    listed: list[object] = []

    def moto_listing(clazz: object) -> list[str]:
        listed.append(clazz)
        return method_names_from_class(clazz)

    names = _method_names_listed_once(moto_listing)
    for _ in range(3):
        assert names(DynamoHandler) == frozenset(method_names_from_class(DynamoHandler))
        assert names(SESV2Response) == frozenset(method_names_from_class(SESV2Response))
    assert "update_item" in names(DynamoHandler) and "send_email" in names(SESV2Response)
    assert listed == [DynamoHandler, SESV2Response]  # each class listed once
    emulator.install()
    from moto.core import responses

    assert responses.method_names_from_class(DynamoHandler) is responses.method_names_from_class(
        DynamoHandler
    )


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


def test_a_query_answers_as_it_did_over_the_table_listed_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Query lists the table's items unsorted: every answer, page by page, on the table and on an
    index whose keys many items share, is the one the ordered listing gave."""
    import random

    import boto3
    from moto import mock_aws
    from moto.dynamodb.models.table import Table

    emulator.install()
    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="leads",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "n", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": t, "AttributeType": k} for t, k in (("pk", "S"), ("n", "N"), ("owner", "S"))
            ]
            + [{"AttributeName": "at", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_owner",
                    "KeySchema": [
                        {"AttributeName": "owner", "KeyType": "HASH"},
                        {"AttributeName": "at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        shuffled = random.Random(7)
        for i in range(120):
            item = {"pk": {"S": f"lead-{shuffled.randint(0, 9)}"}, "n": {"N": str(shuffled.randint(0, 40))}}
            if i % 5:  # some items are not in the index at all
                item["owner"] = {"S": shuffled.choice(["rep-a", "rep-b"])}
                item["at"] = {"S": f"2026-12-0{shuffled.randint(1, 3)}"}  # many share an index key
            client.put_item(TableName="leads", Item=item)
        queries: list[dict[str, Any]] = [
            {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "lead-3"}}},
            {
                "IndexName": "by_owner",
                "KeyConditionExpression": "#o = :o AND #a <= :a",
                "ExpressionAttributeNames": {"#o": "owner", "#a": "at"},
                "ExpressionAttributeValues": {":o": {"S": "rep-a"}, ":a": {"S": "2026-12-02"}},
                "ScanIndexForward": False,
            },
            {
                "IndexName": "by_owner",
                "KeyConditionExpression": "#o = :o",
                "ExpressionAttributeNames": {"#o": "owner"},
                "ExpressionAttributeValues": {":o": {"S": "rep-b"}},
            },
        ]

        def pages() -> list[list[Any]]:
            answers = []
            for query in queries:
                start: dict[str, Any] = {}
                while True:
                    page = client.query(TableName="leads", Limit=7, **query, **start)
                    answers.append(page["Items"])
                    if "LastEvaluatedKey" not in page:
                        break
                    start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
            return answers

        unsorted = pages()
        monkeypatch.setattr(Table, "query", Table.query.__wrapped__)  # type: ignore[attr-defined]
        assert unsorted == pages() and sum(map(len, unsorted)) > 60


STARTS = 16


def test_starts_of_one_execution_name_at_once_make_one_execution() -> None:
    """AWS keeps an execution's name unique; sixteen starts of one lead at once run it once, and
    each gets the one execution back (same name, same input)."""
    import copy
    import json
    import threading
    import time
    from types import SimpleNamespace
    from unittest import mock

    import boto3
    from moto import mock_aws
    from moto.stepfunctions.parser import models as parser_models

    from handoff.local import emulator

    emulator.install()
    definition = json.dumps(
        {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 5, "End": True}}}
    )
    with mock_aws():
        backend = parser_models.stepfunctions_parser_backends["123456789012"]["us-east-1"]
        iam: Any = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        machine = backend.create_state_machine("handoff", definition, role)
        barrier = threading.Barrier(STARTS)
        answers: list[str] = []

        def start() -> None:
            barrier.wait()
            answers.append(
                backend.start_execution(machine.arn, name="ld_1", execution_input="{}").execution_arn
            )

        threads = [threading.Thread(target=start) for _ in range(STARTS)]

        # moto copies the state machine between its check of the name and its record of the
        # execution; a loaded process can switch threads there, so the copy yields.
        def copy_then_yield(*args: Any, **kwargs: Any) -> Any:
            time.sleep(0.02)
            return copy.deepcopy(*args, **kwargs)

        with mock.patch.object(parser_models, "copy", SimpleNamespace(deepcopy=copy_then_yield)):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        try:
            assert len(answers) == STARTS and len(set(answers)) == 1
            assert [e.name for e in machine.executions] == ["ld_1"]
        finally:
            for execution in machine.executions:
                backend.stop_execution(execution.execution_arn)


def test_moto_s_server_takes_a_burst_of_connections() -> None:
    from werkzeug.serving import BaseWSGIServer

    from handoff.local import emulator
    from handoff.local.loopback import LISTEN_BACKLOG

    emulator.install()
    assert BaseWSGIServer.request_queue_size == LISTEN_BACKLOG >= 1000


def _built_by_callers_at_once(monkeypatch: pytest.MonkeyPatch, built_class: type, build: Any) -> list[str]:
    """The services ``built_class`` was built for while eight callers ran ``build`` at once,
    each build slowed so that every caller arrives while the first is under way; the callers
    must all get the same object."""
    built: list[str] = []
    init = built_class.__init__

    def counted(self: Any, model: Any) -> None:
        built.append(model.service_name)
        time.sleep(0.05)
        init(self, model)

    monkeypatch.setattr(built_class, "__init__", counted)
    emulator.install()
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: build(), range(8)))
    assert all(r is found[0] for r in found)
    return built


def test_a_service_s_operation_router_is_built_once_by_callers_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """moto builds it on first use without a lock: a burst's first emails each built SES's."""
    from moto.core import routing
    from moto.core.utils import get_service_model

    router = routing.ServiceOperationRouter(get_service_model("sesv2"))
    built = _built_by_callers_at_once(
        monkeypatch, routing.RestRouter, lambda: router._get_router("rest-json")
    )
    assert built == ["sesv2"]


def test_a_service_s_router_is_made_once_when_its_first_requests_come_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """moto caches each service's router with functools.cache, which builds in every thread that
    asks before the first build ends: the first burst of briefs built SES v2's 32 times."""
    from moto.core import responses, routing

    built = _built_by_callers_at_once(
        monkeypatch, routing.ServiceOperationRouter, lambda: responses.get_service_router("glacier")
    )
    assert built == ["glacier"]
