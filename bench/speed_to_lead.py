"""B4: webhook POST to brief in the outbox, on the local stack: p50/p95/p99 over N leads,
sequentially and from 8 concurrent senders. "Handoff" is received_at -> brief sent as the lead
record says; "round trip" adds the sender's POST and the emulator's scheduling. In the sequential
run each handler invocation is timed and tied to its lead, so the round trip splits into our code
(the qualify, route and notify handlers) and the rest (moto's workflow emulator, HTTP, polling)."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from bench.local import local_stack, rep_rows, sample_lead
from handoff.deploy.functions import FunctionSpec
from handoff.local import lambdas
from handoff.local.client import HandoffClient

LEADS = 200
WAIT_SECONDS = 120


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"p50": statistics.median(ordered), "p95": pick(0.95), "p99": pick(0.99)}


OWN_STEPS = ("qualify", "route", "notify")  # everything between received_at and the brief's send


@contextmanager
def _handler_times() -> Iterator[dict[str, dict[str, float]]]:
    """Seconds each of our handlers took, by lead id and step (moto's Lambda dispatch patched)."""
    times: dict[str, dict[str, float]] = defaultdict(dict)
    lock = threading.Lock()
    original = lambdas.invoke

    def timed(spec: FunctionSpec, event: Any) -> Any:
        started = time.perf_counter()
        result = original(spec, event)
        elapsed = time.perf_counter() - started
        lead_id = event.get("lead_id") if isinstance(event, dict) else None
        if spec.key == "qualify" and isinstance(result, dict):
            lead_id = json.loads(result.get("body") or "{}").get("lead_id")
        if lead_id and spec.key in OWN_STEPS:
            with lock:
                times[lead_id][spec.key] = times[lead_id].get(spec.key, 0.0) + elapsed
        return result

    lambdas.invoke = timed
    try:
        yield times
    finally:
        lambdas.invoke = original


def _send(client: HandoffClient, body: dict[str, Any]) -> tuple[float, float, str] | None:
    """(Handoff's time, round trip, lead id), or None when the brief did not go out within the wait."""
    started = time.perf_counter()
    lead_id = client.post_generic(body).body["lead_id"]
    lead = client.wait_for(lead_id, {"notified"}, timeout=WAIT_SECONDS)
    round_trip = time.perf_counter() - started
    if not lead.get("notifications"):
        return None
    sent = datetime.fromisoformat(lead["notifications"][0]["sent_at"])
    handoff = (sent - datetime.fromisoformat(lead["received_at"])).total_seconds()
    return handoff, round_trip, lead_id


def run(leads: int = LEADS) -> dict[str, dict[str, float]]:
    # Enough room that capacity never binds: this measures speed, not routing limits.
    reps = rep_rows({f"r{i}": ("sales;emea", 1, 1000) for i in range(8)})
    with local_stack(reps) as local:
        client = local.client
        results: dict[str, dict[str, float]] = {}
        with _handler_times() as times:
            sequential = [_send(client, sample_lead(i, "seq")) for i in range(leads)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            concurrent = list(pool.map(lambda i: _send(client, sample_lead(i, "par")), range(leads)))
        for name, outcomes in (("sequential", sequential), ("8 senders", concurrent)):
            rows = [o for o in outcomes if o is not None]
            late = len(outcomes) - len(rows)
            suffix = f" ({late} not yet briefed after {WAIT_SECONDS} s)" if late else ""
            results[f"{name}: Handoff (received -> brief sent){suffix}"] = _percentiles(
                [h for h, _, _ in rows]
            )
            results[f"{name}: round trip (POST -> brief recorded)"] = _percentiles([r for _, r, _ in rows])
        timed = [(r, times[lead_id]) for _, r, lead_id in (o for o in sequential if o) if lead_id in times]
        for step in OWN_STEPS:
            results[f"sequential, our code: the {step} handler"] = _percentiles(
                [t.get(step, 0.0) for _, t in timed]
            )
        # The steps overlap a little (route can start before qualify returns), so this is a floor.
        results["sequential, the rest of the round trip (emulator, HTTP, polling)"] = _percentiles(
            [max(0.0, r - sum(t.values())) for r, t in timed]
        )
        return results
