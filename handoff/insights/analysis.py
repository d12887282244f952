"""One streaming pass over history: everything the report and the tuning job need, in compact form.

History can be far larger than memory (a year of a busy customer's leads), so no step holds
rows. One pass (``Analysis.add``, a row at a time, from a file or from the table) keeps:

- KPI accumulators (counts, sums, and one ``array('d')`` per percentile: 8 bytes a handoff),
  overall and per cut (tier, and the CLI's ``--by``);
- the tuning inputs of each handoff as numbers: fit, outcome value and a bitmask of its signals
  (the regression groups handoffs by that mask, so it fits on a few hundred distinct rows);
- per-rep, per-rule and per-tier counters for the routing and SLA insights;
- what qualification reads of each lead, once (``Features``): which fit criteria and personas it
  matches, its trigger and how old it was, each activity's kind and decay, and whether an
  exclusion or a missing field rules it out. A proposal changes weights or ``min_fit``, so its
  replay is arithmetic on these arrays (``Features.replay``), about 2 us a lead, with no
  qualify call. Anything else in ``[qualify]`` changing makes the replay run the full qualify
  again (``replay_rows``), on rows read again: the only place it is unavoidable.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, MutableSequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from handoff.config import HandoffConfig
from handoff.config.qualify import QualifyConfig
from handoff.config.tuning import TuningConfig
from handoff.domain.deal import Milestone
from handoff.domain.lead import Activity, Lead
from handoff.domain.qualify import (
    SECONDS_PER_DAY,
    _best_persona,
    _in,
    _in_range,
    _scored_at,
    _trigger_age_days,
    activity_kind,
    exclusion,
)
from handoff.insights.history import LATER_OR_EQUAL, HistoryRow
from handoff.insights.kpis import CUTS, ROUTING_CAUSES, Kpis
from handoff.insights.stats import percentile, rate

SCORE_BAND = 10  # points per band when estimating a newly qualified lead's meeting odds
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _band(score: float) -> int:
    return int(score // SCORE_BAND)


def outcome_value(tuning: TuningConfig) -> Callable[[HistoryRow], float]:
    """What one handoff is worth under ``[tuning] outcome``: 1/0 for meetings and stage 2, the
    deals' amount for pipeline amount."""
    if tuning.outcome == "stage_2":
        return lambda row: float(row.deal_reached(Milestone.STAGE_2) is not None)
    if tuning.outcome == "pipeline_amount":
        return lambda row: row.pipeline_amount
    outcomes = tuning.meeting_outcomes
    return lambda row: float(row.reached(outcomes))


