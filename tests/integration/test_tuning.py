"""The tuning job on moto: real handoffs and dispositions in, a report in S3 and by email out."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from handoff.aws.tables import LEADS
from handoff.cli import main
from handoff.deploy.functions import TUNING
from handoff.local import lambdas
from handoff.local.provision import table_name
from tests.integration.conftest import Aws, rep

BUCKET = "handoff-reports-test"


def _hand_off(aws: Aws, lead: dict[str, Any], n: int, outcome: str | None) -> str:
    body = copy.deepcopy(lead)
    body["event_id"] = f"tuning-{n}"
    body["contact"]["email"] = f"buyer{n}@northwind.example"
    status, answer = aws.post_lead(body)
    assert status == 202, answer
    lead_id = str(answer["lead_id"])
    aws.wait_for_event(lead_id, "waiting")
    if outcome:
        assert aws.dispose(lead_id, outcome="connected")[0] == 200
        assert (
            aws.dispose(lead_id, outcome=outcome, **({"reason": "timing"} if outcome == "recycle" else {}))[0]
            == 200
        )
    return lead_id


def test_the_monthly_job_measures_real_handoffs_and_reports_them(
    aws: Aws, hot_lead: dict[str, Any], nurture_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.put_reps(rep("r1", capacity=50), rep("r2", capacity=50))
    outcomes = ["meeting_set", "recycle", None, "meeting_set"]
    for n, outcome in enumerate(outcomes):
        _hand_off(aws, hot_lead, n, outcome)
    nurture_lead["event_id"] = "tuning-nurture"
    assert aws.post_lead(nurture_lead)[0] == 200  # recorded in nurture, not handed off
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("HANDOFF_REPORTS_BUCKET", BUCKET)
    from handoff.aws import container

    container.reset()

    result = lambdas.invoke(TUNING, {})

    assert {k: result[k] for k in ("leads", "handed_off", "proposals", "config_changes")} == {
        "leads": 5, "handed_off": 4, "proposals": 0, "config_changes": False,
    }  # fmt: skip
    keys = {
        o["Key"].rsplit("/", 1)[-1] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]
    }
    assert keys == {"report.json", "report.html", "handoff.proposed.toml", "handoff.toml.diff"}
    [key] = [
        o["Key"]
        for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]
        if o["Key"].endswith("json")
    ]
    report = json.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())
    kpis = report["kpis"]
    assert (kpis["received"], kpis["qualified"], kpis["handed_off"]) == (5, 4, 4)
    assert (kpis["meetings"], kpis["contacted"], kpis["recycled"]) == (2, 3, 1)
    assert kpis["meeting_rate"] == 0.5 and kpis["contact_rate"] == 0.75
    assert sum(kpis["rep_load"].values()) == 4
    # The Lambda's answer and its report count the SLA the same way (what the demo prints).
    assert (result["sla_met"], result["sla_breached"]) == (kpis["sla_met"], kpis["sla_breached"])
    assert kpis["speed_to_lead_p50"] is not None and kpis["speed_to_lead_p50"] < 15
    assert "Only 4 handoffs" in report["notes"][0]
    [email] = [m for m in aws.sent_emails() if "[Handoff] Report" in m.raw_data]
    assert "marketing-ops@example.com" in email.destinations
    assert "meeting rate 50%" in email.raw_data


@pytest.mark.usefixtures("patient_sla")  # the touch is in time even on a loaded machine
def test_cli_exports_history_and_reports_from_the_table(
    aws: Aws, hot_lead: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.put_reps(rep("r1"))
    _hand_off(aws, hot_lead, 1, "meeting_set")
    out = tmp_path / "history.jsonl"
    assert main(["history", "export", "--table", table_name(LEADS), "--out", str(out)]) == 0
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["outcomes"] == ["connected", "meeting_set"] and row["reps"] == ["r1"]
    assert row["sla_met"] is True and row["lead"]["contact"]["email"] == "buyer1@northwind.example"
    capsys.readouterr()
    assert main(["report", "--history", str(out)]) == 0
    assert "meeting rate 100%" in capsys.readouterr().out
