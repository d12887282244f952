"""Many routers at once on a small pool: nobody over capacity, no lead lost or assigned twice.

moto's DynamoDB does not make a conditional write atomic under threads: the condition
check and the update can interleave, so two writers both pass "open_count < capacity"
(seen here: 8 claims on a rep with capacity 6). DynamoDB itself serialises writes to
an item. The local stack restores that one guarantee (handoff.local.emulator), so what is tested is Handoff's own
read-plan-claim logic under real thread interleavings; the deterministic
stale-snapshot tests in test_dispositions_and_sla.py prove the condition expression.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from handoff.aws import container
from handoff.domain.clock import utcnow
from handoff.domain.lead import Lead
from handoff.domain.record import LeadRecord, Qualification
from handoff.errors import ClaimConflict
from handoff.service import routing
from tests.integration.conftest import Aws, rep

LEADS = 40
ROUTERS = 16


def _routing_lead(i: int) -> str:
    lead = Lead.model_validate(
        {"event_id": f"burst-{i}", "contact": {"email": f"p{i}@buyer.example", "country": "US"},
         "company": {"employees": 300}, "trigger": {"type": "demo_request"}}
    )  # fmt: skip
    record = LeadRecord.from_lead(
        lead, Qualification(ready=True, tier="hot", score=90, fit=90, intent=90), utcnow()
    )
    container.ports().leads.create(record)
    return record.lead_id


def route_like_the_workflow(lead_id: str) -> routing.RouteResult:
    """The ASL retries the route step on ClaimConflict (three times, with backoff)."""
    for attempt in range(4):
        try:
            return routing.route(container.ports(), lead_id, utcnow())
        except ClaimConflict:
            if attempt == 3:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


def test_a_burst_of_routes_never_exceeds_capacity_or_double_assigns(aws: Aws) -> None:
    aws.put_reps(
        rep("a", capacity=6, weight=2),
        rep("b", capacity=5),
        rep("c", capacity=4),
        rep("m", pools=["managers"], capacity=10),
    )
    lead_ids = [_routing_lead(i) for i in range(LEADS)]
    with ThreadPoolExecutor(max_workers=ROUTERS) as pool:
        results = list(pool.map(route_like_the_workflow, lead_ids))
    assert len(results) == LEADS

    owners: dict[str, int] = {}
    for lead_id in lead_ids:
        record = container.ports().leads.get(lead_id)
        assert record is not None and record.assignment is not None, lead_id  # none lost
        owners[record.assignment.rep_id] = owners.get(record.assignment.rep_id, 0) + 1
    reps: dict[str, Any] = {r.rep_id: r for r in container.ports().reps.list_all()}
    for rep_id, rep_record in reps.items():
        assert rep_record.open_count <= rep_record.capacity, rep_id
        assert rep_record.open_count == owners.get(rep_id, 0), rep_id  # one slot per lead, none twice
    assert owners == {"a": 6, "b": 5, "c": 4, "m": 10, "unassigned": 15}
