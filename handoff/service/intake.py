"""Accept a canonical lead: dedupe, qualify, persist, start the handoff workflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handoff.config import HandoffConfig
from handoff.domain.lead import Lead
from handoff.domain.provenance import crm_link
from handoff.domain.qualify import qualify
from handoff.domain.record import LeadRecord, LeadStatus, TimelineEntry
from handoff.errors import AlreadyExists, StorageError, StorageThrottled, StorageUnanswered
from handoff.observability import MetricUnit, logger, metrics
from handoff.service.ports import Ports


@dataclass(frozen=True)
class IntakeResult:
    status_code: int
    body: dict[str, Any]


def answer_for(record: LeadRecord) -> IntakeResult:
    """The answer a delivery gets; a repeated delivery gets the same one."""
    if record.status == LeadStatus.NURTURE:
        q = record.qualification
        body: dict[str, Any] = {
            "lead_id": record.lead_id,
            "status": "nurture",
            "reasons": [r.model_dump() for r in q.reasons],
        }
        if q.missing:
            body["missing"] = q.missing
        if q.excluded:
            body["excluded"] = q.excluded
        return IntakeResult(200, body)
    return IntakeResult(202, {"lead_id": record.lead_id, "status": record.status.value})


def start_workflow(ports: Ports, record: LeadRecord, now: datetime) -> None:
    """Start the handoff execution. Throttled (a burst past Step Functions' start quota) or
    unanswered (a timeout: it may have started), the lead stays ``routing`` and sla_check starts
    it within a minute or two, or finds it running; any other failure leaves it visibly
    ``failed``. Never lost either way."""
    try:
        # The lead id is the execution name: a second start is rejected, not repeated.
        ports.workflow.start(record.lead_id, {"lead_id": record.lead_id})
    except (StorageThrottled, StorageUnanswered) as exc:
        logger.warning("start_execution deferred", extra={"lead_id": record.lead_id, "error": exc.cause_name})
        metrics.add_metric(name="StartsDeferred", unit=MetricUnit.Count, value=1)
        ports.leads.update(
            record.lead_id,
            # Late at once: sla_check's next run (every few minutes) starts the workflow.
            set_fields={"check_at": now},
            timeline=[
                TimelineEntry(
                    at=now,
                    event="start_deferred",
                    detail=f"workflow start {'throttled' if isinstance(exc, StorageThrottled) else 'unanswered'} "
                    f"({exc.cause_name}); sla_check starts it",
                )
            ],
        )
    except StorageError as exc:
        _mark_start_failed(ports, record.lead_id, now, exc)


def _mark_start_failed(ports: Ports, lead_id: str, now: datetime, exc: StorageError) -> None:
    cause = exc.cause_name
    logger.error("start_execution failed", extra={"lead_id": lead_id, "error": cause})
    metrics.add_metric(name="LeadsFailed", unit=MetricUnit.Count, value=1)
    ports.leads.update(
        lead_id,
        set_fields={
            "status": LeadStatus.FAILED.value,
            "failed_from": LeadStatus.ROUTING.value,
            "failure": {"error": "StartExecution", "cause": cause},
        },
        timeline=[TimelineEntry(at=now, event="failed", detail=f"workflow did not start: {cause}")],
    )


def keep_crm_link(lead: Lead, config: HandoffConfig) -> tuple[Lead, str | None]:
    """The lead with its CRM link only when it points at the CRM's own host over https; else
    without it, and why (a link nobody vouches for never reaches a rep's brief)."""
    crm = lead.crm
    adapters = config.adapters
    kept = crm_link(
        crm.system,
        crm.record_url,
        instance_url=adapters.salesforce.instance_url,
        hosts=adapters.crm_link_hosts,
    )
    if kept == crm.record_url:
        return lead, None
    why = f"crm.record_url dropped: not an https link on a host of {crm.system[:32]} ([adapters] crm_link_hosts)"
    return lead.model_copy(update={"crm": crm.model_copy(update={"record_url": None})}), why


def accept(ports: Ports, lead: Lead, now: datetime, *, notes: tuple[TimelineEntry, ...] = ()) -> IntakeResult:
    """``notes``: what the adapter learnt (or could not) on the way in, for the lead's timeline."""
    lead, dropped = keep_crm_link(lead, ports.config)
    record = LeadRecord.from_lead(lead, qualify(lead, ports.config.qualify, now), now)
    if dropped:
        record.timeline.append(TimelineEntry(at=now, event="crm_link_dropped", detail=dropped))
    record.timeline.extend(notes)
    try:
        ports.leads.create(record)
    except AlreadyExists:
        existing = ports.leads.get(record.lead_id)
        if existing is None:  # created and deleted in between: treat as a storage fault, sender retries
            raise StorageError(f"lead {record.lead_id} vanished during dedupe") from None
        logger.info("duplicate delivery", extra={"lead_id": record.lead_id})
        metrics.add_metric(name="DuplicateDeliveries", unit=MetricUnit.Count, value=1)
        if existing.status == LeadStatus.ROUTING:
            # The first delivery may have died between its write and its start; starting
            # again is safe (the execution name is the lead id), so a retry repairs it.
            start_workflow(ports, existing, now)
        return answer_for(existing)

    metrics.add_metric(name="LeadsReceived", unit=MetricUnit.Count, value=1)
    logger.info(
        "lead qualified",
        extra={
            "lead_id": record.lead_id,
            "ready": record.qualification.ready,
            "tier": record.qualification.tier,
        },
    )
    if record.qualification.ready:
        metrics.add_metric(name="LeadsQualified", unit=MetricUnit.Count, value=1)
        start_workflow(ports, record, now)
    return answer_for(record)
