"""B4: webhook POST to brief in the outbox, on the local stack: p50/p95/p99 over N leads,
sequentially and from 8 concurrent senders. "Handoff" is received_at -> brief sent as the lead
record says; "round trip" adds the sender's POST and the emulator's scheduling."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from bench.local import local_stack, rep_rows, sample_lead
from handoff.local.client import HandoffClient

LEADS = 200
WAIT_SECONDS = 120


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"p50": statistics.median(ordered), "p95": pick(0.95), "p99": pick(0.99)}


def _send(client: HandoffClient, body: dict[str, Any]) -> tuple[float, float] | None:
    """(Handoff's time, round trip), or None when the brief did not go out within the wait."""
    started = time.perf_counter()
    lead_id = client.post_generic(body).body["lead_id"]
    lead = client.wait_for(lead_id, {"notified"}, timeout=WAIT_SECONDS)
    round_trip = time.perf_counter() - started
    if not lead.get("notifications"):
        return None
    sent = datetime.fromisoformat(lead["notifications"][0]["sent_at"])
    handoff = (sent - datetime.fromisoformat(lead["received_at"])).total_seconds()
    return handoff, round_trip


def run(leads: int = LEADS) -> dict[str, dict[str, float]]:
    # Enough room that capacity never binds: this measures speed, not routing limits.
    reps = rep_rows({f"r{i}": ("sales;emea", 1, 1000) for i in range(8)})
    with local_stack(reps) as local:
        client = local.client
        results: dict[str, dict[str, float]] = {}
        sequential = [_send(client, sample_lead(i, "seq")) for i in range(leads)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            concurrent = list(pool.map(lambda i: _send(client, sample_lead(i, "par")), range(leads)))
        for name, outcomes in (("sequential", sequential), ("8 senders", concurrent)):
            rows = [o for o in outcomes if o is not None]
            late = len(outcomes) - len(rows)
            suffix = f" ({late} not yet briefed after {WAIT_SECONDS} s)" if late else ""
            results[f"{name}: Handoff (received -> brief sent){suffix}"] = _percentiles([h for h, _ in rows])
            results[f"{name}: round trip (POST -> brief recorded)"] = _percentiles([r for _, r in rows])
        return results
