"""Round robin over a pool of reps.

The pure part orders candidates and explains skips; the capacity claim itself is
one conditional write in the reps repository, so two routers racing for the last
slot can never push a rep over capacity.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from handoff.domain.lead import ConsideredRep


class Rep(BaseModel):
    rep_id: str
    email: str
    name: str | None = None
    manager_email: str | None = None
    pools: list[str] = Field(default_factory=list)
    weight: float = Field(default=1.0, gt=0)
    capacity: int = Field(default=10, ge=0)
    open_count: int = Field(default=0, ge=0)
    active: bool = True
    timezone: str = "UTC"
    last_assigned_at: datetime | None = None
    assigned_total: int = 0


def skip_reason(rep: Rep) -> str | None:
    if not rep.active:
        return "inactive"
    if rep.open_count >= rep.capacity:
        return f"at capacity ({rep.open_count}/{rep.capacity})"
    return None


def round_robin_order(reps: list[Rep], pool: str) -> tuple[list[Rep], list[ConsideredRep]]:
    """Eligible reps, longest-waiting first, plus the skipped ones with why."""
    in_pool = [r for r in reps if pool in r.pools]
    skipped = [
        ConsideredRep(rep_id=r.rep_id, skipped_because=why) for r in in_pool if (why := skip_reason(r))
    ]
    eligible = [r for r in in_pool if skip_reason(r) is None]
    # Never-assigned reps go first; ties break on rep_id so the order is deterministic.
    eligible.sort(
        key=lambda r: (r.last_assigned_at is not None, r.last_assigned_at or datetime.min, r.rep_id)
    )
    return eligible, skipped
