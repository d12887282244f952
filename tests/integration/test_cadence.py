"""The follow-up cadence on moto: "No answer" from the brief through the disposition function, then
the sla_check sweep on a clock the test sets, from the first reminder to the no_response recycle."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from handoff.deploy.functions import SLA_CHECK
from handoff.domain.cadence import ends_at, next_working_moment
from handoff.domain.record import Cadence, LeadRecord
from handoff.local import lambdas
from tests.integration.conftest import Aws, rep, use_config
from tests.integration.test_links import page


def sweep_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> dict[str, Any]:
    """Run sla_check as Lambda runs it, with its clock at ``moment``."""
    lambdas.load_handler(SLA_CHECK)
    monkeypatch.setattr(sys.modules[SLA_CHECK.module], "utcnow", lambda: moment)
    result: dict[str, Any] = lambdas.invoke(SLA_CHECK, {})
    return result


def at_work(cadence: Cadence, moment: datetime) -> datetime:
    """``moment``, or the rep's next working moment when it falls at or after their day's end
    (the test runs at any hour: a step due at 17:30 is taken at 09:00)."""
    return next_working_moment(cadence, moment)


def queued_actions() -> list[str]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=os.environ["HANDOFF_CRM_SYNC_QUEUE_URL"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"])["action"] for m in messages.get("Messages", [])]


def test_no_answer_then_the_cadence_reminds_and_finally_recycles(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A patient SLA (the rep answers in time), and the sample's source trusted for write-back.
    use_config(
        monkeypatch,
        tmp_path / "cadence.toml",
        **{"hot = 2\n": "hot = 60\n", "write_back_sources = []": 'write_back_sources = ["website"]'},
    )
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    lead_id = body["lead_id"]
    aws.wait_for_event(lead_id, "waiting")

    status, html, _ = page(aws, "POST", aws.brief_links("r1@example.com")["No answer"])
    assert (status, "No answer recorded for Jordan Lee" in html) == (200, True)
    assert aws.execution(lead_id)["status"] == "SUCCEEDED"  # attempted is the first touch
    record = LeadRecord.model_validate(aws.get_lead(lead_id))
    assert [d.outcome for d in record.dispositions] == ["attempted"] and record.status == "working"
    assert record.cadence is not None and record.cadence.state == "running"

    assert (
        sweep_at(monkeypatch, at_work(record.cadence, record.cadence.next_at))["follow_up"]["reminded"] == 1
    )
    assert "No answer" in aws.brief_links("r1@example.com")  # the reminder carries the buttons
    lead = aws.get_lead(lead_id)
    assert [e["detail"][:14] for e in lead["timeline"] if e["event"] == "follow_up"] == ["attempt 2 of 4"]

    end = at_work(record.cadence, ends_at(record.cadence))
    assert sweep_at(monkeypatch, end)["follow_up"]["recycled"] == 1
    lead = aws.get_lead(lead_id)
    assert lead["status"] == "closed" and lead["cadence"]["state"] == "ran_out"
    last = lead["dispositions"][-1]
    assert (last["outcome"], last["reason"], last["by"]) == ("recycle", "no_response", "cadence")
    assert aws.get_reps()["r1"]["open_leads"] == 0
    assert "recycle" in queued_actions()
    assert sweep_at(monkeypatch, end)["follow_up"] == {
        "reminded": 0,
        "recycled": 0,
        "waiting": 0,
    }
