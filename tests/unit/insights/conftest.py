"""History rows built by hand, so every KPI can be checked against arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from handoff.domain.lead import Lead
from handoff.insights.history import HistoryRow

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)  # a Monday


def row(n: int, *, ready: bool = True, notified: float | None = 2.0, touch: float | None = None,
        outcomes: tuple[str, ...] = (), email: str | None = None, days: float = 0, **fields: Any) -> HistoryRow:  # fmt: skip
    """Lead n, received ``days`` after T0, briefed ``notified`` seconds later, first touch
    ``touch`` seconds after receipt."""
    received = T0 + timedelta(days=days)
    lead = Lead.model_validate(
        {
            "event_id": f"e{n}",
            "source": fields.pop("source", "hubspot"),
            "contact": {"email": email or f"p{n}@acme.example"},
            "trigger": {"type": "demo_request"},
        }
    )
    return HistoryRow.model_validate(
        {
            "lead": lead,
            "received_at": received,
            "ready": ready,
            "notified_at": received + timedelta(seconds=notified) if ready and notified is not None else None,
            "first_touch_at": received + timedelta(seconds=touch) if touch is not None else None,
            "outcomes": list(outcomes),
            **fields,
        }
    )


def deal(n: int, amount: float | None = None, days: float = 0, **milestones: float) -> dict[str, Any]:
    """Deal n, created ``days`` after T0, reaching each milestone (stage_1=..., won=...) that
    many days after T0."""
    return {
        "system": "hubspot",
        "deal_id": f"d{n}",
        "stage": "x",
        "amount": amount,
        "created_at": T0 + timedelta(days=days),
        "milestones": {m: T0 + timedelta(days=d) for m, d in milestones.items()},
    }
