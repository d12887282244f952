"""The notify step's mail: the brief to the rep, sent once per assignment round, and the
helpers every email Handoff sends shares (envelope, send-once, signed outcome links)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from handoff.deploy import credentials
from handoff.deploy.settings import settings
from handoff.domain import pacing
from handoff.domain.link_tokens import make_token
from handoff.domain.record import Assignment, LeadRecord, LeadStatus, Notification, TimelineEntry
from handoff.email import slack
from handoff.email.brief import LINK_OUTCOMES, BriefView, Link, build_brief
from handoff.email.render import (
    RenderedEmail,
    render_brief,
)
from handoff.email.send import EmailThrottled, Envelope
from handoff.errors import Conflict, HandoffError, NotFound
from handoff.observability import MetricUnit, lead_metric, logger, metrics
from handoff.service import crm_sync, hours
from handoff.service.executions import check_at
from handoff.service.ports import Ports


def load_assigned(ports: Ports, lead_id: str) -> tuple[LeadRecord, Assignment]:
    record = ports.leads.get(lead_id)
    if record is None:
        raise NotFound(f"lead {lead_id} not found")
    if record.assignment is None or record.sla is None:
        raise Conflict(f"lead {lead_id} has no assignment yet")
    return record, record.assignment


def assignment_round(record: LeadRecord) -> int:
    return len(record.assignment_history)


def _already_sent(record: LeadRecord, kind: str, to: str) -> bool:
    # A retried step after a successful send must not email twice; a reassignment starts a new round.
    return any(
        n.kind == kind and n.to == to and n.round == assignment_round(record) for n in record.notifications
    )


def envelope_to(ports: Ports, to: str, tags: tuple[tuple[str, str], ...] = ()) -> Envelope:
    """Sender, display name, Reply-To and configuration set: the same for every email Handoff sends."""
    config = ports.config.email
    return Envelope(
        sender=settings().sender,
        to=to,
        from_name=config.from_name,
        reply_to=config.reply_to,
        configuration_set=settings().ses_configuration_set,
        tags=tags,
    )


# SES message tags on every brief. SES can publish a bounce within a second of sending, before
# the message id is stored on the lead; the tags name the lead in the event all the same.
LEAD_TAG = "lead_id"
KIND_TAG = "kind"
BRIEF_KIND = "brief"


def brief_tags(lead_id: str) -> tuple[tuple[str, str], ...]:
    return ((LEAD_TAG, lead_id), (KIND_TAG, BRIEF_KIND))


# A send SES refuses at its turn is tried at its next turns, in order, before the step is refused.
THROTTLED_TURNS = 3
RATE_TAKEN = "the account's SES sending rate is taken for the next moments"


class TurnAhead(EmailThrottled):
    """The email's turn on the sends' clock is further off than a step waits (sends that came
    late, or SES refusals, pushed the clock on). ``at``: that turn, held for the email when
    ``held``, else only when the clock is next free."""

    def __init__(self, at: float, *, held: bool):
        super().__init__(RATE_TAKEN)
        self.at = at
        self.held = held


def send_paced(
    ports: Ports,
    email: RenderedEmail,
    envelope: Envelope,
    now: datetime,
    at: float | None = None,
    *,
    turn: float = 0.0,
    keep_place: bool = False,
) -> str:
    """Send at moment ``at`` (epoch seconds) on the account's send schedule, or, with none, at the
    next moment if it comes within a step's short wait; EmailThrottled otherwise (nothing is
    held, and the step is retried with jitter). ``turn``: a turn on the sends' clock already
    held for it. With ``keep_place``, a turn further off than a step waits is held and handed
    back (TurnAhead) for the caller to wait for. The SES message id."""
    if at is None:
        taken = ports.send_schedule.take(now.timestamp(), within=pacing.WAIT_IN_STEP_SECONDS)
        if taken is None:
            raise EmailThrottled(RATE_TAKEN)
        at = taken.moments[0]
    for _ in range(THROTTLED_TURNS):
        if not turn:
            next_turn = ports.send_schedule.turn(
                at, within=None if keep_place else pacing.WAIT_IN_STEP_SECONDS
            )
            if not next_turn.taken or next_turn.at - max(at, now.timestamp()) > pacing.WAIT_IN_STEP_SECONDS:
                raise TurnAhead(next_turn.at, held=next_turn.taken)
            turn = next_turn.at
        try:
            return ports.mailer.send(email, envelope, at=turn)
        except EmailThrottled:
            at, turn = turn, 0.0  # refused at its turn: the next one on the sends' clock
    raise EmailThrottled(RATE_TAKEN)


def _send(
    ports: Ports,
    record: LeadRecord,
    render: Callable[[], RenderedEmail],
    *,
    kind: str,
    to: str,
    now: datetime,
    tags: tuple[tuple[str, str], ...] = (),
    at: float | None = None,
    turn: float = 0.0,
    keep_place: bool = False,
) -> Notification:
    message_id = send_paced(
        ports, render(), envelope_to(ports, to, tags), now, at, turn=turn, keep_place=keep_place
    )
    metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=1)
    logger.info("email sent", extra={"lead_id": record.lead_id, "kind": kind, "message_id": message_id})
    return Notification(to=to, kind=kind, sent_at=now, message_id=message_id, round=assignment_round(record))


def send_once(
    ports: Ports,
    record: LeadRecord,
    kind: str,
    to: str,
    render: Callable[[], RenderedEmail],
    *,
    now: datetime,
    at: float | None = None,
) -> list[Notification]:
    """Send unless this round already has it (a retried step): the notification to record, if any."""
    if _already_sent(record, kind, to):
        return []
    return [_send(ports, record, render, kind=kind, to=to, now=now, at=at)]


def send_since(
    ports: Ports,
    record: LeadRecord,
    kind: str,
    to: str,
    render: Callable[[], RenderedEmail],
    *,
    since: datetime,
    now: datetime,
) -> list[Notification]:
    """For a kind sent more than once a round (the follow-up cadence's steps): send unless one
    already went to ``to`` at or after ``since`` (the step came due), so a retried step sends once."""
    if any(n.kind == kind and n.to == to and n.sent_at >= since for n in record.notifications):
        return []
    return [_send(ports, record, render, kind=kind, to=to, now=now)]


def disposition_links(ports: Ports, record: LeadRecord, assignment: Assignment, now: datetime) -> list[Link]:
    """One signed link per outcome, bound to this lead and this rep; none without a public URL."""
    base = settings().public_base_url.rstrip("/")
    if not base:
        return []
    key = ports.secret(credentials.LINK_KEY.name)
    ttl = timedelta(days=ports.config.links.ttl_days)
    return [
        Link(
            label=label,
            url=f"{base}/d/"
            + make_token(
                key, lead_id=record.lead_id, rep_id=assignment.rep_id, outcome=outcome, now=now, ttl=ttl
            ),
        )
        for outcome, label in LINK_OUTCOMES
    ]


def _post_to_slack(
    ports: Ports, record: LeadRecord, assignment: Assignment, brief: BriefView, now: datetime
) -> TimelineEntry:
    """Slack is a second channel: a failure is written on the timeline and never blocks the handoff."""
    secret_name = assignment.slack_secret or ports.config.slack.team_secret
    try:
        slack.post(ports.secret(secret_name), slack.blocks(brief))
    # Powertools turns any failure to read the secret (a ClientError included) into GetParameterError.
    except (slack.SlackFailed, HandoffError, GetParameterError, ValueError) as exc:
        metrics.add_metric(name="SlackFailures", unit=MetricUnit.Count, value=1)
        logger.warning("slack failed", extra={"lead_id": record.lead_id, "error": type(exc).__name__})
        return TimelineEntry(at=now, event="slack_failed", detail=str(exc)[:200])
    metrics.add_metric(name="SlackPosts", unit=MetricUnit.Count, value=1)
    return TimelineEntry(at=now, event="slack_posted", detail=f"brief posted via {secret_name}")


def _copy_due(assignment: Assignment) -> bool:
    return bool(assignment.over_capacity and assignment.manager_email)


def _manager_copy(
    ports: Ports,
    record: LeadRecord,
    assignment: Assignment,
    now: datetime,
    timeline: list[TimelineEntry],
    *,
    at: float | None,
) -> list[Notification]:
    """An owner given a lead over capacity: their manager gets the brief (without the rep's outcome
    links) so the load is seen. A copy that fails is on the timeline; it never holds up the rep's."""
    to = assignment.manager_email
    if not to or not _copy_due(assignment):
        return []
    brief = build_brief(record, ports.config, now, links=[])
    try:
        copy = send_once(ports, record, "over_capacity_copy", to, lambda: render_brief(brief), now=now, at=at)
    except HandoffError as exc:
        timeline.append(TimelineEntry(at=now, event="manager_copy_failed", detail=str(exc)[:200]))
        return []
    timeline.append(
        TimelineEntry(at=now, event="manager_told", detail=f"over capacity: {assignment.over_capacity}")
    )
    return copy


def _first_touch_wait(ports: Ports, record: LeadRecord, assignment: Assignment, now: datetime) -> int:
    """How long the workflow may wait, from now, before its next step: the SLA (into the rep's
    working time) and the reminder's grace."""
    wait = hours.lapse_wait(ports, assignment, record.sla.due_at, now) if record.sla else 0
    return wait + ports.config.escalation.reminder_grace_seconds


@dataclass(frozen=True)
class BriefPace:
    """Where the brief stands: sent (no wait), or waiting ``wait_seconds`` for its ``moments``
    on the send schedule (the brief's, then the manager's copy's), which the workflow hands back."""

    moments: tuple[float, ...] = ()
    wait_seconds: int = 0
    # Its turn on the sends' clock, when one further off than a step waits is held for it.
    turn: float = 0.0


def _handed_back(
    lead_id: str, moments: tuple[float, ...], wait: float, why: str, turn: float = 0.0
) -> BriefPace:
    """The brief unsent, for the workflow to wait ``wait`` seconds (less the early wake) and call
    again with its moments, and its turn on the sends' clock when one is held for it."""
    logger.info(why, extra={"lead_id": lead_id, "wait_seconds": round(wait)})
    return BriefPace(moments=moments, wait_seconds=pacing.workflow_wait(wait), turn=turn)


def send_brief(
    ports: Ports, lead_id: str, now: datetime, moments: tuple[float, ...] = (), turn: float = 0.0
) -> BriefPace:
    """Email the brief at its moment on the account's send schedule. A brief whose moment is
    further off than a step should wait is handed back with its moments: the workflow waits
    (running nothing) and calls again with them, so the brief goes out at its turn, once. One
    whose turn on the sends' clock is that far off is handed back holding the turn, so it keeps
    its place behind the sends ahead of it."""
    record, assignment = load_assigned(ports, lead_id)
    to = assignment.rep_email
    if _already_sent(record, "brief", to):
        return BriefPace()
    if not moments:
        taken = ports.send_schedule.take(now.timestamp(), emails=1 + _copy_due(assignment))
        assert taken is not None  # noqa: S101 - without a limit, take always gives moments
        moments, wait = taken.moments, taken.starts_in
        if wait > pacing.WAIT_IN_STEP_SECONDS:
            return _handed_back(lead_id, moments, wait, "brief waits its turn to send")
    config = ports.config
    brief = build_brief(record, config, now, disposition_links(ports, record, assignment, now))
    try:
        notification = _send(
            ports,
            record,
            lambda: render_brief(brief),
            kind="brief",
            to=to,
            now=now,
            tags=brief_tags(lead_id),
            at=moments[0],
            turn=turn,
            keep_place=True,
        )
    except TurnAhead as ahead:
        # Handed back again, holding its turn: woken for it, the brief keeps its place behind
        # the sends ahead of it rather than a retry's random one (or the back of the queue).
        return _handed_back(
            lead_id,
            moments,
            ahead.at - now.timestamp(),
            "brief waits for the sends ahead of it",
            turn=ahead.at if ahead.held else 0.0,
        )
    extra = [_post_to_slack(ports, record, assignment, brief, now)] if config.slack.enabled else []
    copies = _manager_copy(ports, record, assignment, now, extra, at=moments[1] if len(moments) > 1 else None)
    ports.leads.update(
        lead_id,
        # Kept beside the record so a bounce or complaint finds its lead (by_message index).
        set_fields={
            "status": LeadStatus.NOTIFIED.value,
            "brief_message_id": notification.message_id,
            # The workflow waits for the first touch, then the reminder's grace, before its next step.
            "check_at": check_at(ports, now, _first_touch_wait(ports, record, assignment, now)),
        },
        append={"notifications": [n.model_dump(mode="json") for n in (notification, *copies)]},
        timeline=[
            TimelineEntry(at=now, event="notified", detail=f"brief emailed to {assignment.rep_id}"),
            *extra,
        ],
        expect_status=(LeadStatus.ASSIGNED,),
    )
    # The owner's task in the CRM goes with the brief, on the write-back queue: never in its way.
    crm_sync.request_task(ports, record)
    metrics.add_metric(name="LeadsHandedOff", unit=MetricUnit.Count, value=1)
    speed = (now - record.received_at).total_seconds()
    lead_metric(
        "SpeedToLead", speed, tier=record.qualification.tier, source=record.source, unit=MetricUnit.Seconds
    )
    return BriefPace()
