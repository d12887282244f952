"""Who gets the lead, and why: ownership first, then territory, then weighted fair round robin.

Pure: the lead, the reps and the config in; an ordered plan of steps out, each with
its candidates and the reasons others were skipped. The service walks the plan and
claims capacity with one conditional write per attempt (handoff.aws.reps).

Fairness is weighted fair queuing on a virtual clock. Each rep carries ``vtime``,
the virtual time at which their last lead "finished" (start + 1/weight), and ``vstart``,
where their last lead on its exact turn started. The next lead goes to the available
rep with the smallest start time, where a rep's start is ``max(vtime, pool clock)``
and the pool clock is the latest ``vstart`` in the pool. Absence is never banked: a
rep back from leave, or a new rep, starts at the pool clock and so gets their share
from now on rather than a flood to catch up; adding or removing reps resets nothing. While everyone is
available, each rep's count stays within one lead of its weighted share.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import cache
from itertools import islice
from math import isnan
from typing import TypeVar

from pydantic import BaseModel, TypeAdapter

from handoff.config.routing import RoutingConfig, TerritoryRule
from handoff.domain.clock import local
from handoff.domain.lead import CrmRef
from handoff.domain.record import ConsideredRep, LeadRecord
from handoff.domain.rep import Rep
from handoff.domain.sla import DEFAULT_WORKING_HOURS, rep_time

OUTSIDE_HOURS = "outside working hours"
_K = TypeVar("_K")


def outside_hours(rep: Rep, now: datetime, default_hours: str = DEFAULT_WORKING_HOURS) -> str | None:
    """Why the rep is not at work now, by the same working time the SLA counts (their hours or
    the default, weekdays, their time zone, their public holidays), or None."""
    why = rep_time(rep, default_hours).outside(now)
    return f"{OUTSIDE_HOURS} ({why})" if why else None


def availability(
    rep: Rep,
    now: datetime,
    *,
    needs_hours: bool = False,
    claims: bool = True,
    default_hours: str = DEFAULT_WORKING_HOURS,
) -> str | None:
    """Why this rep cannot take a lead now, or None. ``claims=False`` ignores capacity."""
    if not rep.active:
        return "inactive"
    if rep.ooo_until and now < rep.ooo_until:
        return f"out of office until {rep.ooo_until:%Y-%m-%d}"
    if claims and rep.open_count >= rep.capacity:
        return f"at capacity ({rep.open_count}/{rep.capacity})"
    if claims and rep.daily_cap is not None and rep.day == rep.today(now) and rep.day_count >= rep.daily_cap:
        return f"daily cap reached ({rep.day_count}/{rep.daily_cap})"
    if needs_hours:
        return outside_hours(rep, now, default_hours)
    return None


def pool_clock(reps: list[Rep]) -> float:
    """The latest virtual start served in the pool on its exact fair turn (0 for a pool that
    never served). A claim off its turn (a busy burst) moves its own rep's clock only: a rep that
    took several leads at once does not pull the pool's clock past the others, who keep their
    place and catch up. Reps that never recorded a start: the latest their clocks imply."""
    exact = [r.vstart for r in reps if r.vstart is not None]
    if exact:
        return max(exact)
    return max((r.vtime - 1 / r.weight for r in reps if r.vtime is not None), default=0.0)


def fair_order(eligible: list[Rep], pool_reps: list[Rep]) -> list[tuple[Rep, float]]:
    """Eligible reps by virtual start time (then rep id, then as given), each with the vtime
    they would move to."""
    clock = pool_clock(pool_reps)
    starts = sorted(
        (clock if r.vtime is None or r.vtime < clock else r.vtime, r.rep_id, i)
        for i, r in enumerate(eligible)
    )
    return [(eligible[i], start + 1 / eligible[i].weight) for start, _, i in starts]


class Candidate(BaseModel):
    rep: Rep
    next_vtime: float | None = None  # None: an ownership match, which does not move the queue
    claims: bool = True  # False: the rep already holds this contact, take no second slot
    # Why an owner takes it past their capacity or daily cap ([routing] owner_at_capacity = "assign").
    over_capacity: str | None = None


# Validated as one list when a whole pool's candidates are wanted (the whole plan, `route --explain`).
_CANDIDATES = TypeAdapter(list[Candidate])
_CONSIDERED = TypeAdapter(list[ConsideredRep])


def _candidates(ordered: Iterable[tuple[Rep, float]]) -> list[Candidate]:
    """A pool's candidates in fair order, each with the vtime a claim moves them to."""
    return _CANDIDATES.validate_python([{"rep": rep, "next_vtime": vtime} for rep, vtime in ordered])


