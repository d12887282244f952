"""The tuning job's brain: measured outcomes in, reviewable config proposals out.

It proposes four kinds of change, each with its evidence and sample sizes:
1. a qualification threshold (``qualify.min_fit``) with its effect on volume and the outcome;
2. per-signal weights, from one regression over all signals (logistic for meetings and stage 2:
   odds ratios; log-linear for pipeline amount: ratios of expected amount; 95% intervals), only
   where the effect clears a Bonferroni-corrected test;
3. routing insights: reps or rules with low contact rates or repeated SLA breaches;
4. SLA suggestions per tier.
A comparison with fewer than ``min_sample`` leads on either side is never made.

The outcome the threshold and weights optimise is ``[tuning] outcome``: meetings set, handoffs
whose deal reached stage 2, or pipeline amount per handoff; each proposal names it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel

from handoff.config import HandoffConfig
from handoff.insights.analysis import Analysis, Features, analyse
from handoff.insights.analysis import outcome_value as analysis_outcome_value
from handoff.insights.history import HistoryRow
from handoff.insights.kpis import Kpis
from handoff.insights.proposal import Proposal, apply_to_config
from handoff.insights.simulate import Outcome
from handoff.insights.stats import (
    Group,
    duration,
    log_linear_regression_grouped,
    logistic_regression_grouped,
    percent,
    percentile,
    two_proportion_z,
    welch_z,
    wilson,
    z_for_two_sided,
)

FIT_STEP = 5  # candidate min_fit values go up in steps of this many points
WEIGHT_CHANGE_LIMIT = (0.5, 2.0)  # one tuning cycle at most halves or doubles a weight
# Leads a change adds must meet at least this share as often as today's, or reps' time is wasted.
MARGINAL_SHARE = 0.5


# How each [tuning] outcome reads in a proposal.
OUTCOME_LABELS = {"meetings": "meetings", "stage_2": "stage 2", "pipeline_amount": "pipeline amount"}


class SignalEffect(BaseModel):
    signal: str
    outcome: str = "meetings"
    with_signal: int
    # Meeting or stage-2 rate, or pipeline amount per handoff, with and without the signal.
    value_with: float
    value_without: float
    # Adjusted odds ratio (meetings, stage 2) or ratio of expected amount (pipeline amount).
    ratio: float
    interval: tuple[float, float]
    significant: bool


class TuningReport(BaseModel):
    generated_at: datetime
    period: tuple[datetime, datetime] | None
    # The [tuning] outcome the threshold and weights were fitted to.
    outcome: str = "meetings"
    kpis: Kpis
    by_tier: dict[str, Kpis]
    signals: list[SignalEffect]
    proposals: list[Proposal]
    notes: list[str]


def outcome_value(config: HandoffConfig) -> Callable[[HistoryRow], float]:
    """What one handoff is worth under ``[tuning] outcome``: 1/0 for meetings and stage 2, the
    deals' amount for pipeline amount."""
    return analysis_outcome_value(config.tuning)


def _binary(config: HandoffConfig) -> bool:
    return config.tuning.outcome != "pipeline_amount"


def _show(value: float | None, config: HandoffConfig) -> str:
    """A rate as a percentage; an amount per handoff as a whole number."""
    if value is None or _binary(config):
        return percent(value)
    return f"{value:,.0f} per handoff"


def _rate_name(config: HandoffConfig) -> str:
    return {"meetings": "meeting rate", "stage_2": "stage-2 rate", "pipeline_amount": "pipeline"}[
        config.tuning.outcome
    ]


def _z(kept: Sequence[float], dropped: Sequence[float], config: HandoffConfig) -> float:
    if _binary(config):
        return two_proportion_z(round(sum(kept)), len(kept), round(sum(dropped)), len(dropped))
    return welch_z(kept, dropped)


