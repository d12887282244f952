"""B3: qualify + route decision per lead, pure CPU, no I/O, on realistic leads."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from handoff.config import load_config
from handoff.deploy.functions import REPO_ROOT
from handoff.domain.lead import Lead
from handoff.domain.qualify import qualify
from handoff.domain.record import LeadRecord
from handoff.domain.rep import Rep
from handoff.domain.route import plan_route

NOW = datetime(2026, 11, 2, 16, tzinfo=UTC)


def _leads() -> list[dict[str, object]]:
    samples = [
        json.loads(p.read_text())
        for p in sorted((REPO_ROOT / "examples" / "webhooks" / "generic").glob("*.json"))
    ]
    leads = []
    for i in range(1000):
        body = json.loads(json.dumps(samples[i % len(samples)]))
        body["event_id"] = f"bench-{i}"
        leads.append(body)
    return leads


def _reps() -> list[Rep]:
    return [
        Rep(rep_id=f"r{i:02d}", email=f"r{i}@x.example", pools=["sales" if i % 3 else "emea"], weight=1 + i % 3,
            capacity=20, open_count=i % 20, vtime=i * 0.1)
        for i in range(24)
    ]  # fmt: skip


def run(seconds: float = 3.0) -> dict[str, float]:
    config = load_config(REPO_ROOT / "config" / "handoff.toml")
    bodies, reps = _leads(), _reps()
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for body in bodies:
            lead = Lead.model_validate(body)
            q = qualify(lead, config.qualify, NOW)
            record = LeadRecord.from_lead(lead, q, NOW)
            if q.ready:
                plan_route(record, reps, config.routing, NOW)
            done += 1
    elapsed = time.perf_counter() - started
    return {
        "leads": done,
        "seconds": elapsed,
        "per_second": done / elapsed,
        "us_per_lead": elapsed / done * 1e6,
    }