class KpiAccumulator:
    """The KPIs of ``kpis.compute``, one row at a time. Recycled -> SQL needs the contacts' later
    SQLs over all rows: ``result`` takes them (email -> newest SQL's received_at, as a timestamp)."""

    def __init__(self, config: TuningConfig) -> None:
        self.config = config
        self.received = self.qualified = self.handed = self.sql = 0
        self.speeds, self.touches, self.to_stage_2 = array("d"), array("d"), array("d")
        self.met = self.breached = self.contacted = self.meetings = self.reassigned = 0
        self.wrong_owner = self.misrouted = self.with_pipeline = 0
        self.deals = self.amounts = self.stage_1 = self.stage_2 = self.won = self.lost = 0
        self.amount = 0.0
        self.disqualify: Counter[str] = Counter()
        self.causes: Counter[str] = Counter()
        self.load: Counter[str] = Counter()
        self.recycled: list[tuple[str, float]] = []  # (contact email, received timestamp)

    def add(self, row: HistoryRow, received: float, ready_sql: bool) -> None:
        self.received += 1
        if row.ready:
            self.qualified += 1
            self.sql += ready_sql
        if row.notified_at is None:
            return
        config = self.config
        self.handed += 1
        self.speeds.append((row.notified_at - row.received_at).total_seconds())
        if row.first_touch_at is not None:
            self.touches.append((row.first_touch_at - row.received_at).total_seconds())
        self.met += row.sla_met is True
        self.breached += row.sla_met is False
        outcomes = row.outcomes
        if outcomes:
            self.contacted += row.reached(config.contact_outcomes)
            self.meetings += row.reached(config.meeting_outcomes)
            if "recycle" in outcomes:
                self.recycled.append((row.lead.contact.email, received))
            if "disqualify" in outcomes:
                self.disqualify[row.reasons.get("disqualify", "unspecified")] += 1
        self.reassigned += len(row.reps) > 1
        if row.reps:
            self.load[row.reps[0]] += 1
        self.causes.update(row.reassigned_because)
        wrong = row.wrong_owner
        self.wrong_owner += wrong
        self.misrouted += wrong or not ROUTING_CAUSES.isdisjoint(row.reassigned_because)
        if row.deals:
            self.with_pipeline += 1
            for deal in row.deals:
                self.deals += 1
                if deal.amount is not None:
                    self.amounts += 1
                    self.amount += deal.amount
                if any(deal.reached(m) for m in LATER_OR_EQUAL[Milestone.STAGE_1]):
                    self.stage_1 += 1
                    self.stage_2 += any(deal.reached(m) for m in LATER_OR_EQUAL[Milestone.STAGE_2])
                won = deal.reached(Milestone.WON)
                self.won += won
                self.lost += deal.reached(Milestone.LOST) and not won
            if (reached := row.deal_reached(Milestone.STAGE_2)) is not None:
                self.to_stage_2.append((reached - row.received_at).total_seconds() / 86400)

    def result(self, comebacks: dict[str, float]) -> Kpis:
        handed, load = self.handed, self.load
        mean = sum(load.values()) / len(load) if load else 0
        recycled_sql = sum(1 for email, at in self.recycled if comebacks.get(email, -math.inf) > at)
        return Kpis(
            received=self.received,
            qualified=self.qualified,
            handed_off=handed,
            speed_to_lead_p50=percentile(self.speeds, 0.5),
            speed_to_lead_p90=percentile(self.speeds, 0.9),
            first_touch_p50=percentile(self.touches, 0.5),
            first_touch_p90=percentile(self.touches, 0.9),
            sla_met=self.met,
            sla_breached=self.breached,
            sla_attainment=rate(self.met, self.met + self.breached),
            contacted=self.contacted,
            contact_rate=rate(self.contacted, handed),
            meetings=self.meetings,
            meeting_rate=rate(self.meetings, handed),
            sql=self.sql,
            mql_to_sql=rate(self.sql, self.qualified),
            disqualify_reasons=dict(self.disqualify),
            recycled=len(self.recycled),
            recycle_rate=rate(len(self.recycled), handed),
            recycled_to_sql=rate(recycled_sql, len(self.recycled)),
            reassigned=self.reassigned,
            reassignment_rate=rate(self.reassigned, handed),
            reassignments_by_cause=dict(sorted(self.causes.items())),
            wrong_owner=self.wrong_owner,
            misrouted=self.misrouted,
            assignment_accuracy=rate(handed - self.misrouted, handed),
            with_pipeline=self.with_pipeline,
            pipeline_rate=rate(self.with_pipeline, handed),
            deals=self.deals,
            pipeline_amount=self.amount,
            pipeline_per_handoff=self.amount / handed if handed else None,
            stage_1=self.stage_1,
            stage_2=self.stage_2,
            stage_1_to_2=rate(self.stage_2, self.stage_1),
            won=self.won,
            lost=self.lost,
            win_rate=rate(self.won, self.won + self.lost),
            average_deal=self.amount / self.amounts if self.amounts else None,
            days_to_stage_2_p50=percentile(self.to_stage_2, 0.5),
            rep_load=dict(sorted(load.items())),
            load_imbalance=max(abs(n - mean) for n in load.values()) / mean if mean else None,
        )