def propose_threshold(analysis: Analysis, config: HandoffConfig) -> Proposal | None:
    """The highest min_fit whose dropped leads do significantly worse on the outcome, while
    keeping at least ``min_meetings_kept`` of it (of the meetings, stage-2 deals or amount)."""
    tuning = config.tuning
    fits, values, handed = analysis.fits, analysis.values, analysis.handed_off
    current = config.qualify.min_fit
    candidates = [current + FIT_STEP * k for k in range(1, 20) if current + FIT_STEP * k <= 90]
    total = sum(values)
    if not candidates or not total:
        return None
    needed = z_for_two_sided(tuning.alpha / len(candidates))
    name, label = _rate_name(config), OUTCOME_LABELS[tuning.outcome]
    best: Proposal | None = None
    for candidate in candidates:
        kept = [v for f, v in zip(fits, values, strict=True) if f >= candidate]
        dropped = [v for f, v in zip(fits, values, strict=True) if f < candidate]
        if len(kept) < tuning.min_sample or len(dropped) < tuning.min_sample:
            continue
        z = _z(kept, dropped, config)
        if z < needed or sum(kept) / total < tuning.min_meetings_kept:
            continue
        if _binary(config):
            kept_hits, dropped_hits, all_hits = round(sum(kept)), round(sum(dropped)), round(total)
            low, high = wilson(dropped_hits, len(dropped))
            keeping = f"keeping {kept_hits} of {all_hits} {'meetings' if tuning.outcome == 'meetings' else 'stage-2 deals'}"
            below = f"{dropped_hits} {label} in {len(dropped)} handoffs ({percent(dropped_hits / len(dropped))}, 95% CI {low:.0%}-{high:.0%})"
        else:
            keeping = f"keeping {sum(kept) / total:.0%} of the pipeline amount"
            below = f"{sum(dropped):,.0f} of pipeline in {len(dropped)} handoffs ({_show(sum(dropped) / len(dropped), config)})"
        best = Proposal(
            kind="threshold",
            outcome=tuning.outcome,
            summary=f"Raise qualify.min_fit from {current:g} to {candidate:g}: {len(dropped)} fewer handoffs "
            f"({len(dropped) / handed:.0%} of volume), {name} {_show(total / handed, config)} "
            f"-> {_show(sum(kept) / len(kept), config)}, {keeping}.",
            evidence=f"Fit {current:g}-{candidate:g}: {below} vs {_show(sum(kept) / len(kept), config)} "
            f"in {len(kept)} above; z = {z:.1f} (needed {needed:.1f}).",
            sample=handed,
            path=["qualify", "min_fit"],
            current=current,
            proposed=candidate,
        )
    return best


def _weight_path(signal: str, config: HandoffConfig) -> tuple[list[str], float] | None:
    """Where a signal's weight lives in the config, and its current value."""
    fit, intent = config.qualify.fit, config.qualify.intent
    criteria = {"industry": ("industries", fit.industries.weight), "employees": ("employees", fit.employees.weight),
                "revenue": ("revenue", fit.revenue.weight), "country": ("countries", fit.countries.weight),
                "region": ("regions", fit.regions.weight)}  # fmt: skip
    family, _, name = signal.partition(".")
    if family == "fit" and name in criteria:
        table, weight = criteria[name]
        return ["qualify", "fit", table, "weight"], weight
    if family == "fit" and name.startswith("persona."):
        persona = next((p for p in fit.personas if p.name == name.removeprefix("persona.")), None)
        return (["qualify", "fit", "personas", persona.name, "weight"], persona.weight) if persona else None
    if family == "intent" and name.startswith("activity."):
        kind = name.removeprefix("activity.")
        return (
            (["qualify", "intent", "activity_weights", kind], intent.activity_weights[kind])
            if (kind in intent.activity_weights)
            else None
        )
    if family == "trigger" and name in intent.trigger_weights:
        return ["qualify", "intent", "trigger_weights", name], intent.trigger_weights[name]
    return None


