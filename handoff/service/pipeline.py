"""Pipeline outcomes from the CRM: a deal or opportunity, read after the CRM says it changed,
attributed to the handoff it came from and kept on that lead with its stage history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from handoff.crm.mapping import moment, number, text
from handoff.domain.deal import Deal, Milestone
from handoff.domain.pipeline import merged, not_attributable
from handoff.domain.provenance import vouched_sources
from handoff.domain.record import LeadRecord, TimelineEntry
from handoff.errors import Conflict, StorageError
from handoff.observability import MetricUnit, logger, metrics
from handoff.service.ports import Ports

# Highest first: the milestone an answer and a timeline entry name.
MILESTONE_ORDER = (Milestone.WON, Milestone.LOST, Milestone.STAGE_2, Milestone.STAGE_1)
# Tries at a deal write that other writes to the same lead keep overtaking.
DEAL_WRITE_ATTEMPTS = 4


@dataclass(frozen=True)
class DealRead:
    """A deal as its CRM answered, and who it is about."""

    deal: Deal  # its current stage and amount; no history yet
    # People on the deal, as CRM record ids: contacts (HubSpot, Salesforce contact roles) and,
    # for a converted Salesforce Lead, the Lead itself.
    people: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    at: datetime | None = None  # when the CRM says the change happened


def deal_from_hubspot(deal: dict[str, Any]) -> Deal | None:
    """A CRM v3 deal as a Deal; None when it names no stage or creation time."""
    props = deal.get("properties") or {}
    created = moment(props.get("createdate")) or moment(deal.get("createdAt"))
    stage, deal_id = text(props.get("dealstage"), 128), text(deal.get("id"), 64)
    if not (created and stage and deal_id):
        return None
    try:
        return Deal(
            system="hubspot", deal_id=deal_id, pipeline=text(props.get("pipeline"), 128), stage=stage,
            amount=number(props.get("amount")), created_at=datetime.fromisoformat(created),
        )  # fmt: skip
    except ValidationError:
        return None


def deal_from_salesforce(opportunity: dict[str, Any]) -> Deal | None:
    """An Opportunity as a Deal; None when it names no stage or creation time."""
    created = moment(opportunity.get("CreatedDate"))
    stage, deal_id = text(opportunity.get("StageName"), 128), text(opportunity.get("Id"), 64)
    if not (created and stage and deal_id):
        return None
    try:
        return Deal(
            system="salesforce", deal_id=deal_id, stage=stage, amount=number(opportunity.get("Amount")),
            created_at=datetime.fromisoformat(created),
        )  # fmt: skip
    except ValidationError:
        return None


def _attributed(ports: Ports, read: DealRead) -> tuple[LeadRecord | None, str]:
    """The handoff the deal counts for and how it was linked, or None and why none."""
    system, created = read.deal.system, read.deal.created_at
    days = ports.config.pipeline.attribution_days
    sources = vouched_sources(system, ports.config.crm_sync.write_back_sources)
    # The deal's own people first: the handoff of the person the deal is with outranks a colleague's.
    # Each person's latest handoff received up to the window before the deal was created, not
    # their newest: a contact handed off again after the deal still owes it to the earlier one.
    window = (created - timedelta(days=days), created)
    refusals = []
    people = []
    for record_id in read.people:
        lead = ports.leads.latest_for_crm_record(system, record_id, sources, received_within=window)
        if lead is not None:
            people.append(lead)
            continue
        newest = ports.leads.latest_for_crm_record(system, record_id, sources)  # only to say why not
        if newest is not None:
            why = not_attributable(created, newest.received_at, days) or f"no handoff within {days} days"
            refusals.append(f"{record_id}'s handoff: {why}")
    if people:
        return max(people, key=lambda lead: lead.received_at), "contact"
    accounts = [a for a in read.account_ids if a]
    domains = [d.lower() for d in read.domains if d]
    if accounts or domains:
        # A handoff up to the window before the deal was created (the end is just past it: a deal
        # created in the same instant as the handoff still counts).
        start, end = created - timedelta(days=days), created + timedelta(microseconds=1)
        for lead in ports.leads.for_crm_account(system, accounts, domains, start, end):
            if not_attributable(created, lead.received_at, days) is None:
                return lead, "account"
    if refusals:
        return None, "; ".join(refusals)[:300]
    return None, f"no handoff for its contacts or account within {days} days before it was created"


def _milestone(deal: Deal) -> str:
    return next((m.value for m in MILESTONE_ORDER if deal.reached(m)), "none")


def _detail(deal: Deal) -> str:
    amount = f"{deal.amount:,.2f}" if deal.amount is not None else "no amount"
    return f"{deal.system} deal {deal.deal_id}: stage {deal.stage} ({_milestone(deal)}), {amount}"


def record_deal(ports: Ports, read: DealRead, now: datetime) -> dict[str, str]:
    """Attribute the deal and keep it on its handoff (one entry per deal id, its stage history
    growing as the CRM reports changes); the answer says which lead, or why none."""
    lead, how = _attributed(ports, read)
    deal_id = read.deal.deal_id
    if lead is None:
        logger.info("deal not attributed", extra={"deal_id": deal_id, "reason": how})
        return {"status": "ignored", "deal_id": deal_id, "reason": how}
    # Two events for one lead (two deals, or two changes of one) can run at once: each merges onto
    # the deals it read and writes only if nobody wrote since (deals_version), else reads again.
    for _ in range(DEAL_WRITE_ATTEMPTS):
        item = ports.leads.get_item(lead.lead_id)
        if item is None:
            return {"status": "ignored", "deal_id": deal_id, "reason": "its handoff is gone"}
        record = LeadRecord.model_validate(item)
        answer = _write_deal(ports, read, record, version=item.get("deals_version"), how=how, now=now)
        if answer is not None:
            return answer
    # The webhook answers an error and the CRM delivers the event again.
    raise StorageError(f"deals on lead {lead.lead_id} kept changing during {DEAL_WRITE_ATTEMPTS} writes")


def _write_deal(
    ports: Ports, read: DealRead, lead: LeadRecord, *, version: int | None, how: str, now: datetime
) -> dict[str, str] | None:
    """Merge the deal into the lead's and write it unless another write came first (then None)."""
    deal_id = read.deal.deal_id
    mapping = ports.config.pipeline.stages_for(read.deal.system, read.deal.pipeline)
    kept = next((d for d in lead.deals if d.system == read.deal.system and d.deal_id == deal_id), None)
    at = (read.at or now).astimezone(UTC)
    deal = merged(kept, read.deal.model_copy(update={"linked_by": how}), at=at, mapping=mapping)
    answer = {"status": "linked", "deal_id": deal_id, "lead_id": lead.lead_id, "linked_by": deal.linked_by,
              "milestone": _milestone(deal)}  # fmt: skip
    if kept is not None and kept.stage == deal.stage and kept.amount == deal.amount:
        return answer  # a redelivery, or a change Handoff does not keep: nothing to write
    others = [d for d in lead.deals if not (d.system == deal.system and d.deal_id == deal_id)]
    try:
        ports.leads.update(
            lead.lead_id,
            set_fields={
                "deals": [d.model_dump(mode="json") for d in [*others, deal]],
                "deals_version": (version or 0) + 1,
            },
            timeline=[TimelineEntry(at=now, event="deal", detail=_detail(deal))],
            # A lead stored before deals_version was kept has none: the first write adds it.
            expect={"deals_version": version},
        )
    except Conflict:
        return None
    metrics.add_metric(name="DealsLinked", unit=MetricUnit.Count, value=1)
    return answer
