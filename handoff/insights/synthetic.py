"""A seeded, realistic history with a known truth, for the demo and the tuning tests.

Leads are drawn, then qualified and routed by the real code under the given config.
Outcomes follow a planted model: meeting odds drop sharply below a fit of 60 and rise
with the Sales Leader persona, a recent pricing-page visit and a contact-sales request.
Every other signal (industry, company size, webinars, downloads...) earns points but
changes nothing.
One rep (rep-dan) is slow: late first touches, more SLA breaches, fewer contacts.

Pipeline follows a second planted model: most meetings open a deal at stage 1, and a lead in
an ICP industry (fit.industry, noise for meetings) reaches stage 2 far more often, with larger
deals. Tuning on meetings must not see it; tuning on stage 2 or pipeline amount must.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from handoff.config import HandoffConfig
from handoff.domain.deal import Deal, Milestone
from handoff.domain.lead import Activity, Company, Contact, Lead, Trigger
from handoff.domain.qualify import qualify
from handoff.domain.record import LeadRecord
from handoff.domain.rep import Rep
from handoff.insights.history import WRONG_OWNER, HistoryRow, signals_for
from handoff.insights.simulate import RoutingSimulator

PLANTED = {"fit.persona.Sales Leader": 1.0, "intent.activity.pricing_page": 0.9, "trigger.contact_sales": 1.0}
# Signals that earn points but, in this history, change nothing.
NOISE = (
    "fit.industry", "fit.employees", "fit.country", "fit.persona.Revenue Operations", "fit.persona.Executive",
    "intent.activity.webinar", "intent.activity.content_download", "intent.activity.email_click",
    "intent.activity.page_view", "trigger.pricing_request",
)  # fmt: skip
# The signal that lifts pipeline (stage 2 and amount), and nothing else.
PIPELINE_PLANTED = "fit.industry"
DEAL_SHARE = 0.8  # meetings that open a deal (stage 1)
STAGE_2_ODDS = {False: 0.2, True: 0.7}  # P(stage 2 | deal), without and with the signal
AMOUNT_MEDIAN = {False: 10_000.0, True: 25_000.0}
WIN_SHARE = 0.4  # stage-2 deals that close won (the rest lose, or are still open)
FIT_CLIFF = 60  # below this fit, meetings are rare: what the threshold proposal should find
SLOW_REP = "rep-dan"
START = datetime(2026, 8, 31, tzinfo=UTC)  # a Monday

_COUNTRIES = {"US": 35, "GB": 14, "DE": 10, "CA": 8, "AU": 7, "FR": 6, "BR": 10, "IN": 10}
_INDUSTRIES = {"software": 30, "fintech": 12, "healthcare technology": 8, "retail": 20, "manufacturing": 18,
               "education": 12}  # fmt: skip
_TITLES = {"VP of Sales": 14, "Head of Sales": 6, "Revenue Operations Manager": 14, "CEO": 8, "Founder": 4,
           "Marketing Manager": 20, "Software Engineer": 14, "Analyst": 12, "Director of Finance": 8}  # fmt: skip
_TRIGGERS = {"content_download": 30, "demo_request": 22, "pricing_request": 14, "contact_sales": 10,
             "form_submission": 14, "chat": 10}  # fmt: skip
_ACTIVITIES = {  # type, title, url, probability
    "pricing_page": ("page_view", "Pricing", "https://example.com/pricing", 0.35),
    "webinar": ("webinar", "Webinar: fixing the MQL handoff", None, 0.3),
    "content_download": ("content_download", "Speed-to-lead benchmark report", None, 0.4),
    "email_click": ("email_click", "Newsletter: routing rules that scale", None, 0.5),
    "page_view": ("page_view", "Blog: territory design", "https://example.com/blog/territories", 0.6),
}
_SOURCES = {"hubspot": 50, "salesforce": 30, "marketo": 20}


def synthetic_reps() -> list[Rep]:
    team = [("rep-ana", "sales", 2.0), ("rep-ben", "sales", 1.0), ("rep-cara", "sales", 1.0),
            (SLOW_REP, "sales", 1.0), ("rep-eva", "emea", 1.0), ("rep-finn", "emea", 1.0)]  # fmt: skip
    reps = [
        Rep(rep_id=rep_id, email=f"{rep_id}@example.com", pools=[pool], weight=weight, capacity=60)
        for rep_id, pool, weight in team
    ]
    return [*reps, Rep(rep_id="rep-maria", email="rep-maria@example.com", pools=["managers"], capacity=100)]


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _lead(rng: random.Random, index: int, received: datetime, email: str | None = None) -> Lead:
    employees = int(math.exp(rng.uniform(math.log(8), math.log(20000))))
    activities = [
        Activity(type=kind, title=title, url=url, at=received - timedelta(days=rng.uniform(0.1, 12)))
        for kind, title, url, chance in _ACTIVITIES.values()
        if rng.random() < chance
    ]
    return Lead(
        event_id=f"synthetic-{index}",
        source=_pick(rng, _SOURCES),
        occurred_at=received,
        contact=Contact(
            email=email or f"buyer{index}@company{index % 900}.example",
            first_name="Alex",
            title=_pick(rng, _TITLES),
            country=_pick(rng, _COUNTRIES),
        ),
        company=Company(
            name=f"Company {index % 900}",
            industry=_pick(rng, _INDUSTRIES),
            employees=employees,
            annual_revenue=employees * rng.uniform(80_000, 250_000),
        ),
        trigger=Trigger(type=_pick(rng, _TRIGGERS), at=received),
        activities=activities,
    )


def _meeting_odds(fit: float, signals: Sequence[str]) -> float:
    log_odds = -1.7 - (2.0 if fit < FIT_CLIFF else 0.0)
    log_odds += sum(effect for signal, effect in PLANTED.items() if signal in signals)
    return 1 / (1 + math.exp(-log_odds))


def _received_at(rng: random.Random, weeks: int) -> datetime:
    day = rng.randrange(weeks * 7)
    while day % 7 >= 5:  # inbound leads arrive on weekdays here
        day = rng.randrange(weeks * 7)
    return START + timedelta(days=day, hours=rng.uniform(8, 18))


# Sales accepts this share of the meetings reps set (drawn from its own stream, so the planted
# effects on meetings are drawn exactly as before).
ACCEPTED_SHARE = 0.75
# Recycles where the rep says the lead was not theirs (assignment accuracy), from a stream of its own.
WRONG_OWNER_SHARE = 0.1


def _deals(row: HistoryRow, draw: random.Random) -> list[Deal]:
    """The pipeline a meeting opened, from its own stream (see ``generate``)."""
    if draw.random() >= DEAL_SHARE:
        return []
    lifted = PIPELINE_PLANTED in row.signals
    created = row.received_at + timedelta(days=draw.uniform(2, 10))
    milestones = {Milestone.STAGE_1: created}
    stage = "qualification"
    if draw.random() < STAGE_2_ODDS[lifted]:
        milestones[Milestone.STAGE_2] = created + timedelta(days=draw.uniform(5, 30))
        stage = "proposal"
        ending = draw.random()
        if ending < WIN_SHARE:
            milestones[Milestone.WON], stage = milestones[Milestone.STAGE_2] + timedelta(days=20), "closedwon"
        elif ending < WIN_SHARE * 2:
            milestones[Milestone.LOST], stage = (
                milestones[Milestone.STAGE_2] + timedelta(days=20),
                "closedlost",
            )
    elif draw.random() < 0.5:
        milestones[Milestone.LOST], stage = created + timedelta(days=15), "closedlost"
    amount = round(AMOUNT_MEDIAN[lifted] * draw.lognormvariate(0, 0.5), -2)
    return [Deal(system="hubspot", deal_id=f"deal-{row.lead.event_id}", stage=stage, amount=amount,
                 created_at=created, milestones=milestones)]  # fmt: skip


def _outcome(
    rng: random.Random,
    row: HistoryRow,
    sla_seconds: int,
    config: HandoffConfig,
    *,
    accepts: random.Random,
    deals: random.Random,
    misroutes: random.Random,
) -> HistoryRow:
    """What the rep did: touch time from the rep's speed, then contact, meeting or not, and
    whether sales accepted the lead."""
    slow = row.rep_id == SLOW_REP
    notified = row.received_at + timedelta(seconds=rng.lognormvariate(math.log(1.2), 0.4))
    touch_after = sla_seconds * rng.lognormvariate(math.log(2.2 if slow else 0.35), 0.6)
    meeting = rng.random() < _meeting_odds(row.fit, row.signals)
    contacted = meeting or rng.random() < (0.3 if slow else 0.6)
    touched = contacted or rng.random() < 0.7
    updates: dict[str, object] = {"notified_at": notified}
    if not touched:
        spare = [r.rep_id for r in synthetic_reps() if r.rep_id not in row.reps and "sales" in r.pools]
        return row.model_copy(
            update={
                **updates,
                "sla_met": False,
                "renurtured": True,
                "reps": [*row.reps, rng.choice(spare)],
                "reassigned_because": ["sla_lapsed"],
            }
        )
    first_touch = notified + timedelta(seconds=touch_after)
    updates |= {"first_touch_at": first_touch, "sla_met": touch_after <= sla_seconds}
    if meeting:
        accepted = ["sales_accepted"] if accepts.random() < ACCEPTED_SHARE else []
        updates |= {"outcomes": ["connected", "meeting_set", *accepted], "deals": _deals(row, deals)}
    elif contacted:
        final = "recycle" if rng.random() < 0.5 else "disqualify"
        # wrong_owner is assignment accuracy's, not an outcome drawn here (and the same three
        # recycle reasons keep the planted draws as they were).
        reason = rng.choice(
            [r for r in config.dispositions.reasons.get(final, []) if r != WRONG_OWNER] or ["timing"]
        )
        if final == "recycle" and misroutes.random() < WRONG_OWNER_SHARE:
            reason = WRONG_OWNER
        updates |= {"outcomes": ["connected", final], "reasons": {final: reason}}
    else:
        updates |= {"outcomes": ["attempted", "recycle"], "reasons": {"recycle": "no_response"}}
    return row.model_copy(update=updates)


def generate(config: HandoffConfig, *, leads: int = 3000, weeks: int = 12, seed: int = 7) -> list[HistoryRow]:
    """``leads`` leads over ``weeks`` weeks, qualified and routed by the real code; some
    recycled contacts come back later as new leads."""
    return list(iter_generate(config, leads=leads, weeks=weeks, seed=seed))


def iter_generate(
    config: HandoffConfig, *, leads: int = 3000, weeks: int = 12, seed: int = 7
) -> Iterator[HistoryRow]:
    """``generate``, one row at a time (the same rows): a million leads never sit in memory,
    only their arrival times."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not security
    accepts = random.Random(seed + 1)  # noqa: S311
    deals = random.Random(seed + 2)  # noqa: S311 - pipeline: the meetings' draws stay as they were
    misroutes = random.Random(seed + 3)  # noqa: S311
    arrivals = sorted(_received_at(rng, weeks) for _ in range(leads))
    router = RoutingSimulator(synthetic_reps(), config, hold=timedelta(days=3))
    comebacks: list[tuple[datetime, str]] = []
    for index, received in enumerate(arrivals):
        email = None
        if comebacks and comebacks[0][0] <= received:
            email = heapq.heappop(comebacks)[1]
        lead = _lead(rng, index, received, email)
        q = qualify(lead, config.qualify, received)
        row = HistoryRow(
            lead=lead, received_at=received, ready=q.ready, tier=q.tier, score=q.score, fit=q.fit,
            signals=signals_for(q, lead.trigger.type),
        )  # fmt: skip
        if q.ready:
            rep_id, rule = router.assign(LeadRecord.from_lead(lead, q, received), received)
            if rep_id:
                routed = row.model_copy(update={"reps": [rep_id], "rule": rule})
                row = _outcome(rng, routed, config.sla_seconds(q.tier or ""), config,
                               accepts=accepts, deals=deals, misroutes=misroutes)  # fmt: skip
            if "recycle" in row.outcomes and rng.random() < 0.3:
                heapq.heappush(
                    comebacks, (received + timedelta(days=rng.uniform(14, 40)), lead.contact.email)
                )
        yield row