def signal_effects(
    analysis: Analysis, config: HandoffConfig, min_fit: float | None = None
) -> list[SignalEffect]:
    """Each signal's adjusted effect on the outcome, over the handoffs with a fit of at least
    ``min_fit`` (all of them when None). Triggers are one-of-a-kind, so the most common trigger
    is the reference the others are measured against. Handoffs are grouped by their set of
    signals first: the model fits on those groups, never on rows."""
    tuning = config.tuning
    # mask -> (binary target group, value group)
    by_mask: dict[int, tuple[Group, Group]] = {}
    for fit, value, mask in zip(analysis.fits, analysis.values, analysis.signal_masks, strict=True):
        if min_fit is not None and fit < min_fit:
            continue
        if mask not in by_mask:
            by_mask[mask] = (Group(), Group())
        binary, amount = by_mask[mask]
        binary.add(1.0 if value > 0 else 0.0)
        amount.add(value)
    names = {bit: name for name, bit in analysis.signal_names.items()}
    sets = {mask: frozenset(names[b] for b in names if mask >> b & 1) for mask in by_mask}
    cohort = sum(g.n for g, _ in by_mask.values())
    counts: Counter[str] = Counter()
    for mask, (group, _) in by_mask.items():
        for signal in sets[mask]:
            counts[signal] += group.n
    testable = [s for s, n in counts.items() if tuning.min_sample <= n <= cohort - tuning.min_sample]
    triggers = sorted((s for s in testable if s.startswith("trigger.")), key=lambda s: (-counts[s], s))
    features = sorted(s for s in testable if s not in triggers[:1])
    if not features:
        return []
    groups = {sets[mask]: pair[0 if _binary(config) else 1] for mask, pair in by_mask.items()}
    coefficients = (
        logistic_regression_grouped(groups, features)
        if _binary(config)
        else log_linear_regression_grouped(groups, features)
    )
    needed = z_for_two_sided(tuning.alpha / len(features))
    total = sum(amount.total for _, amount in by_mask.values())
    effects = []
    for coefficient in coefficients:
        with_n = sum(g.n for mask, (g, _) in by_mask.items() if coefficient.feature in sets[mask])
        with_total = sum(a.total for mask, (_, a) in by_mask.items() if coefficient.feature in sets[mask])
        effects.append(
            SignalEffect(
                signal=coefficient.feature,
                outcome=tuning.outcome,
                with_signal=with_n,
                value_with=with_total / with_n,
                value_without=(total - with_total) / (cohort - with_n),
                ratio=round(coefficient.odds_ratio, 3),
                interval=tuple(round(v, 3) for v in coefficient.odds_ratio_interval()),
                significant=abs(coefficient.z) >= needed,
            )
        )
    return sorted(effects, key=lambda e: -abs(e.ratio - 1))


def propose_weights(effects: Sequence[SignalEffect], config: HandoffConfig) -> list[Proposal]:
    low, high = WEIGHT_CHANGE_LIMIT
    proposals = []
    for effect in effects:
        where = _weight_path(effect.signal, config)
        if not effect.significant or where is None or where[1] <= 0:
            continue
        path, weight = where
        proposed = round(weight * min(high, max(low, effect.ratio)))
        if proposed == round(weight):
            continue
        direction = "Raise" if proposed > weight else "Lower"
        ratio = "odds ratio" if _binary(config) else "ratio of expected amount"
        proposals.append(
            Proposal(
                kind="weight",
                outcome=config.tuning.outcome,
                summary=f"{direction} the weight of {effect.signal} from {weight:g} to {proposed:g}.",
                evidence=f"{_rate_name(config).capitalize()} {_show(effect.value_with, config)} with it "
                f"(n={effect.with_signal}) vs {_show(effect.value_without, config)} without; adjusted {ratio} "
                f"{effect.ratio:.2f} (95% CI {effect.interval[0]:.2f}-{effect.interval[1]:.2f}).",
                sample=effect.with_signal,
                path=path,
                current=weight,
                proposed=proposed,
            )
        )
    return proposals


def _outliers(
    groups: dict[str, list[int]], team_rate: float, *, low_is_bad: bool, config: HandoffConfig
) -> list[tuple[str, int, int, tuple[float, float]]]:
    """Groups ([hits, n]) whose rate's corrected interval lies wholly on the bad side of the team rate."""
    eligible = {k: v for k, v in groups.items() if v[1] >= config.tuning.min_sample}
    if not eligible:
        return []
    z = z_for_two_sided(config.tuning.alpha / len(eligible))
    found = []
    for key, (hits, n) in sorted(eligible.items()):
        low, high = wilson(hits, n, z)
        if (high < team_rate) if low_is_bad else (low > team_rate):
            found.append((key, hits, n, (low, high)))
    return found


def routing_insights(analysis: Analysis, config: HandoffConfig) -> list[Proposal]:
    team_contact = analysis.contacted / analysis.handed_off
    team_breach = analysis.breached / analysis.decided if analysis.decided else 0.0
    insights = []
    for label, groups in (("Rep", analysis.contact_by_rep), ("Routing rule", analysis.contact_by_rule)):
        for key, hits, n, (low, high) in _outliers(groups, team_contact, low_is_bad=True, config=config):
            insights.append(
                Proposal(
                    kind="routing",
                    outcome="contact rate",
                    summary=f"{label} {key} reaches fewer contacts: {percent(hits / n)} vs the team's "
                    f"{percent(team_contact)}. Review their queue, or lower their weight.",
                    evidence=f"{hits} of the {n} handoffs routed to them contacted (95% CI {low:.0%}-{high:.0%}, corrected).",
                    sample=n,
                )
            )
    for key, hits, n, (low, high) in _outliers(
        analysis.breaches_by_rep, team_breach, low_is_bad=False, config=config
    ):
        insights.append(
            Proposal(
                kind="routing",
                outcome="SLA attainment",
                summary=f"Rep {key} breaches the SLA repeatedly: {hits} of the {n} handoffs routed to them with a decided SLA late "
                f"({percent(hits / n)} vs the team's {percent(team_breach)}). Check their capacity and hours.",
                evidence=f"Breach rate 95% CI {low:.0%}-{high:.0%} (corrected), above the team's {percent(team_breach)}.",
                sample=n,
            )
        )
    return insights


