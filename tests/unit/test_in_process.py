"""The local stack's AWS calls answered by moto in the process, and the calls left to HTTP.

Each test serves a port nothing listens on: a call answered there was answered in-process, and a
call left to HTTP fails to connect, so each test shows which way its call went.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from handoff.local import in_process
from handoff.local.stack import free_port

REGION = "eu-west-3"  # a region no other test writes to: moto's backends outlive a test
ONE_ATTEMPT = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1)


@pytest.fixture
def port() -> Iterator[int]:
    served = free_port()
    in_process.serve(served)
    yield served
    in_process.stop_serving(served)


def _client(service: str, port: int, **config: Any) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=ONE_ATTEMPT.merge(Config(**config)),
    )


def test_a_call_to_a_served_port_is_answered_from_moto_s_state_without_a_connection(port: int) -> None:
    dynamodb = _client("dynamodb", port)
    dynamodb.create_table(
        TableName="in-process",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="in-process", Item={"pk": {"S": "lead#1"}, "status": {"S": "routing"}})
    item = dynamodb.get_item(TableName="in-process", Key={"pk": {"S": "lead#1"}})["Item"]
    assert item["status"] == {"S": "routing"}
    with pytest.raises(ClientError) as refused:  # moto's errors come back as AWS's, not as exceptions
        dynamodb.describe_table(TableName="no-such-table")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_ses_signs_as_ses_but_is_found_at_email_s_host(port: int) -> None:
    _client("ses", port).verify_email_identity(EmailAddress="briefs@example.com")
    identities = _client("sesv2", port).list_email_identities()["EmailIdentities"]
    assert "briefs@example.com" in [identity["IdentityName"] for identity in identities]


def test_a_port_no_longer_served_goes_over_http(port: int) -> None:
    in_process.stop_serving(port)
    with pytest.raises(EndpointConnectionError):
        _client("dynamodb", port).list_tables()


def test_an_unsigned_call_goes_over_http_as_nothing_names_its_service(port: int) -> None:
    with pytest.raises(EndpointConnectionError):
        _client("sts", port, signature_version=UNSIGNED).get_caller_identity()


def test_a_failure_inside_moto_is_aws_s_500_which_the_sdk_may_retry(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core.models import botocore_stubber

    def broken(request: Any) -> None:
        raise KeyError("a backend's bug")

    monkeypatch.setattr(botocore_stubber, "process_request", broken)
    with pytest.raises(ClientError) as failed:
        _client("dynamodb", port).list_tables()
    assert failed.value.response["Error"]["Code"] == "InternalFailure"
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_a_client_s_own_before_send_hook_answers_first(port: int) -> None:
    """The benchmark injects throttles this way: they must still reach the handler."""
    dynamodb = _client("dynamodb", port)
    body = b'{"__type": "ThrottlingException", "message": "injected"}'

    def throttle(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(
            request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"}, in_process.StreamedBody(body)
        )

    dynamodb.meta.events.register_first("before-send.dynamodb.ListTables", throttle)
    with pytest.raises(ClientError) as throttled:
        dynamodb.list_tables()
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
