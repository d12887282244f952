"""sla_check resumes what the workflow could not: a stopped execution, or one that never started."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from handoff.aws import container
from handoff.aws.workflow import execution_arn
from handoff.deploy.functions import SLA_CHECK
from handoff.domain.clock import utcnow
from handoff.local import lambdas
from tests.integration.conftest import Aws, rep, use_config

STUCK_AT_ONCE = {"stuck_after_seconds = 900": "stuck_after_seconds = 1"}
# moto marks a stopped execution FAILED but its thread may run on; a long SLA keeps that thread
# from writing to the lead while the test looks at it.
LONG_SLA = {"hot = 2\n": "hot = 60\n"}


def test_a_lead_whose_execution_is_gone_is_resumed_without_repeating_anything(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """moto cannot stop an execution parked on a task token, so the test makes the lead's
    execution "gone" the other way: the lead now names an execution that does not exist."""
    use_config(monkeypatch, tmp_path / "c.toml", **STUCK_AT_ONCE, **LONG_SLA)
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    lead_id = body["lead_id"]
    aws.wait_for_event(lead_id, "waiting")
    # Its execution: "<lead>-r1", absent; and its wait should have ended by now.
    container.ports().leads.update(lead_id, set_fields={"recoveries": 1, "check_at": utcnow()})
    assert lambdas.invoke(SLA_CHECK, {})["resumed"] == 1
    lead = aws.wait_for_event(lead_id, "waiting", count=2)  # the resumed run parked a new token
    assert "recovered" in [e["event"] for e in lead["timeline"]]
    assert [n["kind"] for n in lead["notifications"]] == ["brief"]  # no second email
    assert container.ports().reps.get("r1").open_count == 1  # type: ignore[union-attr]  # no second slot
    assert lambdas.invoke(SLA_CHECK, {})["resumed"] == 0  # running again: nothing to do
    assert aws.dispose(lead_id, outcome="connected")[0] == 200
    sfn = boto3.client("stepfunctions")
    resumed = execution_arn(aws.state_machine_arn, f"{lead_id}-r2")
    assert aws_execution_done(sfn, resumed) == "SUCCEEDED"
    assert aws.get_lead(lead_id)["status"] == "working"


def aws_execution_done(sfn: Any, arn: str) -> str:
    for _ in range(100):
        status = str(sfn.describe_execution(executionArn=arn)["status"])
        if status != "RUNNING":
            return status
        time.sleep(0.1)
    return "RUNNING"


def test_a_lead_whose_workflow_never_started_is_started(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_config(monkeypatch, tmp_path / "c.toml", **STUCK_AT_ONCE)
    aws.put_reps(rep("r1"))
    real_arn = aws.state_machine_arn
    monkeypatch.setenv("HANDOFF_STATE_MACHINE_ARN", real_arn + "-down")
    container.reset()
    _, body = aws.post_lead(hot_lead)
    lead_id = body["lead_id"]
    # As if the start just never happened, and routing should have ended by now.
    container.ports().leads.update(lead_id, set_fields={"status": "routing", "check_at": utcnow()})
    monkeypatch.setenv("HANDOFF_STATE_MACHINE_ARN", real_arn)
    container.reset()
    assert lambdas.invoke(SLA_CHECK, {})["resumed"] == 1
    assert aws.wait_status(lead_id, {"notified"})["assignment"]["rep_id"] == "r1"
    assert lambdas.invoke(SLA_CHECK, {})["resumed"] == 0  # idempotent: running now


def test_a_failed_lead_is_escalated_to_sales_ops_once(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from handoff.errors import StorageError
    from handoff.service import routing

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise StorageError("DynamoDB InternalServerError")

    monkeypatch.setattr(routing, "plan_for", broken)
    _, body = aws.post_lead(hot_lead)
    assert aws.execution(body["lead_id"], timeout=30)["status"] == "FAILED"
    lambdas.invoke(SLA_CHECK, {})
    lambdas.invoke(SLA_CHECK, {})
    lead = aws.get_lead(body["lead_id"])
    assert lead["status"] == "failed"  # visible, not silently retried
    assert [(n["kind"], n["to"]) for n in lead["notifications"]] == [("failure", "sales-ops@example.com")]
    assert [e["event"] for e in lead["timeline"]].count("failure_escalated") == 1