def _timestamp(moment: datetime) -> float:
    return (moment - EPOCH).total_seconds()


def later_sqls(rows: Iterable[HistoryRow], config: TuningConfig) -> dict[str, float]:
    """Contact email -> the newest received_at (a timestamp) of its leads that reached SQL."""
    when: dict[str, float] = {}
    for row in rows:
        if row.outcomes and row.reached(config.sql_outcomes):
            at, email = _timestamp(row.received_at), row.lead.contact.email
            if when.get(email, -math.inf) < at:
                when[email] = at
    return when


# ---- the replay on compact features -------------------------------------------------------

CRITERIA = ("industries", "employees", "revenue", "countries", "regions")
# What a proposal may change and the arithmetic replay still evaluate: weights and min_fit.
WEIGHT_FIELDS = {"min_fit": None, "fit": ("weight",), "intent": ("activity_weights", "trigger_weights")}


def _without_weights(qualify: QualifyConfig) -> dict[str, Any]:
    data = qualify.model_dump()
    data.pop("min_fit")
    for name in CRITERIA:
        data["fit"][name].pop("weight")
    for persona in data["fit"]["personas"]:
        persona.pop("weight")
    data["intent"].pop("activity_weights")
    data["intent"].pop("trigger_weights")
    return data


class ReplayOutcome:
    """What one replay found: a plain holder; ``simulate.Outcome`` is built from it."""

    def __init__(self, qualified: int, tiers: dict[str, int], expected: float, mask: bytes) -> None:
        self.qualified, self.tiers, self.expected, self.mask = qualified, tiers, expected, mask