class _Ranking:
    """A pool's eligible reps in fair order (fair_order's order), ranked only as far as asked
    (issue 20). The first candidate, usually the only one the service needs, is found in a few
    passes over the reps' start times; the rest, if the claims get that far, from a heap."""

    def __init__(self, eligible: list[Rep], clock: float):
        self.eligible, self.clock = eligible, clock
        self.first: int | None = None  # the index handed out before the heap was built
        self.heap: list[tuple[float, str, int]] | None = None

    def _first(self) -> int | None:
        """The index fair_order puts first, when finding it needs no sort: the smallest start,
        and among equal starts the first in the roster, if the roster is in rep id order (the
        repository lists it so). None: let the heap decide."""
        clock = self.clock
        starts = [clock if (v := r.vtime) is None or v < clock else v for r in self.eligible]
        if not starts or any(map(isnan, starts)):
            return None
        least = min(starts)
        if starts.count(least) > 1:
            ids = [r.rep_id for r in self.eligible]
            if ids != sorted(ids):
                return None
        return starts.index(least)

    def _keys(self) -> list[tuple[float, str, int]]:
        clock, first = self.clock, self.first
        return [
            (clock if (v := r.vtime) is None or v < clock else v, r.rep_id, i)
            for i, r in enumerate(self.eligible)
            if i != first
        ]

    def _candidate(self, i: int) -> Candidate:
        rep = self.eligible[i]
        start = self.clock if (v := rep.vtime) is None or v < self.clock else v
        return Candidate(rep=rep, next_vtime=start + 1 / rep.weight)

    def next(self) -> Candidate | None:
        if self.heap is None and self.first is None:
            self.first = self._first()
            if self.first is not None:
                return self._candidate(self.first)
        if self.heap is None:
            self.heap = self._keys()
            heapq.heapify(self.heap)
        if not self.heap:
            return None
        return self._candidate(heapq.heappop(self.heap)[2])

    def rest(self) -> list[Candidate]:
        ordered = sorted(self.heap if self.heap is not None else self._keys())
        self.heap = []
        return _candidates((self.eligible[i], start + 1 / self.eligible[i].weight) for start, _, i in ordered)


class Step:
    """One way the lead can go (an owner, a pool), with its candidates in the order they are
    tried. A plain object, not a model: a decision builds several, and a pool step ranks its
    candidates only as far as they are read."""

    __slots__ = ("_built", "_ranking", "considered_upto", "pool", "reason", "rule")

    def __init__(
        self,
        rule: str,
        reason: str,
        pool: str | None = None,
        candidates: Iterable[Candidate] = (),
        considered_upto: int = 0,
    ) -> None:
        self.rule, self.reason, self.pool = rule, reason, pool
        # How many entries of the plan's ``considered`` were decided by this step or earlier ones.
        self.considered_upto = considered_upto
        self._built = list(candidates)
        self._ranking: _Ranking | None = None

    def __repr__(self) -> str:
        return f"Step(rule={self.rule!r}, pool={self.pool!r}, reason={self.reason!r})"

    @property
    def candidates(self) -> list[Candidate]:
        """Every candidate, in the order they are tried."""
        if self._ranking is not None:
            self._built += self._ranking.rest()
            self._ranking = None
        return self._built

    def each(self) -> Iterator[Candidate]:
        """The candidates in order, each ranked and built only when reached (the service's way:
        the first candidate usually takes the lead)."""
        built, i = self._built, 0
        while True:
            if i < len(built):
                yield built[i]
                i += 1
                continue
            if self._ranking is None:
                return
            candidate = self._ranking.next()
            if candidate is None:
                self._ranking = None
                return
            built.append(candidate)


# How many of the pool's coming turns a router off its exact turn picks from: one round of a
# 3:2:1 pool, or the first six reps of a pool of equals.
SPREAD_TURNS = 6


