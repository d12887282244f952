"""The local emulator's changes to moto: what AWS does, where moto does otherwise."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from handoff.local.emulator import _failed_invoke_as_aws_names_it


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
