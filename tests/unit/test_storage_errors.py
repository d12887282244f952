"""handoff.aws.dynamo.storage_errors: botocore's failures as the domain's, naming the operation
and the code (what a log line or a failed lead may show), never the request's values."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from handoff.aws.dynamo import storage_errors
from handoff.errors import AlreadyExists, ClaimConflict, StorageError, StorageThrottled


def _refused(code: str, operation: str, message: str = "buyer@northwind.example is not valid") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def test_a_refusal_names_the_operation_and_the_code_and_not_the_request() -> None:
    with pytest.raises(StorageError) as refused, storage_errors():
        raise _refused("ValidationException", "Query")
    assert str(refused.value) == "DynamoDB Query ValidationException"
    with pytest.raises(StorageThrottled) as throttled, storage_errors():
        raise _refused("ProvisionedThroughputExceededException", "UpdateItem")
    assert str(throttled.value) == "DynamoDB UpdateItem ProvisionedThroughputExceededException"


def test_a_failed_condition_is_what_the_call_site_says() -> None:
    with pytest.raises(AlreadyExists), storage_errors():
        raise _refused("ConditionalCheckFailedException", "PutItem")
    with pytest.raises(ClaimConflict), storage_errors(lambda: ClaimConflict("rep-a")):
        raise _refused("ConditionalCheckFailedException", "UpdateItem")


def test_no_answer_is_a_storage_error_naming_what_went_wrong() -> None:
    with pytest.raises(StorageError, match="unreachable: EndpointConnectionError"), storage_errors():
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