def among_next_turns(
    candidates: Iterable[Candidate], pick: Callable[[int], int], turns: int = SPREAD_TURNS
) -> Iterator[Candidate]:
    """``candidates`` in their order, except that the first tried is the rep of one of the pool's
    next ``turns`` turns, the one ``pick(turns)`` names (a rep appears once for each turn it has).

    Routers that lost a turn together take reps off their exact turn. Each claim still moves its
    own rep's clock one turn, so shares hold; spread over the turns coming up, in proportion to
    weight, they land where the next turns would have gone, not all on the same next rep, which
    would then run several turns ahead while the others catch up.
    """
    it = iter(candidates)
    head: list[Candidate] = []
    coming: list[tuple[float, int]] = []  # (a turn's start, its rep's place in head)
    after: list[Candidate] = []
    for candidate in it:
        if candidate.next_vtime is None or not candidate.claims:
            after.append(candidate)  # an owner: not a turn of the queue
            break
        coming.append((candidate.next_vtime - 1 / candidate.rep.weight, len(head)))
        head.append(candidate)
        if len(head) == turns:  # a later rep's first turn comes after all of these
            break
    if len(head) > 1:
        heapq.heapify(coming)
        order: list[int] = []
        for _ in range(turns):
            start, i = heapq.heappop(coming)
            order.append(i)
            heapq.heappush(coming, (start + 1 / head[i].rep.weight, i))
        head.insert(0, head.pop(order[pick(turns)]))
    yield from head
    yield from after
    yield from it


class Owner(BaseModel):
    """Someone the CRM (or the accounts list) says owns the contact or its account."""

    owner_id: str
    name: str  # the rep's name when they are a rep in Handoff, else the owner id

    def is_(self, rep: Rep) -> bool:
        return rep.owns(self.owner_id)


# Skipped reps an assignment names one by one; past these, it counts the rest by reason.
CONSIDERED_KEPT = 50


class RoutePlan:
    """The plan. ``steps``, ``considered`` (who was skipped and why, in the order they were
    weighed) and ``trace`` (the decision path, one line a step, for `handoff route --explain`)
    are built when read: the service reads only the first candidate and what it records."""

    def __init__(self, planner: _Planner, account_owner: Owner | None, contact_owner: Owner | None) -> None:
        self.account_owner, self.contact_owner = account_owner, contact_owner
        self._planner = planner
        self._considered: list[ConsideredRep] = []

    @property
    def steps(self) -> list[Step]:
        return [*self._planner.steps]

    @property
    def considered(self) -> list[ConsideredRep]:
        reasons = self._planner.reasons
        if len(self._considered) < len(reasons):
            self._considered += _CONSIDERED.validate_python(
                [
                    {"rep_id": rep_id, "skipped_because": why}
                    for rep_id, why in islice(reasons.items(), len(self._considered), None)
                ]
            )
        return [*self._considered]

    @property
    def trace(self) -> list[str]:
        return self._planner.traced()

    def walk(self) -> Iterator[Step]:
        """The steps in order, as the service tries them. A lazy plan plans each deferred pool
        step (the overflow, the managers) only when every step before it is used up; then
        ``steps``, ``considered`` and ``trace`` are what the whole plan would have had so far."""
        planner, done = self._planner, 0
        while True:
            while done < len(planner.steps):
                yield planner.steps[done]
                done += 1
            if not planner.resume():
                return

    def kept(
        self,
        upto: int | None = None,
        late: Iterable[ConsideredRep] = (),
        took: str | None = None,
        keep: int = CONSIDERED_KEPT,
    ) -> list[ConsideredRep]:
        """What an assignment records (``recorded``) of the first ``upto`` reps weighed, then
        ``late`` (reps who filled up between the plan and the claim), then the rep who ``took``
        it: ``recorded([*considered[:upto], *late, ConsideredRep(rep_id=took)])``, building
        entries only for the reps it names."""
        reasons = self._planner.reasons
        late = list(late)
        entries = len(reasons) if upto is None else min(upto, len(reasons))
        if entries + len(late) <= keep or any(not c.skipped_because for c in late):
            pairs = [
                *islice(reasons.items(), upto),
                *((c.rep_id, c.skipped_because) for c in late),
                *([(took, None)] if took is not None else []),
            ]
            return _recorded(pairs, keep)
        # Every entry is a skipped rep: the first ``keep`` named, the rest counted by kind.
        first = min(entries, keep)
        named: list[tuple[str, str | None]] = [*islice(reasons.items(), first)]
        named += [(c.rep_id, c.skipped_because) for c in late[: keep - first]]
        kinds = _Written[str](_reason_kind)
        more = Counter(map(kinds.__getitem__, islice(reasons.values(), first, entries)))
        more.update(kinds[c.skipped_because or ""] for c in late[keep - first :])
        counted = [(f"{n} more rep{'s' if n != 1 else ''}", kind) for kind, n in more.items()]
        return _considered([*named, *counted, *([(took, None)] if took is not None else [])])

    def ownership_notes(self, rep: Rep, crm_name: str, *, owner_written: bool) -> list[str]:
        """What the brief tells a rep who is not the owner of record: whose account it is, and
        whose contact, so nobody steps on a colleague's relationship unawares."""
        notes = []
        if self.account_owner and not self.account_owner.is_(rep):
            notes.append(f"The account belongs to {self.account_owner.name}.")
        if self.contact_owner and not self.contact_owner.is_(rep):
            kept = "Handoff makes you the owner there" if owner_written else "Handoff leaves that as it is"
            notes.append(f"In {crm_name} this contact's owner is {self.contact_owner.name}; {kept}.")
        return notes


