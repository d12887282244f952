"""`handoff route --explain`: qualify and route one lead on paper, printing every step."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from handoff.config import load_config
from handoff.config.roster import load_accounts_csv, load_reps_csv
from handoff.domain.account import normalise_domain
from handoff.domain.clock import utcnow
from handoff.domain.lead import Lead
from handoff.domain.qualify import qualify
from handoff.domain.record import LeadRecord
from handoff.domain.route import plan_route
from handoff.errors import ConfigError


def explain(lead_file: Path, config_file: Path, reps_file: Path, accounts_file: Path | None) -> str:
    config = load_config(config_file)
    try:
        lead = Lead.model_validate(json.loads(lead_file.read_text(encoding="utf-8")))
    except (OSError, ValidationError) as exc:
        raise ConfigError(f"{lead_file}: {exc}") from exc
    now = utcnow()
    record = LeadRecord.from_lead(lead, qualify(lead, config.qualify, now), now)
    q = record.qualification
    lines = [f"lead {record.lead_id} ({lead.contact.email})"]
    lines.append(
        f"qualify: ready={q.ready} tier={q.tier} score={q.score:g} fit={q.fit:g} intent={q.intent:g}"
    )
    lines += [f"  - {r.text}" for r in q.reasons]
    if not q.ready:
        lines.append("route: not sales-ready, so not routed (recorded as nurture)")
        return "\n".join(lines)
    owners = {}
    if accounts_file:
        owners = {normalise_domain(a.domain): a.owner for a in load_accounts_csv(accounts_file)}
    email_domain = lead.contact.email.rsplit("@", 1)[-1]
    account_owner = owners.get(normalise_domain(lead.company.domain)) or owners.get(email_domain)
    plan = plan_route(record, load_reps_csv(reps_file), config.routing, now, account_owner=account_owner)
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
    lines.append("(explain reads files only: nothing was claimed, stored or sent)")
    return "\n".join(lines)