class Features:
    """What qualify reads of each lead under one config (its ``[qualify]`` apart from weights and
    min_fit), in arrays: about 60 bytes a lead."""

    def __init__(self, config: HandoffConfig) -> None:
        self.config = config
        self.qualify = config.qualify
        self.shape = _without_weights(config.qualify)
        self.fit_keys = array("I")  # bits 0-4: CRITERIA matched; bit 5+i: persona i matched
        self.triggers = array("H")
        self.trigger_ages = array("d")
        self.crm_scores = array("d")  # NaN: none
        self.hit_ends = array("I")  # each lead's activities end here in hit_kinds / hit_decays
        self.hit_kinds = array("H")
        self.hit_decays = array("d")
        self.eligible = bytearray()  # no exclusion, no missing field
        self.handed = bytearray()
        self.values = array("d")  # the outcome value of a handoff (0 otherwise)
        self.received = array("d")
        self.trigger_names: dict[str, int] = {}
        self.kind_names: dict[str, int] = {}
        self._criteria_cache: dict[tuple[Any, ...], int] = {}
        self._persona_cache: dict[tuple[Any, ...], int] = {}
        self._kind_cache: dict[tuple[Any, ...], int] = {}
        self._excluded_cache: dict[tuple[Any, ...], bool] = {}
        # required_fields, split once: each alternative's (part, name) paths.
        self._required = [
            [tuple(path.split(".")) for path in alternatives.split("|")]
            for alternatives in config.qualify.required_fields
        ]
        # Intents by the intent weights they were computed under: fit and min_fit proposals
        # replay on the same intents.
        self._intent_cache: dict[tuple[Any, ...], MutableSequence[float]] = {}
        self.band_totals: Counter[int] = Counter()
        self.band_hits: defaultdict[int, float] = defaultdict(float)

    def __len__(self) -> int:
        return len(self.received)

    def _fit_key(self, lead: Lead) -> int:
        fit, contact, company = self.qualify.fit, lead.contact, lead.company
        country = contact.country or company.country
        # The value criteria by the values (few distinct ones); the ranges are two comparisons.
        key = (company.industry, country, contact.region)
        criteria = self._criteria_cache.get(key)
        if criteria is None:
            criteria = (
                _in(company.industry, fit.industries)
                | _in(country, fit.countries) << 3
                | _in(contact.region, fit.regions) << 4
            )
            if len(self._criteria_cache) < 100_000:
                self._criteria_cache[key] = criteria
        criteria |= _in_range(company.employees, fit.employees) << 1
        criteria |= _in_range(company.annual_revenue, fit.revenue) << 2
        who = (contact.title, contact.seniority, contact.department)
        personas = self._persona_cache.get(who)
        if personas is None:
            personas = sum(
                1 << (5 + i) for i, p in enumerate(fit.personas) if _best_persona(lead, [p]) is not None
            )
            if len(self._persona_cache) < 100_000:
                self._persona_cache[who] = personas
        return criteria | personas

    def _kind(self, activity: Activity) -> int:
        key = (activity.type, activity.url, activity.title)
        kind = self._kind_cache.get(key)
        if kind is None:
            name = activity_kind(activity, self.qualify.intent)
            kind = self.kind_names.setdefault(name, len(self.kind_names))
            if len(self._kind_cache) < 100_000:
                self._kind_cache[key] = kind
        return kind

    def _excluded(self, lead: Lead) -> bool:
        """Whether ``exclusion`` rules the lead out, cached by what it reads: the email's domain,
        the company's domain and whether it has a name or domain, the title and do-not-call.
        A lead with extra attributes (a do-not-route flag may be among them) is checked anew."""
        contact, company = lead.contact, lead.company
        if lead.model_extra or contact.model_extra or lead.crm.model_extra:
            return exclusion(lead, self.qualify) is not None
        key = (
            contact.email.rpartition("@")[2],
            company.domain,
            bool(company.name),
            contact.title,
            bool(contact.do_not_call),
        )
        excluded = self._excluded_cache.get(key)
        if excluded is None:
            excluded = exclusion(lead, self.qualify) is not None
            if len(self._excluded_cache) < 100_000:
                self._excluded_cache[key] = excluded
        return excluded

    def add(self, row: HistoryRow, handed: bool, value: float) -> None:
        lead, now, qualify = row.lead, row.received_at, self.qualify
        self.fit_keys.append(self._fit_key(lead))
        self.triggers.append(self.trigger_names.setdefault(lead.trigger.type, len(self.trigger_names)))
        self.trigger_ages.append(_trigger_age_days(lead, now))
        self.crm_scores.append(math.nan if lead.score is None else lead.score)
        moment = _scored_at(lead, now)
        half_life = qualify.intent.half_life_days
        for activity in lead.activities:
            age = (
                max(0.0, (moment - activity.at).total_seconds() / SECONDS_PER_DAY)
                if activity.at
                else half_life
            )
            self.hit_kinds.append(self._kind(activity))
            self.hit_decays.append(0.5 ** (age / half_life))
        self.hit_ends.append(len(self.hit_kinds))
        self.eligible.append(not self._excluded(lead) and not _missing(lead, self._required))
        self.handed.append(handed)
        self.values.append(value)
        self.received.append(_timestamp(now))
        if handed:
            self.band_totals[_band(row.score)] += 1
            self.band_hits[_band(row.score)] += value

    def supports(self, config: HandoffConfig) -> bool:
        """Whether ``config`` differs from the one the features were read under only in what the
        arithmetic replay evaluates (weights and min_fit)."""
        return _without_weights(config.qualify) == self.shape

    def band_rates(self) -> dict[int, float]:
        totals, hits = self.band_totals, self.band_hits
        overall = sum(hits.values()) / max(1, sum(totals.values()))
        return {band: hits[band] / totals[band] if totals[band] else overall for band in range(11)}

    def _fit_scores(self, qualify: QualifyConfig) -> dict[int, float]:
        """Each fit key's fit under ``qualify``: ``score_fit``'s arithmetic, in its order."""
        fit = qualify.fit
        scale = 100 / fit.total_weight
        weights = [getattr(fit, name).weight for name in CRITERIA]
        scores = {}
        for key in set(self.fit_keys):
            points = [round(w * scale, 1) for i, w in enumerate(weights) if key >> i & 1 and w > 0]
            matched = [p for i, p in enumerate(fit.personas) if key >> (5 + i) & 1]
            if matched:
                best = max(matched, key=lambda p: p.weight)
                if best.weight > 0:
                    points.append(round(best.weight * scale, 1))
            scores[key] = min(100.0, sum(points))
        return scores

    def _intents(self, qualify: QualifyConfig) -> MutableSequence[float]:
        """Each lead's intent under ``qualify``: ``score_intent``'s arithmetic, in its order."""
        intent = qualify.intent
        half_life, crm_weight = intent.half_life_days, intent.crm_score_weight
        trigger_weights = [intent.trigger_weights.get(n, 0) for n in self.trigger_names]
        kind_weights = [intent.activity_weights.get(n, 0) for n in self.kind_names]
        key = (tuple(trigger_weights), tuple(kind_weights), half_life, crm_weight)
        cached = self._intent_cache.get(key)
        if cached is not None:
            return cached
        hits: _Hits = (kind_weights, self.hit_kinds, self.hit_decays)
        ends, ages, crm_scores = self.hit_ends, self.trigger_ages, self.crm_scores
        isnan = math.isnan
        intents = array("d")
        start = 0
        for i, trigger in enumerate(self.triggers):
            points = []
            trigger_points = trigger_weights[trigger]
            if trigger_points:
                age = ages[i]
                if age >= 1:
                    trigger_points = round(trigger_points * 0.5 ** (age / half_life), 1)
                points.append(trigger_points)
            end = ends[i]
            if end > start:
                _activity_points(points, hits, start, end)
            start = end
            engagement = min(100.0, sum(points))
            crm = crm_scores[i]
            if crm_weight > 0 and not isnan(crm):
                engagement = (1 - crm_weight) * engagement + crm_weight * min(100.0, crm)
            intents.append(round(engagement, 1))
        if len(self._intent_cache) >= 4:
            self._intent_cache.clear()
        self._intent_cache[key] = intents
        return intents

    def replay(self, config: HandoffConfig, order: Iterable[int] | None = None) -> ReplayOutcome:
        """Qualify every lead under ``config`` (which ``supports``): how many qualify, in which
        tier, and the outcome to expect: what happened where the lead was handed off before, else
        the historical rate of its score band."""
        qualify = config.qualify
        fits = self._fit_scores(qualify)
        intents = self._intents(qualify)
        share, min_fit, threshold = qualify.fit_share, qualify.min_fit, qualify.intent_threshold
        max_age = qualify.next_step_max_age_days
        names = list(self.trigger_names)
        next_step = [n in qualify.next_step_triggers for n in names]
        bofu = [n in qualify.bofu_triggers for n in names]
        fast_lane, tiers_config = qualify.tiers[0].name, [(t.min_score, t.name) for t in qualify.tiers]
        last = qualify.tiers[-1].name
        rates = self.band_rates()
        tiers: Counter[str] = Counter()
        expected = 0.0
        mask = bytearray(len(self))
        fit_keys, eligible, ages, handed, values = (
            self.fit_keys, self.eligible, self.trigger_ages, self.handed, self.values,
        )  # fmt: skip
        for i in order if order is not None else range(len(self)):
            fit = fits[fit_keys[i]]
            if not eligible[i] or fit < min_fit:
                continue
            intent = intents[i]
            trigger = self.triggers[i]
            stale = ages[i] > max_age
            if not ((next_step[trigger] and not stale) or intent >= threshold):
                continue
            score = round(share * fit + (1 - share) * intent, 1)
            if bofu[trigger] and not stale:
                tier = fast_lane
            else:
                tier = next((name for low, name in tiers_config if score >= low), last)
            mask[i] = 1
            tiers[tier] += 1
            expected += values[i] if handed[i] else rates[min(10, _band(score))]
        return ReplayOutcome(sum(mask), dict(sorted(tiers.items())), round(expected, 1), bytes(mask))

    def order(self) -> Iterable[int] | None:
        """Oldest first, as the replay runs (None: already in that order)."""
        received = self.received
        if all(received[i] <= received[i + 1] for i in range(len(received) - 1)):
            return None
        return sorted(range(len(received)), key=received.__getitem__)


