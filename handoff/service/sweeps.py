"""sla_check's run: recovery, then the SLA, then the follow-up cadence, each in its share of the
time left.

A sweep AWS throttles past every retry (the SDK's, then the adapters') stops where it is, and the
next sweep, minutes later, takes it up: each sweep queries for what is due now, so nothing it did
not reach is lost. Failing the invocation instead would have Lambda retry it at once, into the same
throttle, and page sales ops' on-call through the function's error alarm for a quota that heals by
itself. A sweep deferred every time for half an hour does alarm (SweepsDeferred).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from handoff.errors import StorageThrottled
from handoff.observability import MetricUnit, logger, metrics
from handoff.service import cadence, recovery, sla
from handoff.service.ports import Ports

T = TypeVar("T")
# Kept back from the function's time limit to flush metrics and logs.
FLUSH_SECONDS = 10


def run(
    ports: Ports, now: datetime, *, stuck_after: timedelta, seconds_left: Callable[[], float]
) -> dict[str, Any]:
    deferred: list[str] = []
    no_breaches: list[str] = []
    no_steps: dict[str, int] = {}

    def budget() -> float:
        return max(1.0, seconds_left() - FLUSH_SECONDS)

    # Recovery first: the sweeps' own writes would make a stuck lead look freshly updated.
    resumed = _deferred_when_throttled(
        "recovery",
        lambda: recovery.recover(ports, now, stuck_after=stuck_after, budget_seconds=budget() / 2),
        0,
        deferred,
    )
    # The SLA and the cadence share what the recovery left of the time.
    breached = _deferred_when_throttled(
        "sla", lambda: sla.sweep(ports, now, budget_seconds=budget() / 2), no_breaches, deferred
    )
    followed_up = _deferred_when_throttled(
        "cadence", lambda: cadence.sweep(ports, now, budget_seconds=budget()), no_steps, deferred
    )
    if deferred:
        metrics.add_metric(name="SweepsDeferred", unit=MetricUnit.Count, value=1)
    return {"breached": len(breached), "resumed": resumed, "follow_up": followed_up, "deferred": deferred}


def _deferred_when_throttled(name: str, sweep: Callable[[], T], nothing: T, deferred: list[str]) -> T:
    try:
        return sweep()
    except StorageThrottled as exc:
        deferred.append(name)
        logger.warning("sweep deferred: throttled", extra={"sweep": name, "error": str(exc)})
        return nothing
