"""Powertools Logger, Tracer and Metrics shared by every function.

Service name, namespace and log level come from the POWERTOOLS_* environment
variables the stack sets. Log lead ids and codes only, never names, emails or phones.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