def _reason_kind(why: str) -> str:
    """A skip reason without its details: "at capacity (20/20)" -> "at capacity"."""
    return why.split(" (", 1)[0].split(" until ", 1)[0]


def recorded(considered: list[ConsideredRep], keep: int = CONSIDERED_KEPT) -> list[ConsideredRep]:
    """What an assignment keeps of who was weighed: the first ``keep`` skipped reps as they are,
    then one entry a kind of reason for the rest ("312 more reps", "at capacity"), then the rep
    who took it. A lead's item must stay under DynamoDB's 400 KB, and a reassigned lead keeps
    every assignment: 2,000 reps skipped as outside working hours are about 240 KB each."""
    skipped = sum(1 for c in considered if c.skipped_because)
    if skipped <= keep:
        return considered
    return _recorded([(c.rep_id, c.skipped_because) for c in considered], keep)


class _Written(dict[_K, str]):
    """Words for a key, written the first time it is asked for: skip reasons repeat ("at capacity
    (20/20)", "out of office until 2026-11-05"), and formatting them costs more than the checks."""

    def __init__(self, write: Callable[[_K], str]) -> None:
        super().__init__()
        self.write = write

    def __missing__(self, key: _K) -> str:
        words = self[key] = self.write(key)
        return words


def _recorded(pairs: list[tuple[str, str | None]], keep: int = CONSIDERED_KEPT) -> list[ConsideredRep]:
    """``recorded`` on (rep id, reason) pairs."""
    skipped = sum(1 for _, why in pairs if why)
    if skipped <= keep:
        return _considered(pairs)
    named: list[tuple[str, str | None]] = []
    took: list[tuple[str, str | None]] = []
    more: dict[str, int] = {}
    kinds = _Written[str](_reason_kind)
    for rep_id, why in pairs:
        if not why:
            took.append((rep_id, why))
        elif len(named) < keep:
            named.append((rep_id, why))
        else:
            kind = kinds[why]
            more[kind] = more.get(kind, 0) + 1
    counted = [(f"{n} more rep{'s' if n != 1 else ''}", kind) for kind, n in more.items()]
    return _considered([*named, *counted, *took])


def _considered(pairs: list[tuple[str, str | None]]) -> list[ConsideredRep]:
    return _CONSIDERED.validate_python(
        [{"rep_id": r, "skipped_because": why} if why is not None else {"rep_id": r} for r, why in pairs]
    )


@cache
def _lowered(allowed: tuple[str, ...]) -> frozenset[str]:
    return frozenset(a.lower() for a in allowed)


def _one_of(value: str | None, allowed: list[str]) -> bool:
    # Each rule's values lower-cased once, not once a lead: every lead tests every rule before its own.
    return not allowed or (value or "").lower() in _lowered(tuple(allowed))


