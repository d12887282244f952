"""Powertools Logger, Tracer and Metrics shared by every function.

Service name, namespace and log level come from the POWERTOOLS_* environment
variables the stack sets. Log lead ids and codes only, never names, emails or phones.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

logger = Logger()
# Trace AWS calls only, through botocore (X-Ray records the operation and resource names, never
# item values). Not http.client: its subsegments carry the full URL, and a Slack incoming-webhook
# URL is itself the secret. Patching every supported library would also import requests, sqlite3
# and more at cold start.
tracer = Tracer(patch_modules=("botocore",))


class _QuietWhenDisabled(AmazonCloudWatchEMFProvider):
    """Powertools' EMF provider, holding and publishing nothing while metrics are disabled.

    Powertools prints a metric set once a metric holds 100 values, even with
    POWERTOOLS_METRICS_DISABLED; the local stack sets it and runs every handler in one process,
    whose shared set then filled and printed EMF into its output. And at the end of an
    invocation it warns when the shared set is empty, which another handler's flush, or the
    clearing here, may have just made it. Disabled, a metric is checked as on AWS and dropped,
    and a flush has nothing to publish or warn about. On AWS, where metrics are on, nothing
    changes.
    """

    def add_metric(self, name: str, unit: MetricUnit | str, value: float, resolution: Any = 60) -> None:
        super().add_metric(name=name, unit=unit, value=value, resolution=resolution)
        if is_metrics_disabled():
            self.metric_set.clear()

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        if is_metrics_disabled():
            self.metric_set.clear()
            return
        super().flush_metrics(raise_on_empty_metrics=raise_on_empty_metrics)


class _Metrics(Metrics):
    """Powertools' Metrics over _QuietWhenDisabled, sharing its sets as Metrics instances do."""

    def __init__(self) -> None:
        super().__init__()
        made = self.provider
        self.provider = _QuietWhenDisabled(
            metric_set=self.metric_set,
            dimension_set=self.dimension_set,
            namespace=made.namespace,
            metadata_set=self.metadata_set,
            service=made.service,
            default_dimensions=self.default_dimensions,
            function_name=made.function_name,
        )


metrics = _Metrics()

Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None


def traced(handler: Handler) -> Handler:
    """Trace a Lambda handler without its response or its exception's text: responses carry the
    lead (names, emails, phones), and an error message may quote the input it refused. The X-Ray
    SDK writes any exception that leaves a subsegment, message and all, so the exception is held
    inside the subsegment (only its type is annotated) and raised again outside it, unchanged."""

    @functools.wraps(handler)  # the subsegment is named after the handler
    def shielded(event: Any, context: Any) -> _Outcome:
        try:
            return _Outcome(value=handler(event, context))
        except Exception as exc:
            tracer.put_annotation(key="error", value=type(exc).__name__)
            return _Outcome(error=exc)

    traced_call = tracer.capture_lambda_handler(shielded, capture_response=False, capture_error=False)

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        outcome: _Outcome = traced_call(event, context)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    return cast(Handler, run)


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


__all__ = ["MetricUnit", "lead_metric", "logger", "metrics", "traced", "tracer"]