def sla_suggestions(analysis: Analysis, config: HandoffConfig) -> list[Proposal]:
    tuning = config.tuning
    suggestions = []
    for tier, seconds in config.sla.items():
        figures = analysis.sla.get(tier)
        if figures is None or figures.decided < tuning.min_sample or not figures.waits:
            continue
        # Met or breached by the one definition (first touch by the first deadline, in working
        # hours where they count), as in the report; the waits below only describe the spread.
        decided, on_time, late = figures.decided, figures.on_time, figures.late
        attainment = on_time / decided
        at_target = percentile(figures.waits, tuning.sla_target) or 0
        evidence = (
            f"{decided} {tier} handoffs with a decided SLA: {percent(attainment)} touched within "
            f"{duration(seconds)}; "
            f"meeting rate {percent(figures.on_time_meets / on_time if on_time else None)} on time vs "
            f"{percent(figures.late_meets / late if late else None)} late; "
            f"{tuning.sla_target:.0%} of first touches came within {duration(at_target)}."
        )
        if attainment < tuning.sla_target:
            suggestions.append(
                Proposal(
                    kind="sla",
                    outcome="SLA attainment",
                    summary=f"The {tier} SLA ({duration(seconds)}) is met {percent(attainment)} of the time, below the "
                    f"{tuning.sla_target:.0%} target: add capacity or route around slow reps before loosening it.",
                    evidence=evidence,
                    sample=decided,
                )
            )
        elif at_target < seconds / 2:
            tighter = max(60, int(-(-at_target // 60) * 60))  # round up to a whole minute
            suggestions.append(
                Proposal(
                    kind="sla",
                    outcome="SLA attainment",
                    summary=f"Tighten the {tier} SLA from {duration(seconds)} to {duration(tighter)}: reps already touch "
                    f"{tuning.sla_target:.0%} of leads that fast.",
                    evidence=evidence,
                    sample=decided,
                    path=["sla", tier],
                    current=seconds,
                    proposed=tighter,
                )
            )
    return suggestions


def _rescaled(before: HandoffConfig, after: HandoffConfig) -> str:
    """Fit is a share of all attainable fit weight: a fit weight change rescales every lead."""
    old, new = before.qualify.fit.total_weight, after.qualify.fit.total_weight
    if old == new or not old:
        return ""
    return (
        f" It also rescales fit for every lead: the attainable fit weight goes {old:g} -> {new:g}, so a lead "
        f"without this signal scores {abs(1 - old / new):.0%} {'lower' if new > old else 'higher'} on fit."
    )


def _replayer(
    analysis: Analysis, reread: Callable[[], Iterable[HistoryRow]] | None
) -> Callable[[HandoffConfig], tuple[Outcome, bytes]]:
    """How a config is replayed: arithmetic on the features read in the one pass when only
    weights or min_fit differ (every change tune proposes); otherwise the full qualify, on the
    history read again (``reread``), which is the one case that needs it."""
    features = analysis.features
    if features is None:
        raise ValueError("the analysis was made without features: it cannot replay proposals")
    order = features.order()

    def run(config: HandoffConfig) -> tuple[Outcome, bytes]:
        source = features
        if not features.supports(config):
            if reread is None:
                raise ValueError("this change needs the full qualify on every lead: pass the history again")
            source = Features(config)
            value = analysis.value
            for row in reread():
                handed = row.notified_at is not None
                source.add(row, handed, value(row) if handed else 0.0)
        found = source.replay(config, order)
        outcome = Outcome(
            qualified=found.qualified,
            tiers=found.tiers,
            rep_load={},
            overflow=0,
            unassigned=0,
            expected_meetings=found.expected,
        )
        return outcome, found.mask

    return run


def _check_by_replay(
    analysis: Analysis,
    config: HandoffConfig,
    proposals: list[Proposal],
    reread: Callable[[], Iterable[HistoryRow]] | None = None,
) -> None:
    """Replay the history under each config change, in order, on top of the ones kept so far.
    A change is kept when it sharpens (keeps ``min_meetings_kept`` of the expected meetings
    without lowering meetings per qualified lead) or grows (adds meetings, and the leads it
    adds meet at least half as often as today's); otherwise it is held back: reported, not
    in the diff.
    Weights interact (fit is a share of all attainable fit weight), so one change alone can
    look right and still move every other lead's score.
    "Meetings" here is the [tuning] outcome: stage-2 deals or pipeline amount when chosen.
    Each replay is arithmetic over the features the one pass kept (see ``analysis.Features``)."""
    kept: list[Proposal] = []
    replay = _replayer(analysis, reread)
    best, best_qualified = replay(config)
    label = OUTCOME_LABELS[config.tuning.outcome]

    def line(outcome: Outcome) -> str:
        expected, per_lead = outcome.expected_meetings, outcome.meeting_rate
        if _binary(config):
            return f"{outcome.qualified} qualified, {expected:g} expected {label} ({per_lead:.0%})"
        return f"{outcome.qualified} qualified, {expected:,.0f} expected {label} ({per_lead:,.0f} per qualified lead)"

    current = config  # the config with every change kept so far
    for proposal in proposals:
        if not proposal.path:
            continue
        after = apply_to_config(config, [*kept, proposal])
        trial, trial_qualified = replay(after)
        proposal.simulated = f"Replayed history: {line(best)} -> {line(trial)}." + _rescaled(current, after)
        if trial_qualified == best_qualified and trial.tiers == best.tiers:
            # Nothing a rep or RevOps would see moves: such a change has no place in the diff.
            proposal.held_back = True
            proposal.simulated += " It changes no lead's qualification or tier, so it is not in the diff."
            continue
        sharper = (
            trial.expected_meetings >= best.expected_meetings * config.tuning.min_meetings_kept
            and trial.meeting_rate >= best.meeting_rate
        )
        added = trial.qualified - best.qualified
        grows = (
            trial.expected_meetings > best.expected_meetings
            and added > 0
            and (trial.expected_meetings - best.expected_meetings) / added
            >= MARGINAL_SHARE * best.meeting_rate
        )
        if sharper or grows:
            kept.append(proposal)
            current, best, best_qualified = after, trial, trial_qualified
        else:
            proposal.held_back = True
            proposal.simulated += f" It would cost {label}, so it is not in the diff."


def tune(
    rows: Iterable[HistoryRow] | Analysis,
    config: HandoffConfig,
    now: datetime,
    period: tuple[datetime, datetime] | None = None,
    *,
    reread: Callable[[], Iterable[HistoryRow]] | None = None,
) -> TuningReport:
    """The report and proposals, from rows (read once, one at a time) or from an ``Analysis``
    already made of them. ``reread`` gives the rows again, for the one replay that needs the
    full qualify (a change beyond weights and min_fit, which tune never proposes)."""
    if isinstance(rows, Analysis):
        analysis = rows
    else:
        if isinstance(rows, Sequence) and reread is None:
            reread = lambda: rows  # noqa: E731
        analysis = analyse(rows, config)
    notes = []
    effects: list[SignalEffect] = []
    proposals: list[Proposal] = []
    handed = analysis.handed_off
    if handed < 2 * config.tuning.min_sample:
        notes.append(
            f"Only {handed} handoffs in the period: at least {2 * config.tuning.min_sample} are needed "
            "before anything is proposed."
        )
    else:
        threshold = propose_threshold(analysis, config)
        # Weights are judged on the leads that would still be handed off, so a low-fit cliff
        # that the threshold removes is not mistaken for the effect of every fit signal.
        effects = signal_effects(
            analysis, config, threshold.proposed if threshold and threshold.proposed else None
        )
        proposals = [
            *([threshold] if threshold else []),
            *propose_weights(effects, config),
            *routing_insights(analysis, config),
            *sla_suggestions(analysis, config),
        ]
        _check_by_replay(analysis, config, proposals, reread)
        notes.append(
            "Signal effects are observational (adjusted for each other, not randomised): review each "
            "change, and simulate it on history with `handoff simulate` before deploying."
        )
    return TuningReport(
        generated_at=now,
        period=period,
        outcome=config.tuning.outcome,
        kpis=analysis.result(),
        by_tier=analysis.cut("tier") if "tier" in analysis.cuts else {},
        signals=effects,
        proposals=proposals,
        notes=notes,
    )