def _within(value: float | None, low: float | None, high: float | None) -> bool:
    if low is None and high is None:
        return True
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def _matches(rule: TerritoryRule, lead: LeadRecord) -> bool:
    company, contact = lead.company, lead.contact
    country = contact.country or company.country
    return (
        _one_of(country, rule.countries)
        and _one_of(contact.region, rule.regions)
        and _one_of(company.industry, rule.industries)
        and _one_of(lead.source, rule.sources)
        and _one_of(lead.qualification.tier, rule.tiers)
        and _within(company.employees, rule.min_employees, rule.max_employees)
        and _within(company.annual_revenue, rule.min_revenue, rule.max_revenue)
    )


def territory(lead: LeadRecord, config: RoutingConfig) -> tuple[str, str]:
    """(pool, rule name) from the first matching rule, else the default pool."""
    for rule in config.rules:
        if _matches(rule, lead):
            return rule.pool, f"territory rule {rule.name!r} ({_described(rule)})"
    return config.default_pool, "no territory rule matched: default pool"


# Each rule's criteria in words, written once a rule (a config's rules are frozen): id -> (rule, words).
_DESCRIBED: dict[int, tuple[TerritoryRule, str]] = {}


def _described(rule: TerritoryRule) -> str:
    held = _DESCRIBED.get(id(rule))
    if held is not None and held[0] is rule:
        return held[1]
    described = (
        "; ".join(
            f"{k} {', '.join(map(str, v)) if isinstance(v, list) else f'{v:g}'}"
            for k, v in rule.criteria().items()
        )
        or "matches everything"
    )
    if len(_DESCRIBED) >= 1024:  # configs come and go in tests and tools: hold only so many
        _DESCRIBED.clear()
    _DESCRIBED[id(rule)] = (rule, described)
    return described


