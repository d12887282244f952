"""The reps table: profiles, pools, capacity and the atomic capacity claim."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from handoff.aws.dynamo import from_item, storage_errors, to_item, to_plain
from handoff.aws.throttling import through_throttling
from handoff.domain.record import iso
from handoff.domain.rep import Rep
from handoff.errors import CapacityExhausted, ClaimConflict, NotFound

# How long a function keeps the roster it read. Routing plans several times per lead, the ladder
# and CRM activity look reps up, and a warm function serves many leads: one read serves them all.
# A snapshot may be stale; that is safe, because every claim is a conditional write on what the
# router saw (a stale rep gives ClaimConflict, and the rep is read again, fresh). An ops change
# (out of office, capacity) reaches routing within this many seconds.
ROSTER_SECONDS = 10.0
# Each rep item keeps a ledger of the leads holding its slots (a string set, ``holds``) beside
# ``open_count``, both changed in one conditional write: a claim adds its lead, a release removes
# it. So a step tried again (after a throttle, a timeout, a lost answer) never takes or gives back
# a slot twice, and the count always equals the leads the ledger names. The roster never reads
# the ledger (ROSTER_FIELDS): routing needs only the count.
HOLDS = "holds"
# Clock values are floats computed by each router (start + 1/weight), or DynamoDB's exact decimal
# sums read back as floats: two readings of one turn may differ in the last bits. Turns are 1/weight
# apart, far more than this.
CLOCK_TOLERANCE = 1e-9
_WIRE = TypeDeserializer()
ROSTER_FIELDS = tuple(Rep.model_fields)


class RepRepository:
    def __init__(self, table: Any, clock: Callable[[], float] = time.monotonic):
        self._table = table
        self._clock = clock
        self._roster: dict[str, Rep] | None = None
        self._read_at = 0.0

    def _keep(self, rep: Rep | None, rep_id: str) -> None:
        """What a write or a fresh read says of one rep, into the roster held (if any)."""
        if self._roster is None:
            return
        if rep is None:
            self._roster.pop(rep_id, None)
        else:
            self._roster[rep_id] = rep

    def put(self, rep: Rep) -> None:
        with storage_errors():
            self._table.put_item(Item=to_item(rep))
        self._keep(rep, rep.rep_id)

    def get(self, rep_id: str) -> Rep | None:
        with storage_errors():
            item = self._table.get_item(Key={"rep_id": rep_id}, ConsistentRead=True).get("Item")
        rep = Rep.model_validate(from_item(item)) if item else None
        self._keep(rep, rep_id)
        return rep

    def list_all(self) -> list[Rep]:
        """Every rep, by id: one eventually consistent scan per ROSTER_SECONDS, kept in step
        with this function's own writes and fresh reads in between."""
        if self._roster is None or self._clock() - self._read_at >= ROSTER_SECONDS:
            items: list[dict[str, Any]] = []
            kwargs: dict[str, Any] = {
                "ProjectionExpression": ", ".join(f"#f{i}" for i in range(len(ROSTER_FIELDS))),
                "ExpressionAttributeNames": {f"#f{i}": name for i, name in enumerate(ROSTER_FIELDS)},
            }
            with storage_errors():
                while True:
                    page = self._table.scan(**kwargs)
                    items += page.get("Items", [])
                    if "LastEvaluatedKey" not in page:
                        break
                    kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            self._roster = {r.rep_id: r for r in (Rep.model_validate(from_item(i)) for i in items)}
            self._read_at = self._clock()
        return sorted(self._roster.values(), key=lambda r: r.rep_id)

    def claim(
        self,
        rep: Rep,
        lead_id: str,
        now: datetime,
        *,
        next_vtime: float | None = None,
        exact_turn: bool = True,
        over_capacity: bool = False,
    ) -> Rep:
        """Take one slot of the rep's capacity (and daily cap) in a single conditional write.

        On its exact turn the write also requires the rep's fairness clock to be what the
        router saw, so two routers working from the same snapshot cannot both count as
        "next": the loser gets ClaimConflict and re-plans. Off it (``exact_turn=False``, a
        router that lost the turn to another in a busy burst), the claim takes the rep as
        the clock stands and moves the clock one turn on from there, so every claim counts
        and the weighted shares hold however many routers land at once. A full or inactive
        rep gives CapacityExhausted; either way nobody goes over capacity, unless
        ``over_capacity`` (an owner keeping their own lead), which still counts the slot and
        needs an active rep. A lead the rep already holds (a step tried again) is not counted
        twice: the rep comes back as it is.
        """
        seen = rep
        for _ in range(2):
            try:
                # A throttled claim took nothing: tried again in the step, not by a new one that
                # would read and plan all over again.
                result = through_throttling(
                    partial(
                        self._claim,
                        seen,
                        lead_id,
                        now,
                        next_vtime,
                        exact_turn=exact_turn,
                        over_capacity=over_capacity,
                    )
                )
                break
            except ClaimConflict as conflict:
                item = _refused_item(conflict)
                as_found = _rep(item)
                if as_found is not None and lead_id in item.get(HOLDS, ()):
                    return as_found  # claimed by this lead's earlier try
                # What the refusal saw is as fresh as a consistent read: the router re-plans from
                # it without reading the rep again.
                self._keep(as_found, rep.rep_id)
                # Off its turn, a clock that passed the pool's meanwhile is the only refusal worth
                # a second try: from where it stands now, the claim counts on from it.
                if exact_turn or next_vtime is None or as_found is None or as_found.vtime == seen.vtime:
                    raise ClaimConflict(rep.rep_id, as_found=as_found, reported=True) from conflict.__cause__
                seen = as_found
        else:
            raise ClaimConflict(rep.rep_id, as_found=seen, reported=True)
        claimed = Rep.model_validate(from_item(result["Attributes"]))
        self._keep(claimed, rep.rep_id)
        return claimed

    def _claim(
        self,
        rep: Rep,
        lead_id: str,
        now: datetime,
        next_vtime: float | None,
        *,
        exact_turn: bool,
        over_capacity: bool,
    ) -> dict[str, Any]:
        """The claim's one conditional write, from the rep as the router saw it."""
        today = rep.today(now)
        names = {"#day": "day", "#holds": HOLDS}
        values: dict[str, Any] = {
            ":one": 1, ":zero": 0, ":true": True, ":now": iso(now), ":today": today,
            ":lead": lead_id, ":leads": {lead_id},
        }  # fmt: skip
        sets = [
            "open_count = open_count + :one",
            "assigned_total = if_not_exists(assigned_total, :zero) + :one",
            "last_assigned_at = :now",
        ]
        conditions = ["attribute_exists(rep_id)", "active = :true", "NOT contains(#holds, :lead)"]
        # The day the router saw: a claim across midnight re-plans rather than miscounting.
        if rep.day == today:
            sets.append("day_count = day_count + :one")
            conditions.append("#day = :today")
        else:
            sets += ["#day = :today", "day_count = :one"]
            conditions.append("(attribute_not_exists(#day) OR #day <> :today)")
        if not over_capacity:
            names["#capacity"] = "capacity"
            conditions.append("open_count < #capacity")
            conditions.append(
                "(attribute_not_exists(daily_cap) OR day_count < daily_cap)"
                if rep.day == today
                else "(attribute_not_exists(daily_cap) OR daily_cap > :zero)"
            )
        if next_vtime is not None:
            clock_set, clock_condition = _clock_move(rep, next_vtime, exact_turn, values)
            sets.append(clock_set)
            conditions.append(clock_condition)
        with storage_errors(lambda: ClaimConflict(rep.rep_id)):
            answer: dict[str, Any] = self._table.update_item(
                Key={"rep_id": rep.rep_id},
                UpdateExpression="SET " + ", ".join(sets) + " ADD #holds :leads",
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        return answer

    def update(self, rep_id: str, **fields: Any) -> Rep:
        """Change a rep's profile fields (status, capacity, weight, ...); None removes one."""
        sets = {k: v for k, v in fields.items() if v is not None}
        removes = [k for k, v in fields.items() if v is None]
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        by_name = {k: f"#f{i}" for i, k in enumerate(fields)}
        expression = ""
        if sets:
            expression += "SET " + ", ".join(f"{by_name[k]} = :v{i}" for i, k in enumerate(sets))
        if removes:
            expression += " REMOVE " + ", ".join(by_name[k] for k in removes)
        kwargs: dict[str, Any] = {
            "Key": {"rep_id": rep_id},
            "UpdateExpression": expression.strip(),
            "ConditionExpression": "attribute_exists(rep_id)",
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        if sets:
            kwargs["ExpressionAttributeValues"] = {f":v{i}": to_plain(v) for i, v in enumerate(sets.values())}
        with storage_errors(lambda: NotFound(f"no rep {rep_id}")):
            result = self._table.update_item(**kwargs)
        updated = Rep.model_validate(from_item(result["Attributes"]))
        self._keep(updated, rep_id)
        return updated

    def release(self, rep_id: str, lead_id: str) -> None:
        """Give back the slot ``lead_id`` holds. A lead that holds none (released already) changes
        nothing, so a release is never harmful and may be tried again. Throttled, it is tried
        again for a few seconds: a slot not given back stays counted against the rep."""
        self._roster = None  # the count changed under the roster held: read it afresh
        through_throttling(lambda: self._release(rep_id, lead_id))

    def _release(self, rep_id: str, lead_id: str) -> None:
        try:
            with storage_errors(lambda: CapacityExhausted(rep_id)):
                self._table.update_item(
                    Key={"rep_id": rep_id},
                    UpdateExpression="SET open_count = open_count - :one DELETE #holds :leads",
                    # A slot counted before the ledger existed has no lead in it: such a slot
                    # (the count above the ledger's size) is given back by any release.
                    ConditionExpression=(
                        "contains(#holds, :lead) OR (open_count > :zero AND "
                        "(attribute_not_exists(#holds) OR size(#holds) < open_count))"
                    ),
                    ExpressionAttributeNames={"#holds": HOLDS},
                    ExpressionAttributeValues={":one": 1, ":zero": 0, ":lead": lead_id, ":leads": {lead_id}},
                )
        except CapacityExhausted:
            return


def _clock_move(rep: Rep, next_vtime: float, exact_turn: bool, values: dict[str, Any]) -> tuple[str, str]:
    """How a claim moves the rep's fairness clock: (the SET clause, the condition), with the
    values they use added to ``values``.

    On the exact turn, to ``next_vtime`` from the clock the router saw, or not at all, recording
    the turn's start. Off it, one turn (1/weight) on from the clock as it stands: two routers
    taking the same rep at once move it two turns, so the rep's share counts both leads, and the
    pool's clock stays where the exact turns left it, so the other reps keep their place. A rep
    behind the pool's clock (back from leave) starts at the pool's clock, as on its turn: absence
    is not banked.
    """
    turn = 1 / rep.weight
    if exact_turn:
        # Where this turn started: the pool's clock is the latest such start (pool_clock).
        values[":vtime"], values[":vstart"] = Decimal(str(next_vtime)), Decimal(str(next_vtime - turn))
        if rep.vtime is None:
            return "vtime = :vtime, vstart = :vstart", "attribute_not_exists(vtime)"
        # The clock as read, within the tolerance: a clock moved on by DynamoDB's own sum has
        # more digits than the float the router read it as.
        values[":seen_low"] = Decimal(str(rep.vtime - CLOCK_TOLERANCE))
        values[":seen_high"] = Decimal(str(rep.vtime + CLOCK_TOLERANCE))
        return "vtime = :vtime, vstart = :vstart", "vtime BETWEEN :seen_low AND :seen_high"
    pool_start = next_vtime - turn
    if rep.vtime is not None and rep.vtime < pool_start - CLOCK_TOLERANCE:
        values[":vtime"], values[":start"] = Decimal(str(next_vtime)), Decimal(str(pool_start))
        return "vtime = :vtime", "(attribute_not_exists(vtime) OR vtime < :start)"
    # From the clock the router saw (the pool's, for a rep never served): the clock only moves
    # forward, so this holds unless the rep was reset meanwhile.
    values[":start"] = Decimal(str((pool_start if rep.vtime is None else rep.vtime) - CLOCK_TOLERANCE))
    values[":pool_start"], values[":turn"] = Decimal(str(pool_start)), Decimal(str(turn))
    return (
        "vtime = if_not_exists(vtime, :pool_start) + :turn",
        "(attribute_not_exists(vtime) OR vtime >= :start)",
    )


def _refused_item(conflict: ClaimConflict) -> dict[str, Any]:
    """The rep's item as a refused conditional write found it (asked for with
    ReturnValuesOnConditionCheckFailure, in the wire's typed form: an error answer is not
    deserialized by the resource layer); empty when no rep is there."""
    wire = getattr(conflict.__cause__, "response", {}).get("Item")
    return {name: _WIRE.deserialize(value) for name, value in wire.items()} if wire else {}


def _rep(item: dict[str, Any]) -> Rep | None:
    return Rep.model_validate(from_item(item)) if item else None
