"""One row per lead with what happened to it: the input to KPIs, tuning and simulation.

Rows come from stored lead records (the tuning job) or from a JSONL file (`--history`,
the synthetic generator). Each keeps the canonical lead, so a simulation can re-run
qualify and route on exactly what arrived.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, Field, ValidationError

from handoff.domain.deal import Deal, Milestone
from handoff.domain.lead import Activity, Company, Contact, CrmRef, Lead, Trigger
from handoff.domain.record import LeadRecord, LeadStatus, Qualification
from handoff.errors import ConfigError


class HistoryRow(BaseModel):
    lead: Lead
    received_at: datetime
    ready: bool
    tier: str | None = None
    score: float = 0
    fit: float = 0
    signals: list[str] = Field(default_factory=list)
    rule: str | None = None  # the routing rule of the first assignment
    reps: list[str] = Field(default_factory=list)  # every rep who held it, first to last
    notified_at: datetime | None = None
    first_touch_at: datetime | None = None
    sla_met: bool | None = None  # None: no SLA ran to an end (not handed off, or still open)
    renurtured: bool = False
    outcomes: list[str] = Field(default_factory=list)  # dispositions from the owner, in order
    reasons: dict[str, str] = Field(default_factory=dict)  # outcome -> reason code
    # One cause per reassignment, in order: sla_lapsed, brief_bounced, wrong_owner or manual.
    reassigned_because: list[str] = Field(default_factory=list)
    # The pipeline the handoff created, milestones already mapped (empty in older files).
    deals: list[Deal] = Field(default_factory=list)

    @property
    def handed_off(self) -> bool:
        return self.notified_at is not None

    @property
    def rep_id(self) -> str | None:
        """The rep routing chose: every per-rep figure (load, contact rate, breaches) counts a
        handoff for this rep, so one rep shows one handoff count across the report."""
        return self.reps[0] if self.reps else None

    @property
    def contact_email(self) -> str:
        return self.lead.contact.email

    def reached(self, outcomes: Iterable[str]) -> bool:
        return not set(outcomes).isdisjoint(self.outcomes)

    @property
    def wrong_owner(self) -> bool:
        """The owner said the lead was not theirs to work (a disposition reason wrong_owner)."""
        return WRONG_OWNER in self.reasons.values()

    def deal_reached(self, milestone: Milestone) -> datetime | None:
        """When the handoff's first deal reached ``milestone`` (or a later one: a deal that
        skipped stage 1 in the CRM still passed it); None if none did."""
        times = [t for d in self.deals for m in LATER_OR_EQUAL[milestone] if (t := d.milestones.get(m))]
        return min(times) if times else None

    @property
    def pipeline_amount(self) -> float:
        return sum(d.amount or 0 for d in self.deals)


WRONG_OWNER = "wrong_owner"
# A milestone counts as reached when it or a later one was: lost ends a deal at any stage, so
# it implies nothing beyond itself.
LATER_OR_EQUAL = {
    Milestone.STAGE_1: (Milestone.STAGE_1, Milestone.STAGE_2, Milestone.WON),
    Milestone.STAGE_2: (Milestone.STAGE_2, Milestone.WON),
    Milestone.WON: (Milestone.WON,),
    Milestone.LOST: (Milestone.LOST,),
}


def signals_for(qualification: Qualification, trigger_type: str) -> list[str]:
    """The scoring signals a lead earned points for, named after the config key they come from:
    fit.industry, fit.persona.<name>, intent.activity.<kind>, trigger.<type>."""
    named = []
    for reason in qualification.reasons:
        if reason.points <= 0:
            continue
        if reason.code == "fit.persona" and qualification.persona:
            named.append(f"fit.persona.{qualification.persona}")
        elif reason.code == "intent.trigger":
            named.append(f"trigger.{trigger_type}")
        else:
            named.append(reason.code)
    return sorted(set(named))


def lead_of(record: LeadRecord) -> Lead:
    return Lead(
        event_id=record.event_id,
        source=record.source,
        # Records stored before occurred_at was kept fall back to the trigger's time.
        occurred_at=record.occurred_at if "occurred_at" in record.model_fields_set else record.trigger.at,
        contact=record.contact,
        company=record.company,
        crm=record.crm,
        trigger=record.trigger,
        score=record.score,
        activities=record.activities,
    )


def reassignment_causes(record: LeadRecord) -> list[str]:
    """Why each reassignment happened: as the new assignment states it (``Assignment.because``).
    Records stored before it was kept are read as before: the owner who lost it flagged the lead
    wrong_owner before it moved; else the ladder's escalation of that owner says why
    (sla_lapsed, brief_bounced); else nothing in Handoff moved it, so a person did: manual."""
    held = [*record.assignment_history, *([record.assignment] if record.assignment else [])]
    escalated = list(record.escalations)
    causes = []
    for before, after in pairwise(held):
        ladder = next((e for e in escalated if e.get("to_rep") == before.rep_id), None)
        if ladder is not None:
            escalated.remove(ladder)
        if after.because:
            causes.append(after.because)
            continue
        flagged = any(
            d.reason == WRONG_OWNER and before.assigned_at <= d.at <= after.assigned_at
            for d in record.dispositions
        )
        causes.append(
            WRONG_OWNER if flagged else str(ladder.get("because") or "sla_lapsed") if ladder else "manual"
        )
    return causes


def from_record(record: LeadRecord, now: datetime) -> HistoryRow:
    """The lead as history, as of ``now`` (an SLA still running is neither met nor breached)."""
    q = record.qualification
    assignments = [*record.assignment_history, *([record.assignment] if record.assignment else [])]
    touches = sorted((d for d in record.dispositions if not d.stale), key=lambda d: d.at)
    briefs = [n.sent_at for n in record.notifications if n.kind == "brief"]
    return HistoryRow(
        lead=lead_of(record),
        received_at=record.received_at,
        ready=q.ready,
        tier=q.tier,
        score=q.score,
        fit=q.fit,
        signals=signals_for(q, record.trigger.type),
        rule=assignments[0].rule if assignments else None,
        reps=[a.rep_id for a in assignments],
        notified_at=min(briefs) if briefs else None,
        first_touch_at=record.first_touch_at,
        sla_met=record.sla_met(now),
        renurtured=record.status == LeadStatus.RENURTURED,
        outcomes=[d.outcome for d in touches],
        # A wrong_owner flag is no touch, but assignment accuracy counts it.
        reasons={
            d.outcome: d.reason
            for d in record.dispositions
            if d.reason and (not d.stale or d.reason == WRONG_OWNER)
        },
        reassigned_because=reassignment_causes(record),
        deals=record.deals,
    )


def _at(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


_SHAPES: dict[type[BaseModel], tuple[frozenset[str], dict[str, Any], dict[str, Callable[[], Any]], bool]] = {}


def _shape(
    model: type[BaseModel],
) -> tuple[frozenset[str], dict[str, Any], dict[str, Callable[[], Any]], bool]:
    if model not in _SHAPES:
        fields = model.model_fields
        _SHAPES[model] = (
            frozenset(fields),
            {n: f.default for n, f in fields.items() if f.default_factory is None and not f.is_required()},
            {n: cast(Callable[[], Any], f.default_factory) for n, f in fields.items() if f.default_factory},
            model.model_config.get("extra") == "allow",
        )
    return _SHAPES[model]


# (model, its input's keys in order) -> what ``_open`` does with them: the fields set, the
# plain defaults and the factories of the fields not given, and the keys that are extra.
_Plan = tuple[
    frozenset[str], dict[str, Any], tuple[tuple[str, Callable[[], Any]], ...], tuple[str, ...], bool
]
_PLANS: dict[tuple[type[BaseModel], tuple[str, ...]], _Plan] = {}
_setattr = object.__setattr__


def _plan(model: type[BaseModel], key: tuple[str, ...]) -> _Plan:
    names, defaults, factories, extra_allowed = _shape(model)
    given, absent = names.intersection(key), names.difference(key)
    plan: _Plan = (
        frozenset(given),
        {n: defaults[n] for n in absent if n not in factories},
        tuple((n, factories[n]) for n in absent if n in factories),
        tuple(k for k in key if k not in names),
        extra_allowed,
    )
    if len(_PLANS) < 10_000:
        _PLANS[model, key] = plan
    return plan


def _open(model: type[BaseModel], data: dict[str, Any], **fields: Any) -> Any:
    """``model.model_construct`` (no validation), at a seventh of its cost: what it does, for
    the plain fields and defaults these models have. Rows of one shape share one plan (which
    fields are given, defaulted or extra). ``data`` (a line just parsed) becomes the model's
    own: it is not copied."""
    values = data
    if fields:
        values.update(fields)
    key = tuple(values)
    given, static, made, extra_names, extra_allowed = _PLANS.get((model, key)) or _plan(model, key)
    extra = {k: values.pop(k) for k in extra_names} if extra_names else {}
    if static:
        values.update(static)
    for name, factory in made:
        values[name] = factory()
    instance = model.__new__(model)
    _setattr(instance, "__dict__", values)
    _setattr(instance, "__pydantic_fields_set__", set(given))
    _setattr(instance, "__pydantic_extra__", extra if extra_allowed else None)
    _setattr(instance, "__pydantic_private__", None)
    return instance


def _trusted(data: dict[str, Any]) -> HistoryRow:
    """A row as ``write_jsonl`` wrote it, built without re-validating it: pydantic's validation
    of the lead (its email syntax check above all) costs ten times the JSON parse, and a line
    ``write_jsonl`` wrote was validated when it was made. Any surprise in its shape raises, and
    the caller then validates the line in full, so a bad line still names its number."""
    lead = data["lead"]
    trigger = lead["trigger"]
    deals = [
        _open(
            Deal,
            d,
            created_at=datetime.fromisoformat(d["created_at"]),
            stages=[],
            milestones={Milestone(k): datetime.fromisoformat(v) for k, v in d.get("milestones", {}).items()},
        )
        for d in data.get("deals", ())
    ]
    row: HistoryRow = _open(
        HistoryRow,
        {},
        lead=_open(
            Lead,
            lead,
            occurred_at=_at(lead.get("occurred_at")),
            contact=_open(Contact, lead["contact"]),
            company=_open(Company, lead.get("company", {})),
            crm=_open(CrmRef, lead.get("crm", {})),
            trigger=_open(Trigger, trigger, type=trigger["type"], at=_at(trigger.get("at"))),
            activities=[_open(Activity, a, at=_at(a.get("at"))) for a in lead.get("activities", ())],
        ),
        received_at=datetime.fromisoformat(data["received_at"]),
        ready=bool(data["ready"]),
        tier=data.get("tier"),
        score=data.get("score", 0),
        fit=data.get("fit", 0),
        signals=data.get("signals", []),
        rule=data.get("rule"),
        reps=data.get("reps", []),
        notified_at=_at(data.get("notified_at")),
        first_touch_at=_at(data.get("first_touch_at")),
        sla_met=data.get("sla_met"),
        renurtured=data.get("renurtured", False),
        outcomes=data.get("outcomes", []),
        reasons=data.get("reasons", {}),
        reassigned_because=data.get("reassigned_because", []),
        deals=deals,
    )
    return row


def iter_jsonl(
    path: str | Path, progress: Callable[[int, int], None] | None = None, *, validate: bool = False
) -> Iterator[HistoryRow]:
    """Rows from a JSONL file, one line at a time (memory stays flat however long the file).
    A bad line stops the read with its number. ``progress(bytes read, bytes)`` follows a long
    read (the CLI shows it on stderr). Lines are taken as ``write_jsonl`` wrote them (see
    ``_trusted``) unless ``validate``; a line that does not have that shape is validated in full."""
    file = Path(path)
    try:
        handle = file.open("rb")
        size = file.stat().st_size
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read history: {exc.strerror}") from exc
    done = 0
    with handle:
        for number, raw in enumerate(handle, start=1):
            done += len(raw)
            if progress and number % 1000 == 0:
                progress(done, size)
            if not raw.strip():
                continue
            try:
                if validate:
                    raise ValueError
                yield _trusted(json.loads(raw.decode()))
                continue
            except (ValueError, KeyError, TypeError, AttributeError):
                pass
            try:
                yield HistoryRow.model_validate_json(raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "(line)"
                raise ConfigError(f"{file}:{number}: {where}: {first['msg']}") from exc
    if progress:
        progress(size, size)


def read_jsonl(path: str | Path, progress: Callable[[int, int], None] | None = None) -> list[HistoryRow]:
    """Every row of a JSONL file, validated; a bad line stops with its number, never a partial
    read. Large files: ``iter_jsonl``, which holds one row at a time."""
    return list(iter_jsonl(path, progress, validate=True))


def write_jsonl(rows: Iterable[HistoryRow], path: str | Path) -> int:
    """Write rows one line at a time (a generator of rows is never held whole); the count."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(row.model_dump_json(exclude_none=True) + "\n")
            count += 1
    return count


def between(rows: Iterable[HistoryRow], start: datetime | None, end: datetime | None) -> Iterator[HistoryRow]:
    return (
        r for r in rows if (start is None or r.received_at >= start) and (end is None or r.received_at < end)
    )