class _Planner:
    def __init__(
        self,
        lead: LeadRecord,
        reps: list[Rep],
        config: RoutingConfig,
        now: datetime,
        exclude: frozenset[str],
        *,
        lazy: bool = False,
    ):
        self.lead, self.reps, self.config, self.now = lead, reps, config, now
        self.exclude = exclude
        # Lazy: a pool step after a step that has candidates waits in ``deferred`` until asked for.
        self.lazy = lazy
        self.deferred: list[tuple[str, str, str]] = []
        self.last = ""  # the trace's closing line
        hot = lead.qualification.tier == "hot"
        self.needs_hours = config.hot_needs_working_hours and hot
        self.after_hours = config.after_hours_pool if hot else ""
        # Who was skipped and why, in the order they were weighed (the plan's ``considered``):
        # a dict, so asking whether a rep was already weighed is one look-up, not a search.
        self.reasons: dict[str, str] = {}
        self.steps: list[Step] = []
        # The decision path; a pool's line (every rep in fair order) is written only when read.
        self.trace: list[str | Callable[[], str]] = []
        # Each pool's reps in roster order, and who owns each owner id: found once a decision
        # (a pool is walked by several steps, an owner looked up for the plan and its notes).
        self.pools: dict[str, list[Rep]] = {}
        self.owners: dict[str, Rep | None] = {}
        # Reps share time zones and calendars: each zone's date, and whether each calendar is at
        # work, found once a decision rather than once a rep.
        self.dates: dict[str, str] = {}
        self.hours: dict[tuple[str, str, str | None, str | None], str | None] = {}
        # Skip reasons repeat: each written once a decision.
        self.away = _Written[datetime](lambda until: f"out of office until {until:%Y-%m-%d}")
        self.full = _Written[tuple[int, int]](lambda seen: f"at capacity ({seen[0]}/{seen[1]})")

    def members(self, pool: str) -> list[Rep]:
        if pool not in self.pools:
            self.pools[pool] = [r for r in self.reps if pool in r.pools]
        return self.pools[pool]

    def owning(self, owner_id: str) -> Rep | None:
        """The first rep who owns ``owner_id`` (their rep id or one of their CRM owner ids)."""
        if owner_id not in self.owners:
            self.owners[owner_id] = next((r for r in self.reps if r.owns(owner_id)), None)
        return self.owners[owner_id]

    def unavailable(self, rep: Rep, *, claims: bool = True) -> str | None:
        """``availability`` (the same reasons, in the same order), plus reps who already had it."""
        if self.exclude and rep.rep_id in self.exclude:
            why: str | None = "already had this lead"
        elif not rep.active:
            why = "inactive"
        elif rep.ooo_until and self.now < rep.ooo_until:
            why = f"out of office until {rep.ooo_until:%Y-%m-%d}"
        elif claims and rep.open_count >= rep.capacity:
            why = f"at capacity ({rep.open_count}/{rep.capacity})"
        elif (
            claims
            and rep.daily_cap is not None
            and rep.day_count >= rep.daily_cap
            and rep.day == self.today(rep)
        ):
            why = f"daily cap reached ({rep.day_count}/{rep.daily_cap})"
        else:
            why = self.off_hours(rep) if self.needs_hours else None
        return why

    def today(self, rep: Rep) -> str:
        """``rep.today(now)``, once a time zone."""
        day = self.dates.get(rep.timezone)
        if day is None:
            day = self.dates[rep.timezone] = local(self.now, rep.timezone).date().isoformat()
        return day

    def off_hours(self, rep: Rep) -> str | None:
        """``outside_hours``, once a calendar (hours, zone, country, region)."""
        default = self.config.default_working_hours
        key = (rep.working_hours or default, rep.timezone, rep.country, rep.region)
        if key not in self.hours:
            self.hours[key] = outside_hours(rep, self.now, default)
        return self.hours[key]

    def skip(self, rep: Rep, why: str) -> None:
        self.reasons.setdefault(rep.rep_id, why)

    def add(self, step: Step) -> None:
        if self.after_hours and not self.steps:
            step = self.at_work_first(step)
        self.append(step)

    def append(self, step: Step) -> None:
        step.considered_upto = len(self.reasons)
        self.steps.append(step)

    def at_work_first(self, routed: Step) -> Step:
        """A hot lead with an after-hours pool: whoever routing picked first (the owner, or the
        pool's reps) goes first only while at work. Else the pool's reps who are at work, or
        the after-hours pool's; the step as planned stays behind them, so a lead nobody at work
        can take still reaches a rep, who sees it when their day starts."""
        if routed.rule == "existing_handoff":
            return routed  # the contact already has this rep: one person never gets two
        off = {c.rep.rep_id: why for c in routed.candidates if (why := self.off_hours(c.rep))}
        at_work = [c for c in routed.candidates if c.rep.rep_id not in off]
        # With hot_needs_working_hours the pool's reps who are off were skipped, not planned.
        off_skipped = {rep_id for rep_id, why in self.reasons.items() if why.startswith(OUTSIDE_HOURS)}
        pool_off = routed.pool is not None and any(r.rep_id in off_skipped for r in self.members(routed.pool))
        if not off and (routed.candidates or not pool_off):
            return routed
        if at_work:
            self.trace.append(
                f"hot lead: first who in {routed.pool} is at work now "
                f"({', '.join(c.rep.rep_id for c in at_work)}); then {', '.join(f'{r} ({w})' for r, w in off.items())}"
            )
            self.append(
                Step(
                    rule=routed.rule,
                    reason=f"{routed.reason}; at work now",
                    pool=routed.pool,
                    candidates=at_work,
                )
            )
            return Step(
                rule=routed.rule,
                reason=routed.reason,
                pool=routed.pool,
                candidates=[c for c in routed.candidates if c.rep.rep_id in off],
            )
        if routed.pool is None:
            owner = routed.candidates[0].rep
            who = f"{owner.name or owner.rep_id} is {off[owner.rep_id]}"
        else:
            who = f"nobody in {routed.pool} is at work"
        self.after_hours_step(who, routed)
        return routed

    def after_hours_step(self, who: str, routed: Step) -> None:
        pool = self.after_hours
        planned = {c.rep.rep_id for c in routed.candidates}
        members = self.members(pool)
        eligible = []
        for rep in members:
            reason = self.unavailable(rep) or self.off_hours(rep)
            if reason is None:
                eligible.append(rep)
            elif rep.rep_id not in planned:  # a rep planned behind may still get it
                self.skip(rep, reason)
        ordered = fair_order(eligible, members)
        self.trace.append(
            f"after hours: {who} -> pool {pool}: {len(eligible)} of {len(members)} reps at work"
            + (f", next by weighted fair share: {', '.join(r.rep_id for r, _ in ordered)}" if ordered else "")
            + ("" if ordered else "; the lead goes on as planned")
        )
        self.append(
            Step(
                rule="after_hours",
                reason=f"Hot lead out of hours: {who}; after-hours pool {pool}",
                pool=pool,
                candidates=_candidates(ordered),
            )
        )

    def owner(self, owner_id: str | None) -> Owner | None:
        if not owner_id:
            return None
        rep = self.owning(owner_id)
        name = (rep.name or rep.rep_id) if rep else f"{self.lead.crm.name('CRM')} user {owner_id}"
        return Owner(owner_id=owner_id, name=name)

    def owner_step(self, rule: str, label: str, owner_id: str | None, *, claims: bool = True) -> bool:
        if not owner_id:
            self.trace.append(f"{label}: none")
            return False
        owner = self.owning(owner_id)
        if owner is None:
            self.trace.append(f"{label}: {owner_id} is not a rep in Handoff")
            return False
        name = owner.name or owner.rep_id
        why = self.unavailable(owner, claims=claims)
        if (
            why
            and claims
            and self.config.owner_at_capacity == "assign"
            and not self.unavailable(owner, claims=False)
        ):
            # Only capacity stands in the way: the relationship wins, and the manager is told.
            self.trace.append(
                f"{label}: {owner.rep_id} is {why}; owners keep their leads -> assign over capacity"
            )
            self.add(
                Step(
                    rule=rule,
                    reason=f"{label}: {name}, over capacity ({why})",
                    candidates=[Candidate(rep=owner, over_capacity=why)],
                )
            )
            return True
        if why:
            self.skip(owner, why)
            self.trace.append(f"{label}: {owner.rep_id} is {why}; moving on")
            return False
        self.trace.append(f"{label}: {owner.rep_id} is available -> assign")
        self.add(Step(rule=rule, reason=f"{label}: {name}", candidates=[Candidate(rep=owner, claims=claims)]))
        return True

    def traced(self) -> list[str]:
        return [line if isinstance(line, str) else line() for line in [*self.trace, self.last]]

    def resume(self) -> bool:
        """Plan the next deferred pool step; False when there is none left."""
        if not self.deferred:
            return False
        rule, pool, why = self.deferred.pop(0)
        self.plan_pool(rule, pool, why)
        return True

    def pool_step(self, rule: str, pool: str, why: str) -> None:
        if self.lazy and (self.deferred or any(step._built or step._ranking for step in self.steps)):
            self.deferred.append((rule, pool, why))
        else:
            self.plan_pool(rule, pool, why)

    def weigh(self, members: list[Rep]) -> tuple[list[Rep], list[Rep], float]:
        """(the reps who can take the lead, those passed over in roster order, the pool clock):
        ``unavailable`` written out for each rep, and ``pool_clock`` in the same pass, the hot
        loop of a decision."""
        eligible: list[Rep] = []
        passed_over: list[Rep] = []
        now, exclude, reasons, needs_hours = self.now, self.exclude, self.reasons, self.needs_hours
        away, full = self.away, self.full
        starts: list[float] = []
        implied: list[float] = []  # reps that never recorded a start
        for rep in members:
            fields = rep.__dict__  # a model's fields, read directly: a few attribute look-ups less a rep
            if (vstart := fields["vstart"]) is not None:
                starts.append(vstart)
            elif (vtime := fields["vtime"]) is not None:
                implied.append(vtime - 1 / fields["weight"])
            if exclude and fields["rep_id"] in exclude:
                reason: str | None = "already had this lead"
            elif not fields["active"]:
                reason = "inactive"
            elif (ooo := fields["ooo_until"]) and now < ooo:
                reason = away[ooo]  # formatting a date costs more than the rest of the checks
            elif (count := fields["open_count"]) >= (capacity := fields["capacity"]):
                reason = full[count, capacity]
            elif (
                (cap := fields["daily_cap"]) is not None
                and fields["day_count"] >= cap
                and fields["day"] == self.today(rep)
            ):
                reason = f"daily cap reached ({fields['day_count']}/{cap})"
            else:
                reason = self.off_hours(rep) if needs_hours else None
            if reason:
                if (rep_id := fields["rep_id"]) not in reasons:
                    reasons[rep_id] = reason
                passed_over.append(rep)
            else:
                eligible.append(rep)
        return eligible, passed_over, max(starts or implied, default=0.0)  # pool_clock(members)

    def plan_pool(self, rule: str, pool: str, why: str) -> None:
        members = self.members(pool)
        eligible, passed_over, clock = self.weigh(members)
        ranking = _Ranking(eligible, clock)
        reasons = self.reasons

        def line() -> str:
            ordered = fair_order(eligible, members)
            # The reason first recorded for the rep (it may have been skipped by an earlier step).
            skipped = [f"{r.rep_id} ({reasons[r.rep_id]})" for r in passed_over]
            return (
                f"pool {pool}: {len(eligible)} of {len(members)} reps available"
                + (
                    f", next by weighted fair share: {', '.join(r.rep_id for r, _ in ordered)}"
                    if ordered
                    else ""
                )
                + (f"; skipped {', '.join(skipped)}" if skipped else "")
            )

        self.trace.append(line)
        step = Step(rule=rule, reason=why, pool=pool)
        step._ranking = ranking if eligible else None
        self.add(step)


