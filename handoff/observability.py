"""Powertools Logger, Tracer and Metrics shared by every function.

Service name, namespace and log level come from the POWERTOOLS_* environment
variables the stack sets. Log lead ids and codes only, never names, emails or phones.
"""

from __future__ import annotations

from typing import Protocol

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger()
# Trace only what Handoff calls: AWS through botocore, and CRM and Slack APIs through http.client
# (urllib). Patching every supported library would import requests, sqlite3 and more at cold start.
tracer = Tracer(patch_modules=("botocore", "httplib"))
metrics = Metrics()


class _Segmented(Protocol):
    @property
    def source(self) -> str: ...


def lead_metric(
    name: str,
    value: float,
    *,
    tier: str | None,
    source: str,
    unit: MetricUnit = MetricUnit.Count,
    **extra: str,
) -> None:
    """A handoff KPI with its few dimensions (tier and source, plus e.g. outcome), emitted at once.

    Dimensions stay few on purpose: each distinct combination is a billed CloudWatch metric.
    """
    # single_metric prints even when POWERTOOLS_METRICS_DISABLED is set; the local stack sets it.
    if not is_metrics_disabled():
        with single_metric(name=name, unit=unit, value=value) as metric:
            metric.add_dimension(name="tier", value=tier or "none")
            metric.add_dimension(name="source", value=source or "unknown")
            for key, dimension in extra.items():
                metric.add_dimension(name=key, value=dimension)
    # The same KPI by service alone, for alarms and the dashboard (they cannot sum dimensions).
    metrics.add_metric(name=name, unit=unit, value=value)


# The service dimension every aggregate metric carries (POWERTOOLS_SERVICE_NAME in the stack).
SERVICE = "handoff"

__all__ = ["MetricUnit", "lead_metric", "logger", "metrics", "tracer"]
