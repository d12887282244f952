"""A call, email or meeting logged in the CRM is a first touch, exactly like a click on the brief.

The CRM tells Handoff (a HubSpot workflow webhook, a Salesforce Outbound Message on Task); the
activity's type maps to an outcome in config, and a call's own outcome, when the CRM sends it,
decides between connected and attempted (no answer, a voicemail: tried, not reached). The CRM
saying sales accepted the lead (a lifecycle stage, a Lead Status) records sales_accepted the
same way. The record's open handoff gets a disposition from
the rep who owns the activity in the CRM (a rep who no longer owns the lead is recorded as stale,
as everywhere else). An activity Handoff cannot place is acknowledged and ignored, and so is one
it has recorded already or that happened before the current assignment: a signed body sent
again, however late, changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handoff.config.crm_sync import HUBSPOT_CALL_OUTCOME_LABELS, CrmSyncConfig
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
    # A call's outcome as the CRM sent it (HubSpot's GUID or label, Salesforce's CallDisposition).
    call_outcome: str | None = None
    # The outcome itself, when the CRM's own state names it (sales accepted), with what said so.
    outcome: str | None = None
    note: str | None = None
    # A task's state as the CRM sent it: True only when it is completed.
    completed: bool | None = None


SALES_ACCEPTED = "sales_accepted"
TASK = "TASK"


def call_outcome(config: CrmSyncConfig, system: str, value: str) -> tuple[str, str | None]:
    """A call's outcome as people name it (HubSpot's default GUIDs read as their labels), and the
    outcome [crm_sync.<crm>.call_outcomes] maps it to, in any case; None when it is not listed."""
    name = value.strip()
    mapping: dict[str, str] = {}
    if system == "hubspot":
        name = HUBSPOT_CALL_OUTCOME_LABELS.get(name.lower(), name)
        mapping = config.hubspot.call_outcomes
    elif system == "salesforce":
        mapping = config.salesforce.call_outcomes
    wanted = name.lower()
    return name, next((outcome for key, outcome in mapping.items() if key.strip().lower() == wanted), None)


def outcome_for(config: CrmSyncConfig, activity: CrmActivity) -> tuple[str | None, str]:
    """The outcome an activity records, and how the disposition's note describes it. A call that
    says how it went records that (a call nobody answered is no connection); one that does not,
    or names an outcome not listed, records what its type does."""
    if activity.outcome:
        return activity.outcome, activity.note or f"{activity.type} in {activity.system}"
    kind = activity.type.strip().upper()
    note = f"{kind.lower()} logged in {activity.system}"
    if kind == "CALL" and activity.call_outcome:
        said, outcome = call_outcome(config, activity.system, activity.call_outcome)
        return outcome or config.activities.get(kind), f"{note}: {said[:80]}"
    return config.activities.get(kind), note


def record_activity(ports: Ports, activity: CrmActivity, *, now: datetime) -> dict[str, str]:
    """The answer for one activity: the disposition it recorded, or why it was ignored."""
    system, record_id, activity_type, owner_id = (
        activity.system,
        activity.record_id,
        activity.type,
        activity.owner_id,
    )
    outcome, note = outcome_for(ports.config.crm_sync, activity)
    if not outcome:
        return {
            "status": "ignored",
            "reason": f"activity type {activity_type[:40]!r} is not a touch in [crm_sync.activities]",
        }
    if activity_type.strip().upper() == TASK and not activity.completed:
        # A task is a to-do until it is done: created, or edited, it says nobody followed up yet.
        return {"status": "ignored", "reason": "a task not yet completed is no touch"}
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
        note=note,
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