def _crm_owner(crm: CrmRef, p: _Planner) -> str | None:
    if crm.owner_id and crm.user_owner_id is None:
        p.trace.append(f"Owner in the CRM: {crm.owner_id} is a queue, not a person")
    return crm.user_owner_id


def plan_route(
    lead: LeadRecord,
    reps: list[Rep],
    config: RoutingConfig,
    now: datetime,
    *,
    open_handoff_rep: str | None = None,
    account_owner: str | None = None,
    exclude: frozenset[str] = frozenset(),
    named: tuple[str, str] | None = None,
    lazy: bool = False,
) -> RoutePlan:
    """Every step that could own the lead, in the order they are tried. ``exclude``: reps who
    already had it (a reassignment never hands a lead back to someone who let it lapse).
    ``named``: (rep id, why) of a rep a person named for a reassignment, tried first; the
    usual steps follow, should that rep be unavailable.
    ``lazy``: pool steps after a step that has candidates are planned only when RoutePlan.walk
    reaches them (the service's way: a pool of 2,000 reps costs milliseconds to rank, and the
    overflow is rarely needed); the plan it walks is the same."""
    p = _Planner(lead, reps, config, now, exclude, lazy=lazy)
    crm = lead.crm
    if named is not None:
        p.owner_step("named_owner", named[1], named[0])
    owner_of_account = crm.account_owner_id or account_owner
    if p.owner_step("existing_handoff", "Open handoff for this contact", open_handoff_rep, claims=False):
        pass
    elif crm.customer:
        if not p.owner_step("customer_owner", "Existing customer, account owner", owner_of_account):
            p.pool_step("csm_pool", config.csm_pool, f"Existing customer: CSM pool {config.csm_pool}")
    elif (
        (
            crm.open_opportunity
            and p.owner_step(
                "opportunity_owner", "Open opportunity owner", crm.opportunity_owner_id or crm.user_owner_id
            )
        )
        or (config.honour_crm_owner and p.owner_step("crm_owner", "Owner in the CRM", _crm_owner(crm, p)))
        or p.owner_step("account_owner", "Known account, account owner", owner_of_account)
    ):
        pass
    pool, why = territory(lead, config)
    p.trace.append(f"territory: {why} -> pool {pool}")
    for index, name in enumerate(config.overflow_chain(pool)):
        if index == 0:
            p.pool_step(
                "round_robin", name, f"{why[0].upper()}{why[1:]}; next in weighted round robin for {name}"
            )
        elif name == config.manager_pool:
            p.pool_step("manager_pool", name, f"Everyone in {pool} was unavailable or full: manager queue")
        else:
            p.pool_step("overflow", name, f"Everyone in {pool} was unavailable or full: overflow pool {name}")
    p.last = f"fallback: unassigned queue ({config.unassigned_email}), with an alert"
    return RoutePlan(p, p.owner(owner_of_account), p.owner(crm.user_owner_id))
