"""CRM write-back as its own retried step: the owner, the lead status and the owner's task land
in the CRM.

Steps call ``request`` (route after assigning, touch after an outcome, notify on re-nurture,
and notify with the brief for the owner's task); it queues a message and never raises, so the
CRM can never block or lose a handoff. The crm_sync Lambda takes messages off the queue and
calls ``apply``: one CRM call, retried with backoff (Retry-After honoured); when that still fails the message returns to the queue, and
after its last receive it lands in the dead-letter queue, which alarms. Each try that fails
is on the lead's timeline. Writes are idempotent: a PATCH of the same values, and a
Powertools idempotency record per lead, step and round. A task is a create, which the CRM would
repeat: besides the idempotency record, the task's id is kept on the lead (crm_tasks) and a
round that has one creates none. A create is sent once per try (no in-call retry after a timeout
or a 5xx), its body carries a marker line for the lead and round, and the lead notes the round
tried (crm_task_tried) before sending: a try after one whose answer was lost first looks in the
CRM for a task with the marker and keeps that one.

What remains: a task the CRM saved but does not yet show to the lookup (it reads the contact's
task associations in HubSpot, the Lead's or Contact's newest Tasks in Salesforce; the retry
comes after the queue's visibility timeout, well after the create), or one a rep edited the
marker out of or deleted in between, is created again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from pydantic import BaseModel, Field

from handoff.crm.crm_http import CrmRecordMissing, CrmUnavailable
from handoff.domain.clock import utcnow
from handoff.domain.crm_write import (
    HUBSPOT_TASK_TO_CONTACT,
    TASK,
    CrmWrite,
    plan_task,
    plan_write,
    task_marker,
)
from handoff.domain.lead import LEAD_ID_PATTERN
from handoff.domain.provenance import write_back_refusal
from handoff.domain.record import CrmTask, LeadRecord, TimelineEntry
from handoff.domain.rep import Rep
from handoff.email.brief import build_brief
from handoff.email.crm_task import task_link, task_text
from handoff.errors import Conflict, StorageError
from handoff.observability import MetricUnit, logger, metrics
from handoff.service.ports import Ports

SYSTEMS = ("hubspot", "salesforce")
# Kept on the lead beside the record: the assignment round whose task create was last sent.
TASK_TRIED = "crm_task_tried"
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
    """Queue the write-back for ``action``; a queue problem is logged and counted, never raised.
    Where write-back is refused, the lead's timeline says why instead (refusal_note)."""
    queue = ports.write_back
    if queue is None or not _syncs(ports, record):
        return
    refusal = refused(ports, record)
    if refusal is not None:
        try:
            ports.leads.update(record.lead_id, timeline=[_skipped(action, refusal, utcnow())])
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


def refusal_note(ports: Ports, record: LeadRecord, action: str, now: datetime) -> TimelineEntry | None:
    """The timeline's note that ``action`` is not written back to this lead's CRM record, and why;
    None where it is (or nothing is written back). A step that writes the lead anyway carries the
    note in that write, and then does not request the write-back."""
    refusal = refused(ports, record) if _syncs(ports, record) else None
    return None if refusal is None else _skipped(action, refusal, now)


def _skipped(action: str, refusal: str, now: datetime) -> TimelineEntry:
    """The timeline's crm_sync_skipped entry: ``action`` not written back, and why."""
    return TimelineEntry(
        at=now, event="crm_sync_skipped", detail=f"{action} not written back: {refusal}"[:300]
    )


def _syncs(ports: Ports, record: LeadRecord) -> bool:
    """Whether write-back is on, and this lead names a record in a CRM Handoff writes to."""
    return (
        ports.write_back is not None
        and ports.config.crm_sync.enabled
        and record.crm.system in SYSTEMS
        and bool(record.crm.record_id)
    )


def request_task(ports: Ports, record: LeadRecord) -> None:
    """With the brief: the owner's task in the lead's CRM, where its create_tasks is on."""
    config = ports.config.crm_sync
    if {"hubspot": config.hubspot.create_tasks, "salesforce": config.salesforce.create_tasks}.get(
        record.crm.system
    ):
        request(ports, record, TASK)


def refused(ports: Ports, record: LeadRecord) -> str | None:
    """Why this lead's CRM record may not be written, or None: only the CRM's own webhook (or a
    generic source ops trust) vouches that the record is the lead's."""
    return write_back_refusal(
        record.source, record.crm.system, record.crm.record_id, ports.config.crm_sync.write_back_sources
    )


def _find_task(ports: Ports, write: CrmWrite, marker: str) -> str | None:
    if write.system == "hubspot":
        return ports.hubspot.find_task(write.record_id, marker)
    return ports.salesforce.find_task(write.record_id, marker)


def _write(ports: Ports, write: CrmWrite) -> str | None:
    """Make the write: a created record's id, or None for an update."""
    if write.kind == "create" and write.system == "hubspot":
        return ports.hubspot.create_task(write.record_id, write.fields, HUBSPOT_TASK_TO_CONTACT)
    if write.kind == "create":
        return ports.salesforce.create(write.sobject, write.fields)
    if write.system == "hubspot":
        ports.hubspot.update_contact(write.record_id, write.fields)
    else:
        ports.salesforce.update(write.sobject, write.record_id, write.fields)
    return None


