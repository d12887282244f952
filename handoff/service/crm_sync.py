"""CRM write-back as its own retried step: the owner and the lead status land in the CRM.

Steps call ``request`` (route after assigning, touch after an outcome, notify on re-nurture);
it queues a message and never raises, so the CRM can never block or lose a handoff. The
crm_sync Lambda takes messages off the queue and calls ``apply``: one PATCH, retried with
backoff (Retry-After honoured); when that still fails the message returns to the queue, and
after its last receive it lands in the dead-letter queue, which alarms. Each try that fails
is on the lead's timeline. Writes are idempotent: a PATCH of the same values, and a
Powertools idempotency record per lead, step and round.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from pydantic import BaseModel, Field

from handoff.crm.crm_http import CrmRecordMissing, CrmUnavailable
from handoff.domain.clock import utcnow
from handoff.domain.crm_write import CrmWrite, plan_write
from handoff.domain.lead import LEAD_ID_PATTERN
from handoff.domain.provenance import write_back_refusal
from handoff.domain.record import LeadRecord, TimelineEntry
from handoff.errors import Conflict, StorageError
from handoff.observability import MetricUnit, logger, metrics
from handoff.service.ports import Ports

SYSTEMS = ("hubspot", "salesforce")
# A write that succeeded is not repeated for a day, whatever redelivers its message.
IDEMPOTENCY_SECONDS = 24 * 3600
# The handler registers its Lambda context here, so an in-progress record expires with the invocation.
IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[lead_id, action, round]", expires_after_seconds=IDEMPOTENCY_SECONDS
)


class SyncRequest(BaseModel):
    lead_id: str = Field(pattern=f"^{LEAD_ID_PATTERN}$")
    action: str = Field(min_length=1, max_length=64)
    # Which assignment it belongs to: a reassigned lead's new owner is a new write.
    round: int = Field(default=0, ge=0)


def request(ports: Ports, record: LeadRecord, action: str, round: int | None = None) -> None:
    """Queue the write-back for ``action``; a queue problem is logged and counted, never raised."""
    queue = ports.write_back
    if queue is None or not ports.config.crm_sync.enabled:
        return
    if record.crm.system not in SYSTEMS or not record.crm.record_id:
        return
    refusal = refused(ports, record)
    if refusal is not None:
        try:
            _timeline(
                ports, record.lead_id, utcnow(), "crm_sync_skipped", f"{action} not written back: {refusal}"
            )
        except (StorageError, Conflict) as exc:  # a note, never a reason to fail the step
            logger.warning("crm sync skip not noted", extra={"lead_id": record.lead_id, "error": str(exc)})
        return
    rounds = len(record.assignment_history) if round is None else round
    message = SyncRequest(lead_id=record.lead_id, action=action, round=rounds)
    try:
        queue.send(message.model_dump_json())
    except StorageError as exc:
        metrics.add_metric(name="CrmSyncNotQueued", unit=MetricUnit.Count, value=1)
        logger.error("crm sync not queued", extra={"lead_id": record.lead_id, "error": exc.cause_name})


def refused(ports: Ports, record: LeadRecord) -> str | None:
    """Why this lead's CRM record may not be written, or None: only the CRM's own webhook (or a
    generic source ops trust) vouches that the record is the lead's."""
    return write_back_refusal(
        record.source, record.crm.system, record.crm.record_id, ports.config.crm_sync.write_back_sources
    )


def _write(ports: Ports, write: CrmWrite) -> None:
    if write.system == "hubspot":
        ports.hubspot.update_contact(write.record_id, write.fields)
    else:
        ports.salesforce.update(write.sobject, write.record_id, write.fields)


def _timeline(ports: Ports, lead_id: str, now: datetime, event: str, detail: str) -> None:
    ports.leads.update(lead_id, timeline=[TimelineEntry(at=now, event=event, detail=detail[:300])])


def _apply(ports: Ports, message: dict[str, Any], now: datetime) -> str:
    sync = SyncRequest.model_validate(message)
    record = ports.leads.get(sync.lead_id)
    if record is None:
        return "no such lead"
    refusal = refused(ports, record)
    if refusal is not None:  # queued before the check, or before config stopped trusting the source
        _timeline(ports, sync.lead_id, now, "crm_sync_skipped", f"{sync.action} not written back: {refusal}")
        return "not allowed"
    rep = ports.reps.get(record.assignment.rep_id) if record.assignment else None
    write = plan_write(record, rep, sync.action, ports.config.crm_sync)
    if write is None:
        return "nothing to write"
    try:
        _write(ports, write)
    except CrmRecordMissing:
        _timeline(
            ports, sync.lead_id, now, "crm_sync_skipped", f"{write.system} record {write.record_id} is gone"
        )
        return "record gone"
    except CrmUnavailable as exc:
        _timeline(ports, sync.lead_id, now, "crm_sync_failed", f"{sync.action}: {exc}")
        metrics.add_metric(name="CrmSyncFailed", unit=MetricUnit.Count, value=1)
        raise
    _timeline(ports, sync.lead_id, now, "crm_synced", f"{sync.action}: {write.describe()}")
    metrics.add_metric(name="CrmSynced", unit=MetricUnit.Count, value=1)
    return "written"


def apply(ports: Ports, message: dict[str, Any], now: datetime) -> str:
    """Write one queued step back to the CRM; raises CrmUnavailable so the queue retries it.
    Behind an idempotency record per lead, step and round, where the stack keeps them."""
    result: str = ports.idempotent(_apply, IDEMPOTENCY)(message=message, ports=ports, now=now)
    return result
