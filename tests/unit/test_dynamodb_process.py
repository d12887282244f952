"""The local stack's DynamoDB in a process of its own (handoff.local.dynamodb_process): calls
addressed to the stack's endpoint reach the child's tables, once each, with AWS's answers."""

from __future__ import annotations

import io
import json
import stat
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from werkzeug.test import Client

from handoff.local import dynamodb_process, in_process
from handoff.local.dynamodb_process import DynamoDBProcess
from handoff.local.stack import free_port

REGION = "ap-south-2"  # a region no other test writes to: moto's backends outlive a test
COUNTER = "tests.unit.dynamodb_extension:count_actions"
READY = "tests.unit.dynamodb_extension:say_ready"
ONE_ATTEMPT = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1)
SIGNED = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    "Authorization": f"AWS4-HMAC-SHA256 Credential=local/20261202/{REGION}/dynamodb/aws4_request, "
    "SignedHeaders=host, Signature=0",
}


@pytest.fixture(scope="module")
def child() -> Iterator[DynamoDBProcess]:
    process = DynamoDBProcess((COUNTER, READY))
    process.launch()
    process.wait_ready()
    yield process
    process.stop()


@pytest.fixture
def dynamodb(child: DynamoDBProcess) -> Iterator[Any]:
    """A client of a stack endpoint whose DynamoDB is the child."""
    port = free_port()
    in_process.serve(port)
    child.forward_here()
    yield boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=ONE_ATTEMPT,
    )
    child.stop_forwarding()
    in_process.stop_serving(port)


def _table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _counted(child: DynamoDBProcess) -> dict[str, int]:
    counted: dict[str, int] = child.report()[COUNTER]
    return counted


def test_calls_to_the_stack_s_endpoint_are_kept_in_the_child_not_in_this_process(
    child: DynamoDBProcess, dynamodb: Any
) -> None:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    _table(dynamodb, "kept-there")
    dynamodb.put_item(TableName="kept-there", Item={"pk": {"S": "lead#1"}, "status": {"S": "routing"}})
    item = dynamodb.get_item(TableName="kept-there", Key={"pk": {"S": "lead#1"}})["Item"]
    assert item["status"] == {"S": "routing"}
    assert "kept-there" not in dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables
    assert _counted(child)["GetItem"] >= 1


def test_the_child_answers_with_aws_s_errors(dynamodb: Any) -> None:
    _table(dynamodb, "errors")
    with pytest.raises(ClientError) as missing:
        dynamodb.describe_table(TableName="no-such-table")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    dynamodb.put_item(TableName="errors", Item={"pk": {"S": "lead#1"}})
    with pytest.raises(ClientError) as taken:
        dynamodb.put_item(
            TableName="errors", Item={"pk": {"S": "lead#1"}}, ConditionExpression="attribute_not_exists(pk)"
        )
    assert taken.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_a_write_is_applied_once_when_the_answering_hook_is_registered_twice(
    child: DynamoDBProcess, dynamodb: Any
) -> None:
    """botocore runs every before-send handler, even after one has answered; a second copy of
    the hook must see an answered request as AWS's, not send it to the child again."""
    _table(dynamodb, "once")
    dynamodb.meta.events.register_last("before-send", in_process.answer, unique_id="a-second-copy")
    before = _counted(child).get("PutItem", 0)
    dynamodb.put_item(
        TableName="once", Item={"pk": {"S": "lead#1"}}, ConditionExpression="attribute_not_exists(pk)"
    )
    assert _counted(child)["PutItem"] == before + 1


def test_moto_s_server_passes_dynamodb_requests_on_to_the_child(
    child: DynamoDBProcess, dynamodb: Any
) -> None:
    """Another process (a CLI, a test's client) reaches DynamoDB through the stack's moto server."""
    _table(dynamodb, "over-http")
    answer = Client(dynamodb_process.wsgi_app(child)).post("/", data=b"{}", headers=SIGNED)
    assert answer.status_code == 200
    assert "over-http" in json.loads(answer.data)["TableNames"]


def test_an_unsigned_request_is_refused_with_a_4xx(child: DynamoDBProcess) -> None:
    status, _, body = child.send("POST", "/", {"Content-Type": "application/x-amz-json-1.0"}, b"{}")
    assert status == 400
    assert json.loads(body)["__type"] == "UnrecognizedClientException"


def test_a_report_names_each_extension_or_only_the_one_asked_for(child: DynamoDBProcess) -> None:
    assert set(child.report()) == {COUNTER, READY}
    assert child.report(only=READY) == {READY: "ready"}
    with pytest.raises(RuntimeError, match="answered 404"):
        child.report(only="tests.unit.dynamodb_extension:not_started")


def test_an_extension_that_fails_stops_the_start_with_a_clear_error() -> None:
    process = DynamoDBProcess(("tests.unit.dynamodb_extension:fail_to_start",))
    process.launch()
    with pytest.raises(RuntimeError, match="the DynamoDB process did not start"):
        process.wait_ready()


def test_the_child_exits_with_its_stack_and_later_calls_fail_to_connect() -> None:
    process = DynamoDBProcess()
    process.launch()
    process.wait_ready()
    running = process._child
    assert running is not None and running.poll() is None
    socket_path = Path(process.socket_path)
    assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700  # only this user reaches it
    process.stop()
    assert running.returncode == 0
    assert not socket_path.parent.exists()  # nothing left behind
    with pytest.raises(EndpointConnectionError):  # the SDK retries this, as on AWS
        process.send("POST", "/", SIGNED, b"{}")


def test_a_frame_cut_short_is_a_dropped_connection_not_an_answer() -> None:
    whole = io.BytesIO()
    head = json.dumps({"status": 200, "headers": {}}).encode()
    whole.write(struct.pack("!II", len(head), 5) + head + b"12345")
    assert dynamodb_process._read_frame(io.BytesIO(whole.getvalue())) == (
        {"status": 200, "headers": {}},
        b"12345",
    )
    for cut in (0, 3, len(whole.getvalue()) - 1):
        with pytest.raises(ValueError, match="closed"):
            dynamodb_process._read_frame(io.BytesIO(whole.getvalue()[:cut]))


def test_calls_from_one_thread_after_another_share_one_kept_connection(child: DynamoDBProcess) -> None:
    """The workflow runs each step on a new thread: a connection kept per thread was a new TCP
    connection (and a new serving thread in the child) for every step."""
    opened = child.opened
    for _ in range(5):
        caller = threading.Thread(target=lambda: child.send("POST", "/", SIGNED, b"{}"))
        caller.start()
        caller.join()
    assert child.opened - opened <= 1


def test_calls_at_once_each_get_a_connection_and_all_are_kept(child: DynamoDBProcess) -> None:
    opened, ready = child.opened, threading.Barrier(4)
    answers: list[int] = []

    def call() -> None:
        ready.wait()
        answers.append(child.send("POST", "/", SIGNED, b"{}")[0])

    callers = [threading.Thread(target=call) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert answers == [200] * 4
    assert 1 <= child.opened - opened <= 4
    after = child.opened
    for _ in range(4):
        child.send("POST", "/", SIGNED, b"{}")
    assert child.opened == after  # every connection made went back to be kept
