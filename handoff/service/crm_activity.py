"""A call, email or meeting logged in the CRM is a first touch, exactly like a click on the brief.

The CRM tells Handoff (a HubSpot workflow webhook, a Salesforce Outbound Message on Task); the
activity's type maps to an outcome in config; the record's open handoff gets a disposition from
the rep who owns the activity in the CRM (a rep who no longer owns the lead is recorded as stale,
as everywhere else). An activity Handoff cannot place is acknowledged and ignored.
"""

from __future__ import annotations

from datetime import datetime

from handoff.observability import MetricUnit, logger, metrics
from handoff.service import touch
from handoff.service.ports import Ports


def record_activity(
    ports: Ports, system: str, record_id: str, activity_type: str, owner_id: str | None, *, now: datetime
) -> dict[str, str]:
    """The answer for one activity: the disposition it recorded, or why it was ignored."""
    outcome = ports.config.crm_sync.activities.get(activity_type.strip().upper())
    if not outcome:
        return {
            "status": "ignored",
            "reason": f"activity type {activity_type[:40]!r} is not a touch in [crm_sync.activities]",
        }
    lead = ports.leads.open_for_crm_record(system, record_id)
    if lead is None:
        return {"status": "ignored", "reason": f"no open handoff for {system} record {record_id[:40]}"}
    rep = next((r for r in ports.reps.list_all() if r.owns(owner_id)), None) if owner_id else None
    result = touch.record_disposition(
        ports,
        lead.lead_id,
        outcome=outcome,
        reason=None,
        note=f"{activity_type.strip().lower()} logged in {system}",
        by=f"crm:{system}",
        now=now,
        # An owner Handoff does not know is someone else: recorded, but not the owner's touch.
        rep_id=rep.rep_id if rep else (f"crm:{owner_id}" if owner_id else None),
    )
    metrics.add_metric(name="CrmActivityTouches", unit=MetricUnit.Count, value=1)
    logger.info(
        "crm activity recorded", extra={"lead_id": lead.lead_id, "outcome": outcome, "system": system}
    )
    return {"lead_id": lead.lead_id, **result}
