"""The one-click disposition links from the brief: look before you leap, then record once.

A GET only shows a confirmation page (mail scanners open links, so a GET must never
change anything); the POST from that page records the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from handoff.deploy import credentials
from handoff.domain.link_tokens import LinkClaims, LinkRefused, read_token
from handoff.email.brief import LINK_OUTCOMES
from handoff.errors import Conflict, HandoffError
from handoff.observability import MetricUnit, logger, metrics
from handoff.service import touch
from handoff.service.ports import Ports

LABELS = dict(LINK_OUTCOMES)


@dataclass(frozen=True)
class Page:
    status: int
    title: str
    message: str
    form: dict[str, object] | None = field(default=None)


def _check(ports: Ports, token: str, now: datetime) -> tuple[LinkClaims, str]:
    """Claims of a usable link plus the contact's name; LinkRefused with a reason otherwise."""
    claims = read_token(ports.secret(credentials.LINK_KEY.name), token, now)
    record = ports.leads.get(claims.lead_id)
    if record is None:
        raise LinkRefused("This lead no longer exists in Handoff.")
    if record.assignment is None or record.assignment.rep_id != claims.rep_id:
        raise LinkRefused("This lead has moved to another rep, so this link no longer applies.")
    return claims, record.contact.full_name


def _refused(exc: LinkRefused) -> Page:
    metrics.add_metric(name="DispositionLinksRefused", unit=MetricUnit.Count, value=1)
    return Page(403 if "altered" in exc.why else 410, "This link cannot be used", exc.why)


def confirm(ports: Ports, token: str, now: datetime) -> Page:
    try:
        claims, name = _check(ports, token, now)
    except LinkRefused as exc:
        return _refused(exc)
    reasons = ports.config.dispositions.reasons.get(claims.outcome, [])
    label = LABELS.get(claims.outcome, claims.outcome)
    return Page(
        200,
        f"{label}: {name}",
        f'Record "{label.lower()}" for {name}?' + (" Pick a reason first." if reasons else ""),
        {
            "reasons": [(r, r.replace("_", " ").capitalize()) for r in reasons],
            "button": f"Record {label.lower()}",
        },
    )


def record(ports: Ports, token: str, reason: str | None, note: str | None, now: datetime) -> Page:
    try:
        claims, name = _check(ports, token, now)
        touch.validate_outcome(ports, claims.outcome, reason)
    except LinkRefused as exc:
        return _refused(exc)
    except HandoffError:
        page = confirm(ports, token, now)
        return Page(400, page.title, "Pick one of the listed reasons, then submit again.", page.form)
    if not ports.leads.use_link(claims.lead_id, claims.nonce):
        return _refused(LinkRefused("This link has already been used. Each link records one outcome."))
    try:
        touch.record_disposition(
            ports,
            claims.lead_id,
            outcome=claims.outcome,
            reason=reason,
            note=note,
            by=f"link:{claims.rep_id}",
            now=now,
        )
    except Conflict as exc:
        return Page(409, "Nothing to record", str(exc))
    logger.info("disposition via link", extra={"lead_id": claims.lead_id, "outcome": claims.outcome})
    label = LABELS.get(claims.outcome, claims.outcome)
    return Page(200, "Recorded", f"{label} recorded for {name}. Thank you.")
