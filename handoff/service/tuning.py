"""The monthly tuning job: read the period's leads, measure, propose, report.

It writes report.json, report.html, the proposed config and its diff to the reports
bucket, emails the report to RevOps, and publishes the period's KPIs as metrics for the
dashboard. It never changes the deployed config: a person reviews the diff and deploys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit

from handoff.domain.record import LeadRecord
from handoff.email.render import RenderedEmail, render_report
from handoff.insights.analysis import analyse
from handoff.insights.history import HistoryRow, from_record
from handoff.insights.kpis import Kpis
from handoff.insights.proposal import apply, diff
from handoff.insights.tuning import TuningReport, tune
from handoff.observability import logger, metrics
from handoff.service.notify import envelope_to
from handoff.service.ports import Ports

# KPI -> (metric name, unit, scale) published once per run for the dashboard's monthly panel.
KPI_METRICS = {
    "meeting_rate": ("MonthlyMeetingRate", MetricUnit.Percent, 100),
    "contact_rate": ("MonthlyContactRate", MetricUnit.Percent, 100),
    "mql_to_sql": ("MonthlyMqlToSql", MetricUnit.Percent, 100),
    "sla_attainment": ("MonthlySlaAttainment", MetricUnit.Percent, 100),
    "reassignment_rate": ("MonthlyReassignmentRate", MetricUnit.Percent, 100),
    "recycled_to_sql": ("MonthlyRecycledToSql", MetricUnit.Percent, 100),
    "assignment_accuracy": ("MonthlyAssignmentAccuracy", MetricUnit.Percent, 100),
    "pipeline_rate": ("MonthlyPipelineRate", MetricUnit.Percent, 100),
    "stage_1_to_2": ("MonthlyStage1To2", MetricUnit.Percent, 100),
    "win_rate": ("MonthlyWinRate", MetricUnit.Percent, 100),
    # An amount, not a rate: the dashboard draws it on the panel's right axis.
    "pipeline_per_handoff": ("MonthlyPipelinePerHandoff", MetricUnit.NoUnit, 1),
}


@dataclass(frozen=True)
class TuningOutput:
    report: TuningReport
    email: RenderedEmail
    proposed_config: str
    config_diff: str
    # KPIs per value of the ``cut`` asked for (tier, source, rule, rep, week), if one was.
    by_cut: dict[str, Kpis] = field(default_factory=dict)


def build(
    rows: Iterable[HistoryRow],
    config_text: str,
    now: datetime,
    period: tuple[datetime, datetime] | None,
    name: str = "config/handoff.toml",
    *,
    reread: Callable[[], Iterable[HistoryRow]] | None = None,
    cut: str | None = None,
) -> TuningOutput:
    """Pure: rows (read once, one at a time) and the current config text in, the report, email
    and proposed config out. ``period`` None: from the first to the last lead read."""
    from handoff.config import parse_config

    config = parse_config(config_text, "config")
    analysis = analyse(rows, config, ["tier", *([cut] if cut and cut != "tier" else [])])
    if period is None:
        period = analysis.period or (now, now)
    report = tune(analysis, config, now, period, reread=reread)
    proposed = apply(config_text, report.proposals)
    changes = diff(config_text, proposed, name)
    by_cut = analysis.cut(cut) if cut else {}
    return TuningOutput(report, render_report(report, diff=changes), proposed, changes, by_cut)


def _publish(ports: Ports, output: TuningOutput, prefix: str) -> None:
    if ports.reports is None:
        return
    files = {
        "report.json": (output.report.model_dump_json(indent=2), "application/json"),
        "report.html": (output.email.html, "text/html; charset=utf-8"),
        "handoff.proposed.toml": (output.proposed_config, "application/toml"),
        "handoff.toml.diff": (output.config_diff, "text/x-diff"),
    }
    ports.reports.publish(prefix, files)


def measure(
    ports: Ports,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    cut: str | None = None,
    read: list[int] | None = None,
    only: Callable[[LeadRecord], bool] | None = None,
) -> TuningOutput:
    """The report and proposals for the leads received in [start, end), read from the leads table
    (a time-ranged index query), or those of them ``only`` keeps; nothing is published, sent or
    applied. ``read[0]`` counts them."""
    counter = read if read is not None else [0]

    def rows() -> Iterator[HistoryRow]:
        # One record at a time, page by page from the table: memory stays flat as history grows.
        counter[0] = 0
        for record in ports.leads.received_between(start, end):
            if only is not None and not only(record):
                continue
            counter[0] += 1
            yield from_record(record, now)

    return build(rows(), ports.config_text, now, (start, end), reread=rows, cut=cut)


def run(ports: Ports, now: datetime) -> TuningOutput:
    config = ports.config
    start = now - timedelta(days=config.tuning.lookback_days)
    read = [0]
    output = measure(ports, start, now, now, read=read)
    _publish(ports, output, f"reports/{now:%Y-%m-%d}")
    to = config.tuning.report_to or config.escalation.marketing_ops_email
    # One email a month: sent off the schedule (the mailer tries a throttle again), so the job
    # writes no table.
    ports.mailer.send(output.email, envelope_to(ports, to))
    for kpi, (name, unit, scale) in KPI_METRICS.items():
        value = getattr(output.report.kpis, kpi)
        if value is not None:
            metrics.add_metric(name=name, unit=unit, value=round(value * scale, 2))
    logger.info(
        "tuning report sent",
        extra={
            "leads": read[0],
            "proposals": len(output.report.proposals),
            "changes": bool(output.config_diff),
        },
    )
    return output
