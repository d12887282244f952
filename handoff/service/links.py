"""The one-click disposition links from the brief and the reminder: look before you leap,
then record once.

A GET only shows a confirmation page (mail scanners open links, so a GET must never
change anything); the POST from that page records the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from handoff.deploy import credentials
from handoff.domain import recycle
from handoff.domain.cadence import ATTEMPTED
from handoff.domain.link_tokens import LinkClaims, LinkRefused, read_token
from handoff.domain.record import OPEN_STATUSES, LeadRecord, LeadStatus
from handoff.email.brief import LINK_OUTCOMES, in_zone
from handoff.errors import BadRequest, Conflict, HandoffError
from handoff.observability import MetricUnit, logger, metrics
from handoff.service import reassign, touch
from handoff.service.ports import Ports

LABELS = dict(LINK_OUTCOMES)
# How a page names a lead Handoff no longer takes outcomes for.
NOT_OPEN = {
    LeadStatus.CLOSED: "is closed",
    LeadStatus.RENURTURED: "went back to marketing",
    LeadStatus.NURTURE: "is in nurture",
    LeadStatus.FAILED: "is waiting for sales ops",
}


@dataclass(frozen=True)
class Page:
    status: int
    title: str
    message: str
    form: dict[str, object] | None = field(default=None)
    # Facts under the message: what is already on record.
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Link:
    claims: LinkClaims
    record: LeadRecord
    used: bool

    @property
    def zone(self) -> str:
        return self.record.assignment.rep_timezone if self.record.assignment else "UTC"

    @property
    def label(self) -> str:
        return LABELS.get(self.claims.outcome, self.claims.outcome.replace("_", " ").capitalize())

    @property
    def ref(self) -> str:
        # Stored on the disposition, so a used link can say what it recorded.
        return f"link:{self.claims.nonce}"


def _check(ports: Ports, token: str, now: datetime) -> _Link:
    """A genuine link to a lead that exists and is still this rep's; LinkRefused otherwise."""
    claims = read_token(ports.secret(credentials.LINK_KEY.name), token, now)
    item = ports.leads.get_item(claims.lead_id)
    if item is None:
        raise LinkRefused("This lead no longer exists in Handoff.")
    link = _Link(claims, LeadRecord.model_validate(item), claims.nonce in (item.get("used_links") or ()))
    if link.used:
        return link  # said as such, whatever has happened to the lead since
    record = link.record
    if record.assignment is None or record.assignment.rep_id != claims.rep_id:
        raise LinkRefused("This lead has moved to another rep, so this link no longer applies.")
    if record.status not in OPEN_STATUSES:
        state = NOT_OPEN.get(record.status, f"is {record.status.value}")
        raise LinkRefused(
            f"{record.contact.full_name} {state} in Handoff, so there is nothing to record here."
        )
    return link


def _refused(exc: LinkRefused) -> Page:
    metrics.add_metric(name="DispositionLinksRefused", unit=MetricUnit.Count, value=1)
    return Page(403 if "altered" in exc.why else 410, "This link cannot be used", exc.why)


def _reason_label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _on_record(link: _Link) -> list[str]:
    """The outcomes already recorded for the lead's current owner, newest last, in their time."""
    return [
        f"Already recorded: {LABELS.get(d.outcome, d.outcome)}"
        + (f" ({_reason_label(d.reason).lower()})" if d.reason else "")
        + f", {in_zone(d.at, link.zone)}"
        for d in link.record.dispositions
        if not d.stale
    ]


def _used(link: _Link) -> Page:
    """A link that did its one job: what it recorded, and when, in the rep's time."""
    done = next((d for d in link.record.dispositions if d.ref == link.ref), None)
    once = "Each link records one outcome; for a later one (a meeting after a call), use its own button in the email."
    if done is None:
        return Page(410, "Already used", f"This {link.label} link has already been used.", notes=[once])
    what = link.label + (f" ({_reason_label(done.reason).lower()})" if done.reason else "")
    until = [f"Recycled until {done.recycle_until:%a %d %b %Y}."] if done.recycle_until else []
    return Page(
        410,
        "Already recorded",
        f"This link has already been used: it recorded {what} for {link.record.contact.full_name} "
        f"on {in_zone(done.at, link.zone)}.",
        notes=[*until, once],
    )