def _timeline(ports: Ports, lead_id: str, now: datetime, event: str, detail: str) -> None:
    ports.leads.update(lead_id, timeline=[TimelineEntry(at=now, event=event, detail=detail[:300])])


def _apply(ports: Ports, message: dict[str, Any], now: datetime) -> str:
    sync = SyncRequest.model_validate(message)
    item = ports.leads.get_item(sync.lead_id)
    if item is None:
        return "no such lead"
    record = LeadRecord.model_validate(item)
    refusal = refused(ports, record)
    if refusal is not None:  # queued before the check, or before config stopped trusting the source
        ports.leads.update(sync.lead_id, timeline=[_skipped(sync.action, refusal, now)])
        return "not allowed"
    rep = ports.reps.get(record.assignment.rep_id) if record.assignment else None
    write = _plan(ports, record, rep, sync, now)
    if isinstance(write, str):
        return write
    try:
        if write.kind == "create":
            return _create_task(ports, item, record, sync, write, now=now)
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


def _create_task(
    ports: Ports,
    item: dict[str, Any],
    record: LeadRecord,
    sync: SyncRequest,
    write: CrmWrite,
    *,
    now: datetime,
) -> str:
    """Create the round's task, or keep the one an earlier try made: a try after one that sent its
    create (noted before sending) first looks in the CRM for the task's marker."""
    if item.get(TASK_TRIED) == sync.round:
        found = _find_task(ports, write, task_marker(record.lead_id, sync.round))
        if found is not None:
            return _note_task(ports, record, sync, write, task_id=found, now=now, found=True)
    ports.leads.update(sync.lead_id, set_fields={TASK_TRIED: sync.round})
    created = _write(ports, write)
    if created is None:  # a create always answers an id (or raises): kept for the type
        raise CrmUnavailable(f"{write.system} created a task without answering its id")
    return _note_task(ports, record, sync, write, task_id=created, now=now)


def _plan(
    ports: Ports, record: LeadRecord, rep: Rep | None, sync: SyncRequest, now: datetime
) -> CrmWrite | str:
    """The write for this request, or why there is none."""
    if sync.action != TASK:
        write = plan_write(record, rep, sync.action, ports.config.crm_sync)
    elif any(t.round == sync.round for t in record.crm_tasks):
        return "task exists"  # a redelivery after the task was created and noted
    elif sync.round != len(record.assignment_history):
        return "reassigned since"  # the new owner's round asks for its own task
    else:
        write = _task(ports, record, rep, now)
    return write if write is not None else "nothing to write"


def _task(ports: Ports, record: LeadRecord, rep: Rep | None, now: datetime) -> CrmWrite | None:
    """The owner's task: the brief's who, why now, top reasons and deadline, and its "Connected" link."""
    if record.assignment is None or record.sla is None:
        return None
    # notify imports this module to queue the task; its link-signing lives there.
    from handoff.service.notify import disposition_links

    links = disposition_links(ports, record, record.assignment, now)
    link = task_link(links)
    brief = build_brief(record, ports.config, now, [link] if link else [])
    subject, body = task_text(brief)
    body = f"{body}\n{task_marker(record.lead_id, len(record.assignment_history))}"
    return plan_task(record, rep, ports.config.crm_sync, subject=subject, body=body)


def _note_task(
    ports: Ports,
    record: LeadRecord,
    sync: SyncRequest,
    write: CrmWrite,
    *,
    task_id: str,
    now: datetime,
    found: bool = False,
) -> str:
    """Keep the new task's id on the lead: a redelivered request for this round then creates none.
    ``found``: an earlier try made it, and lost the CRM's answer."""
    assert record.sla is not None  # noqa: S101 - a task is planned only with an SLA
    task = CrmTask(
        system=write.system, task_id=task_id, round=sync.round, due_at=record.sla.due_at, created_at=now
    )
    ports.leads.update(
        sync.lead_id,
        append={"crm_tasks": [task.model_dump(mode="json")]},
        timeline=[
            TimelineEntry(
                at=now,
                event="crm_task_created",
                detail=(
                    f"{write.describe()}: {write.system} task {task_id}"
                    + (" (found: an earlier try's answer was lost)" if found else "")
                )[:300],
            )
        ],
    )
    if found:
        return "task found"
    metrics.add_metric(name="CrmTasksCreated", unit=MetricUnit.Count, value=1)
    return "task created"


def apply(ports: Ports, message: dict[str, Any], now: datetime) -> str:
    """Write one queued step back to the CRM; raises CrmUnavailable so the queue retries it.
    Behind an idempotency record per lead, step and round, where the stack keeps them."""
    result: str = ports.idempotent(_apply, IDEMPOTENCY)(message=message, ports=ports, now=now)
    return result
