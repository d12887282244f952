"""The Step Functions adapter behind the Workflow port: what each AWS answer means to a service."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from handoff.aws.workflow import TOKEN_GONE, StepFunctionsWorkflow, execution_arn
from handoff.errors import StorageError, StorageThrottled

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:Handoff-handoff"


def adapter() -> tuple[StepFunctionsWorkflow, Stubber]:
    client = boto3.client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return StepFunctionsWorkflow(client, MACHINE), Stubber(client)


def test_execution_arns_are_built_in_one_place() -> None:
    assert execution_arn(MACHINE, "ld_1-r2") == (
        "arn:aws:states:us-east-1:123456789012:execution:Handoff-handoff:ld_1-r2"
    )


STARTED = {"executionArn": execution_arn(MACHINE, "ld_1"), "startDate": "2026-11-30T00:00:00Z"}
START = {"stateMachineArn": MACHINE, "name": "ld_1", "input": '{"lead_id": "ld_1"}'}


def test_a_repeated_start_is_not_an_error() -> None:
    workflow, stub = adapter()
    stub.add_response("start_execution", STARTED, START)
    stub.add_client_error("start_execution", "ExecutionAlreadyExists")
    with stub:
        assert workflow.start("ld_1", {"lead_id": "ld_1"}) is True
        assert workflow.start("ld_1", {"lead_id": "ld_1"}) is False


def test_a_throttled_start_is_tried_again_for_a_few_seconds_then_left_to_the_sweep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from handoff.aws import throttling

    waits: list[float] = []
    monkeypatch.setattr(throttling.time, "sleep", waits.append)
    workflow, stub = adapter()
    for _ in range(2):
        stub.add_client_error("start_execution", "ThrottlingException")
    stub.add_response("start_execution", STARTED, START)
    for _ in range(1 + len(throttling.THROTTLED_PAUSES)):
        stub.add_client_error("start_execution", "ThrottlingException")
    with stub:
        assert workflow.start("ld_1", {"lead_id": "ld_1"}) is True  # the bucket refilled
        assert len(waits) == 2
        with pytest.raises(StorageThrottled, match="ThrottlingException"):
            workflow.start("ld_1", {"lead_id": "ld_1"})
    assert 0 < sum(waits) <= sum(throttling.THROTTLED_PAUSES) * 2


def test_running_reads_the_execution_by_its_arn() -> None:
    workflow, stub = adapter()
    described = {
        "executionArn": execution_arn(MACHINE, "ld_1"),
        "stateMachineArn": MACHINE,
        "status": "RUNNING",
        "startDate": "2026-11-30T00:00:00Z",
    }
    stub.add_response("describe_execution", described, {"executionArn": execution_arn(MACHINE, "ld_1")})
    stub.add_response("describe_execution", {**described, "status": "FAILED"})
    stub.add_client_error("describe_execution", "ExecutionDoesNotExist")
    with stub:
        assert workflow.running("ld_1") is True
        assert workflow.running("ld_1") is False
        assert workflow.running("ld_1") is False


@pytest.mark.parametrize("code", sorted(TOKEN_GONE))
def test_a_token_that_no_longer_waits_is_false_not_an_error(code: str) -> None:
    workflow, stub = adapter()
    stub.add_client_error("send_task_success", code)
    stub.add_client_error("send_task_failure", code)
    with stub:
        assert workflow.succeed("token", {"outcome": "connected"}) is False
        assert workflow.fail("token", "BriefBounced", "bounced") is False


def test_any_other_refusal_of_a_task_answer_is_a_storage_error() -> None:
    workflow, stub = adapter()
    stub.add_response("send_task_success", {}, {"taskToken": "t", "output": '{"outcome": "connected"}'})
    stub.add_client_error("send_task_failure", "AccessDeniedException")
    with stub:
        assert workflow.succeed("t", {"outcome": "connected"}) is True
        with pytest.raises(StorageError, match="AccessDeniedException"):
            workflow.fail("t", "BriefBounced", "bounced")