def _form(ports: Ports, link: _Link, now: datetime) -> dict[str, Any]:
    reasons = ports.config.dispositions.reasons.get(link.claims.outcome, [])
    until = None
    if link.claims.outcome == "recycle":
        first, last = recycle.window(now, link.zone)
        until = {"min": first.isoformat(), "max": last.isoformat()}
    return {
        "reasons": [(r, _reason_label(r)) for r in reasons],
        "button": f"Record {link.label.lower()}",
        "until": until,
        # Wrong owner moves the lead: to the rep named here, else to the next one routing picks.
        "owner": reassign.WRONG_OWNER in reasons,
    }


def confirm(ports: Ports, token: str, now: datetime) -> Page:
    try:
        link = _check(ports, token, now)
    except LinkRefused as exc:
        return _refused(exc)
    if link.used:
        return _used(link)
    reasons = ports.config.dispositions.reasons.get(link.claims.outcome, [])
    name = link.record.contact.full_name
    return Page(
        200,
        f"{link.label}: {name}",
        f'Record "{link.label.lower()}" for {name}?' + (" Pick a reason first." if reasons else ""),
        _form(ports, link, now),
        _on_record(link),
    )


def _again(ports: Ports, link: _Link, now: datetime, why: str) -> Page:
    """The form once more, saying what to fix; nothing recorded and the link still unused."""
    name = link.record.contact.full_name
    return Page(400, f"{link.label}: {name}", why, _form(ports, link, now), _on_record(link))


def _answers(
    ports: Ports, link: _Link, reason: str | None, recycle_until: str | None, now: datetime
) -> date | None:
    """The recycle-until day, when the form's answers are good; BadRequest saying what to fix."""
    try:
        touch.validate_outcome(ports, link.claims.outcome, reason)
    except HandoffError as exc:
        raise BadRequest("Pick one of the listed reasons, then submit again.") from exc
    if reason == reassign.WRONG_OWNER:
        return None  # no recycle: the lead moves to another rep
    try:
        until = date.fromisoformat(recycle_until) if recycle_until else None
        recycle.check(link.claims.outcome, until, now, link.zone)
    except (ValueError, BadRequest) as exc:
        first, last = recycle.window(now, link.zone)
        raise BadRequest(
            f"Pick a recycle-until day from {first:%a %d %b %Y} to {last:%a %d %b %Y}, or leave it empty."
        ) from exc
    return until


def _named_owner(ports: Ports, link: _Link, reason: str | None, owner: str | None) -> str | None:
    """For wrong_owner: the rep named (None: routing picks), checked before the link is spent."""
    if reason != reassign.WRONG_OWNER:
        return None
    named = reassign.named_rep(ports, owner, "owner")
    try:
        reassign.check(link.record, named, "owner")
    except Conflict as exc:
        raise BadRequest(str(exc)) from exc
    return named


def record(
    ports: Ports,
    token: str,
    reason: str | None,
    note: str | None,
    now: datetime,
    *,
    recycle_until: str | None = None,
    owner: str | None = None,
) -> Page:
    try:
        link = _check(ports, token, now)
    except LinkRefused as exc:
        return _refused(exc)
    if link.used:
        return _used(link)
    # Everything is checked before the link is spent: a wrong answer leaves it usable.
    try:
        until = _answers(ports, link, reason, recycle_until, now)
        named = _named_owner(ports, link, reason, owner)
    except BadRequest as exc:
        return _again(ports, link, now, exc.message)
    claims = link.claims
    if not ports.leads.use_link(claims.lead_id, claims.nonce):
        return confirm(ports, token, now)  # spent meanwhile (a double tap): say by what
    try:
        touch.record_disposition(
            ports,
            claims.lead_id,
            outcome=claims.outcome,
            reason=reason,
            note=note,
            by=f"link:{claims.rep_id}",
            now=now,
            ref=link.ref,
            recycle_until=until,
            named_owner=named,
        )
    except Conflict as exc:
        return Page(409, "Nothing to record", str(exc))
    logger.info("disposition via link", extra={"lead_id": claims.lead_id, "outcome": claims.outcome})
    what, after = link.label, f" Recycled until {until:%a %d %b %Y}." if until else ""
    if reason == reassign.WRONG_OWNER:
        what = "Wrong owner"
        after = f" Handoff is moving the lead to {named or 'the next rep routing picks'}."
    elif claims.outcome == ATTEMPTED and ports.config.cadence.attempts:
        after += " Handoff will remind you to try again."
    return Page(200, "Recorded", f"{what} recorded for {link.record.contact.full_name}.{after} Thank you.")
