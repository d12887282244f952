"""A call, email or meeting logged in the CRM is a first touch, exactly like a click on the brief.

The CRM tells Handoff (a HubSpot workflow webhook, a Salesforce Outbound Message on Task); the
activity's type maps to an outcome in config; the record's open handoff gets a disposition from
the rep who owns the activity in the CRM (a rep who no longer owns the lead is recorded as stale,
as everywhere else). An activity Handoff cannot place is acknowledged and ignored, and so is one
it has recorded already or that happened before the current assignment: a signed body sent
again, however late, changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handoff.domain.provenance import vouched_sources
from handoff.observability import MetricUnit, logger, metrics
from handoff.service import touch
from handoff.service.ports import Ports


@dataclass(frozen=True)
class CrmActivity:
    """One activity as the CRM reported it."""

    system: str
    record_id: str
    type: str
    owner_id: str | None
    # What identifies this activity in its CRM (a Task id; HubSpot's record, type and time).
    ref: str
    # When it happened, when the CRM said so.
    at: datetime | None = None


def record_activity(ports: Ports, activity: CrmActivity, *, now: datetime) -> dict[str, str]:
    """The answer for one activity: the disposition it recorded, or why it was ignored."""
    system, record_id, activity_type, owner_id = (
        activity.system,
        activity.record_id,
        activity.type,
        activity.owner_id,
    )
    outcome = ports.config.crm_sync.activities.get(activity_type.strip().upper())
    if not outcome:
        return {
            "status": "ignored",
            "reason": f"activity type {activity_type[:40]!r} is not a touch in [crm_sync.activities]",
        }
    # Only a lead whose record this CRM (or a trusted sender) named: a generic delivery naming the
    # same record id can neither take the touch nor hide the real handoff.
    sources = vouched_sources(system, ports.config.crm_sync.write_back_sources)
    lead = ports.leads.open_for_crm_record(system, record_id, sources)
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
        ref=activity.ref,
        happened_at=activity.at,
    )
    if result.get("status") == "ignored":
        metrics.add_metric(name="CrmActivitiesIgnored", unit=MetricUnit.Count, value=1)
        return result
    metrics.add_metric(name="CrmActivityTouches", unit=MetricUnit.Count, value=1)
    logger.info(
        "crm activity recorded", extra={"lead_id": lead.lead_id, "outcome": outcome, "system": system}
    )
    return {"lead_id": lead.lead_id, **result}