_Hits = tuple[list[float], MutableSequence[int], MutableSequence[float]]  # kind weights, kinds, decays


def _activity_points(points: list[float], hits: _Hits, start: int, end: int) -> None:
    """``score_intent``'s activity points for hits start..end, appended to ``points``: each
    kind's decayed weights summed and rounded, the largest kind first (ties in order seen)."""
    kind_weights, kinds, decays = hits
    if end == start + 1:  # one activity: its points alone
        weight = kind_weights[kinds[start]]
        if weight:
            points.append(round(weight * decays[start], 1))
    elif end == start + 2:
        _two_points(points, hits, start)
    else:
        by_kind: dict[int, list[float]] = {}
        for h in range(start, end):
            weight = kind_weights[kinds[h]]
            if weight:
                by_kind.setdefault(kinds[h], []).append(weight * decays[h])
        for group in sorted(by_kind.values(), key=lambda group: -sum(group)):
            points.append(round(sum(group), 1))


def _two_points(points: list[float], hits: _Hits, start: int) -> None:
    """Two activities: one group when of one kind, else each kind's points, the larger first."""
    kind_weights, kinds, decays = hits
    first, second = kinds[start], kinds[start + 1]
    weight, other = kind_weights[first], kind_weights[second]
    if first == second:
        if weight:
            points.append(round(weight * decays[start] + weight * decays[start + 1], 1))
    elif weight and other:
        one, two = weight * decays[start], other * decays[start + 1]
        if one < two:
            one, two = two, one
        points.append(round(one, 1))
        points.append(round(two, 1))
    elif weight or other:
        points.append(round(weight * decays[start] if weight else other * decays[start + 1], 1))


