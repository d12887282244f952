"""The local emulator's changes to moto: what AWS does, where moto does otherwise."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from handoff.local.emulator import (
    INVOKE_POOL,
    _backend_remembered,
    _failed_invoke_as_aws_names_it,
    _invoke_client_per_region,
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


def test_the_workflows_lambda_client_is_made_once_per_region_with_a_pool_for_the_concurrency() -> None:
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    made: list[tuple[str, str]] = []

    def moto_factory(region: str, service: str, state_credentials: Any = None) -> Any:
        made.append((region, service))
        return boto_client_for(region, service, state_credentials)

    client_for = _invoke_client_per_region(moto_factory)
    first = client_for(region="us-east-1", service="lambda")
    assert all(client_for(region="us-east-1", service="lambda") is first for _ in range(5))
    other = client_for(region="eu-west-1", service="lambda")
    assert other is not first and made == [("us-east-1", "lambda"), ("eu-west-1", "lambda")]
    # moto's settings kept (no retries: the workflow's retriers own them), the pool widened.
    assert first.meta.config.retries["total_max_attempts"] == 1
    assert first.meta.config.max_pool_connections == INVOKE_POOL


def test_a_jsonpath_is_parsed_once_and_still_reads_each_input() -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    from handoff.local import emulator

    emulator.install()
    parse = vars(json_path)["parse"]
    assert parse("$.lead.owner") is parse("$.lead.owner")
    assert json_path.extract_json("$.lead.owner", {"lead": {"owner": "r1"}}) == "r1"
    assert json_path.extract_json("$.lead.owner", {"lead": {"owner": "r2"}}) == "r2"
