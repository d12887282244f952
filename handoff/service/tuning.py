"""The monthly tuning job: read the period's leads, measure, propose, report.

It writes report.json, report.html, the proposed config and its diff to the reports
bucket, emails the report to RevOps, and publishes the period's KPIs as metrics for the
dashboard. It never changes the deployed config: a person reviews the diff and deploys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from aws_lambda_powertools.metrics import MetricUnit

from handoff import runtime
from handoff.deploy.settings import settings
from handoff.email.render import RenderedEmail, render_report
from handoff.insights.history import HistoryRow, from_record
from handoff.insights.proposal import apply, diff
from handoff.insights.tuning import TuningReport, tune
from handoff.observability import logger, metrics
from handoff.service.notify import envelope_to

# KPI -> (metric name, unit, scale) published once per run for the dashboard's monthly panel.
KPI_METRICS = {
    "meeting_rate": ("MonthlyMeetingRate", MetricUnit.Percent, 100),
    "contact_rate": ("MonthlyContactRate", MetricUnit.Percent, 100),
    "mql_to_sql": ("MonthlyMqlToSql", MetricUnit.Percent, 100),
    "sla_attainment": ("MonthlySlaAttainment", MetricUnit.Percent, 100),
    "reassignment_rate": ("MonthlyReassignmentRate", MetricUnit.Percent, 100),
}


@dataclass(frozen=True)
class TuningOutput:
    report: TuningReport
    email: RenderedEmail
    proposed_config: str
    config_diff: str


def build(
    rows: list[HistoryRow],
    config_text: str,
    now: datetime,
    period: tuple[datetime, datetime],
    name: str = "config/handoff.toml",
) -> TuningOutput:
    """Pure: rows and the current config text in, the report, email and proposed config out."""
    from handoff.config import parse_config

    config = parse_config(config_text, "config")
    report = tune(rows, config, now, period)
    proposed = apply(config_text, report.proposals)
    changes = diff(config_text, proposed, name)
    return TuningOutput(report, render_report(report, diff=changes), proposed, changes)


def _publish(output: TuningOutput, prefix: str) -> None:
    bucket = settings().reports_bucket
    if not bucket:
        return
    s3 = runtime.client("s3")
    files = {
        "report.json": (output.report.model_dump_json(indent=2), "application/json"),
        "report.html": (output.email.html, "text/html; charset=utf-8"),
        "handoff.proposed.toml": (output.proposed_config, "application/toml"),
        "handoff.toml.diff": (output.config_diff, "text/x-diff"),
    }
    for name, (body, content_type) in files.items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=body.encode(), ContentType=content_type)


def run(now: datetime) -> TuningOutput:
    config = runtime.config()
    start = now - timedelta(days=config.tuning.lookback_days)
    records = runtime.leads().received_between(start, now)
    output = build(
        [from_record(r) for r in records], Path(settings().config_path).read_text(), now, (start, now)
    )
    _publish(output, f"reports/{now:%Y-%m-%d}")
    to = config.tuning.report_to or config.escalation.marketing_ops_email
    runtime.mailer().send(output.email, envelope_to(to))
    for field, (name, unit, scale) in KPI_METRICS.items():
        value = getattr(output.report.kpis, field)
        if value is not None:
            metrics.add_metric(name=name, unit=unit, value=round(value * scale, 2))
    logger.info(
        "tuning report sent",
        extra={
            "leads": len(records),
            "proposals": len(output.report.proposals),
            "changes": bool(output.config_diff),
        },
    )
    return output
