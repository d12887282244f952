"""`handoff route --explain`: qualify and route one lead on paper, printing every step."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from handoff.config import HandoffConfig, load_config
from handoff.config.roster import load_accounts_csv
from handoff.domain.account import normalise_domain
from handoff.domain.clock import utcnow
from handoff.domain.lead import Lead
from handoff.domain.qualify import qualify
from handoff.domain.record import LeadRecord
from handoff.domain.rep import Rep
from handoff.domain.route import plan_route
from handoff.errors import ConfigError

# The owner of the first known domain (the company's, then the email's), as the accounts table has it.
OwnerOf = Callable[[str | None, str | None], str | None]


def owners_from_csv(accounts_file: Path) -> OwnerOf:
    owners = {normalise_domain(a.domain): a.owner for a in load_accounts_csv(accounts_file)}
    return lambda *domains: next(
        (owners[d] for d in map(normalise_domain, domains) if d and d in owners), None
    )


def explain(lead_file: Path, config_file: Path, reps: list[Rep], owner_of: OwnerOf | None) -> str:
    config = load_config(config_file)
    try:
        lead = Lead.model_validate(json.loads(lead_file.read_text(encoding="utf-8")))
    except (OSError, ValidationError) as exc:
        raise ConfigError(f"{lead_file}: {exc}") from exc
    return "\n".join(explain_lead(lead, config, reps, owner_of, utcnow()))


def explain_lead(
    lead: Lead, config: HandoffConfig, reps: list[Rep], owner_of: OwnerOf | None, now: datetime
) -> list[str]:
    """Qualify and route ``lead`` on paper, a line per step: nothing is claimed, stored or sent
    (`handoff route --explain`, and the console's routing what-if)."""
    record = LeadRecord.from_lead(lead, qualify(lead, config.qualify, now), now)
    q = record.qualification
    lines = [f"lead {record.lead_id} ({lead.contact.email})"]
    lines.append(
        f"qualify: ready={q.ready} tier={q.tier} score={q.score:g} fit={q.fit:g} intent={q.intent:g}"
    )
    lines += [f"  - {r.text}" for r in q.reasons]
    if not q.ready:
        lines.append("route: not sales-ready, so not routed (recorded as nurture)")
        return lines
    email_domain = lead.contact.email.rsplit("@", 1)[-1]
    account_owner = owner_of(lead.company.domain, email_domain) if owner_of else None
    plan = plan_route(record, reps, config.routing, now, account_owner=account_owner)
    lines.append("route:")
    lines += [f"  {i}. {line}" for i, line in enumerate(plan.trace, start=1)]
    chosen = next(((s, c) for s in plan.steps for c in s.candidates), None)
    if chosen:
        step, candidate = chosen
        lines.append(
            f"decision: {candidate.rep.rep_id} ({candidate.rep.name or candidate.rep.email}) via {step.rule}"
        )
        lines.append(f"  why: {step.reason}")
    else:
        lines.append(f"decision: unassigned queue ({config.routing.unassigned_email}), alert raised")
    lines.append("(explain only reads: nothing was claimed, stored or sent)")
    return lines