def _missing(lead: Lead, required: list[list[tuple[str, ...]]]) -> bool:
    """Whether a required field (``a|b`` = either: each alternative's (part, name) paths) has
    no value: ``missing_fields``, read from the lead's attributes instead of a full dump of it."""
    for alternatives in required:
        for part, name in alternatives:
            if getattr(getattr(lead, part, None), name, None) not in (None, ""):
                break
        else:
            return True
    return False


@dataclass
class SlaTier:
    decided: int = 0
    on_time: int = 0
    late: int = 0
    on_time_meets: int = 0
    late_meets: int = 0
    waits: array[float] = field(default_factory=lambda: array("d"))


class Analysis:
    """Everything the report and the tuning job read of history, from one pass over it."""

    def __init__(
        self, config: HandoffConfig, cuts: Iterable[str] = ("tier",), *, features: bool = True
    ) -> None:
        self.config = config
        tuning = config.tuning
        self.value = outcome_value(tuning)
        self.kpis = KpiAccumulator(tuning)
        self.cuts: dict[str, dict[str, KpiAccumulator]] = {by: {} for by in cuts}
        self.comebacks: dict[str, float] = {}  # contact email -> newest SQL's received_at
        self.first: datetime | None = None
        self.last: datetime | None = None
        # Handoffs, for the threshold, the signal model and the routing and SLA insights.
        self.fits = array("d")
        self.values = array("d")
        self.signal_masks: MutableSequence[int] = array("Q")
        self.signal_names: dict[str, int] = {}
        self.contact_by_rep: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.contact_by_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.breaches_by_rep: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.contacted = self.decided = self.breached = 0
        self.sla: dict[str, SlaTier] = defaultdict(SlaTier)
        # The meeting rate by fit band, for the report's chart.
        self.fit_band_totals: Counter[int] = Counter()
        self.fit_band_meetings: Counter[int] = Counter()
        self.features = Features(config) if features else None

    def add(self, row: HistoryRow) -> None:
        tuning = self.config.tuning
        received = _timestamp(row.received_at)
        if self.first is None or row.received_at < self.first:
            self.first = row.received_at
        if self.last is None or row.received_at > self.last:
            self.last = row.received_at
        sql = bool(row.outcomes) and row.reached(tuning.sql_outcomes)
        if sql:
            email = row.lead.contact.email
            if self.comebacks.get(email, -math.inf) < received:
                self.comebacks[email] = received
        self.kpis.add(row, received, sql)
        for by, groups in self.cuts.items():
            key = CUTS[by](row) or "(none)"
            if key not in groups:
                groups[key] = KpiAccumulator(tuning)
            groups[key].add(row, received, sql)
        handed = row.notified_at is not None
        value = self.value(row) if handed else 0.0
        if self.features is not None:
            self.features.add(row, handed, value)
        if not handed:
            return
        self.fits.append(row.fit)
        self.values.append(value)
        mask = 0
        for signal in row.signals:
            bit = self.signal_names.get(signal)
            if bit is None:
                bit = self.signal_names[signal] = len(self.signal_names)
                if bit == 64 and isinstance(self.signal_masks, array):
                    self.signal_masks = list(self.signal_masks)
            mask |= 1 << bit
        self.signal_masks.append(mask)
        self._insights(row, tuning)

    def _insights(self, row: HistoryRow, tuning: TuningConfig) -> None:
        """The routing and SLA insights' counters, and the fit-band chart's, for one handoff."""
        meets = row.reached(tuning.meeting_outcomes)
        contacted = row.reached(tuning.contact_outcomes)
        self.contacted += contacted
        for groups, key in ((self.contact_by_rep, row.rep_id), (self.contact_by_rule, row.rule)):
            counts = groups[key or "(none)"]
            counts[0] += contacted
            counts[1] += 1
        if row.sla_met is not None:
            self.decided += 1
            self.breached += row.sla_met is False
            if row.rep_id:
                counts = self.breaches_by_rep[row.rep_id]
                counts[0] += row.sla_met is False
                counts[1] += 1
            if row.tier in self.config.sla:
                tier = self.sla[row.tier]
                tier.decided += 1
                if row.sla_met:
                    tier.on_time += 1
                    tier.on_time_meets += meets
                else:
                    tier.late += 1
                    tier.late_meets += meets
                if row.first_touch_at and row.notified_at:
                    tier.waits.append((row.first_touch_at - row.notified_at).total_seconds())
        band = min(90, int(row.fit // 10) * 10)
        self.fit_band_totals[band] += 1
        self.fit_band_meetings[band] += meets

    def add_all(self, rows: Iterable[HistoryRow]) -> Analysis:
        for row in rows:
            self.add(row)
        return self

    @property
    def handed_off(self) -> int:
        return len(self.fits)

    @property
    def received(self) -> int:
        return self.kpis.received

    @property
    def period(self) -> tuple[datetime, datetime] | None:
        return (self.first, self.last) if self.first and self.last else None

    def result(self) -> Kpis:
        return self.kpis.result(self.comebacks)

    def cut(self, by: str) -> dict[str, Kpis]:
        return {key: acc.result(self.comebacks) for key, acc in sorted(self.cuts[by].items())}


def analyse(
    rows: Iterable[HistoryRow],
    config: HandoffConfig,
    cuts: Iterable[str] = ("tier",),
    *,
    features: bool = True,
) -> Analysis:
    return Analysis(config, cuts, features=features).add_all(rows)


def counted(rows: Iterable[HistoryRow], into: list[int]) -> Iterator[HistoryRow]:
    """``rows``, counting them into ``into[0]`` as they go by (for a log line after a pass)."""
    for row in rows:
        into[0] += 1
        yield row
