"""The shared send schedule on DynamoDB, paced at the sending rate SES reports for the account.

One item (SCHEDULE_KEY) holds ``free_at``, the moment (epoch seconds) the next email may go out;
a second (SENDS_KEY) the same for the sends themselves, taken just before each call to SES.
Taking moments is one conditional write in the usual case: an idle schedule is restarted at now,
a busy one is moved on by the moments taken (DynamoDB applies writes to one item in turn, so no
two senders get the same moment). A sender that saw the schedule ahead of now moves it on first,
and one that saw it further ahead than it may wait writes nothing. 14 emails a second, SES's
production default, is far inside one item's 1,000 writes a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.parameters import BaseProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from handoff.aws.dynamo import storage_errors
from handoff.aws.throttling import through_throttling
from handoff.domain import pacing
from handoff.errors import StorageThrottled
from handoff.observability import logger

# The moments handed out ahead (a brief waits for its moment in the workflow), and the clock of the
# sends themselves, taken just before each call to SES.
SCHEDULE_KEY = "ses"
SENDS_KEY = "ses-sends"
# How long the account's sending rate is trusted before it is asked again: a raised quota is in
# use within five minutes, without a deploy.
RATE_MAX_AGE_SECONDS = 300
# Writes that lost a race to a sender that moved the schedule between this one's two writes.
CONTENDED_TRIES = 5


class SesSendingRate(BaseProvider):
    """SES's MaxSendRate for this account and Region (SES v2 GetAccount), cached as Powertools
    caches a parameter."""

    def __init__(self, client: Any) -> None:
        super().__init__(client=client)  # type: ignore[no-untyped-call]
        self._ses = client

    def _get(self, name: str, **sdk_options: Any) -> str:
        return str(self._ses.get_account()["SendQuota"]["MaxSendRate"])

    def _get_multiple(self, path: str, **sdk_options: Any) -> dict[str, str]:
        raise NotImplementedError("SES has one sending rate")

    def rate(self) -> float | None:
        """Emails a second; None when SES cannot say (then email is not paced, and a throttled
        send is retried with jitter, as the workflow does for every throttle)."""
        try:
            value = float(str(self.get("MaxSendRate", max_age=RATE_MAX_AGE_SECONDS)))
        except (GetParameterError, ValueError) as exc:
            logger.warning("SES sending rate unknown: email not paced", extra={"error": str(exc)[:200]})
            return None
        return value if value > 0 else None


def _number(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


class SendSchedule:
    """handoff.service.ports.SendSchedule: ``rate`` is the account's emails a second, ``share``
    the part of it Handoff may use (config: email.send_rate_share)."""

    def __init__(self, table: Any, rate: Callable[[], float | None], share: Callable[[], float]) -> None:
        self._table = table
        self._rate = rate
        self._share = share
        # By key: the schedule's free moment as this sender last wrote or read it. It only ever
        # moves on (a restart is at a later now), so it is a floor: past it, the schedule is busy.
        self._seen_free_at: dict[str, float] = {}

    def take(self, now: float, emails: int = 1, within: float | None = None) -> pacing.Slots | None:
        return self._take(SCHEDULE_KEY, now, emails, within)

    def turn(self, at: float, within: float | None = pacing.WAIT_IN_STEP_SECONDS) -> pacing.Turn:
        taken = self._take(SENDS_KEY, at, 1, within)
        if taken is not None:
            return pacing.Turn(taken.moments[0])
        # The sends' clock is further ahead than a step waits: when it is next free.
        return pacing.Turn(self._free_at(SENDS_KEY), taken=False)

    def _take(self, key: str, now: float, emails: int, within: float | None) -> pacing.Slots | None:
        # The schedule keeps SES's time, the wall clock's: a step's ``now`` is when it began, and
        # moments taken from a step slowed by a throttle would lie in the past and crowd SES.
        now = max(now, time.time())
        rate = self._rate()
        if rate is None:
            return pacing.unpaced(now, emails)
        spacing = pacing.gap(rate, self._share())
        for _ in range(CONTENDED_TRIES):
            try:
                return through_throttling(lambda: self._take_once(key, now, spacing, emails, within))
            except _ConditionFailed:
                continue  # another sender moved the schedule between this one's two writes
        raise StorageThrottled("the send schedule is contended")

    def _take_once(
        self, key: str, now: float, spacing: float, emails: int, within: float | None
    ) -> pacing.Slots | None:
        """The moments taken (None when the schedule is too far ahead); _ConditionFailed when
        another sender moved it between the two writes.

        An idle schedule is restarted at now, a busy one moved on: each write holds only in its
        own case. One this sender knows to be busy is moved on first, so a burst takes its
        moments in one write each, not two (a write that does not hold is billed too); one it
        knows to be further ahead than ``within`` is not written at all (neither would hold)."""
        seen = self._seen_free_at.get(key, 0.0)
        if within is not None and seen > now + within:
            return None
        writes = (self._restart, self._move_on)
        if seen > now:
            writes = (self._move_on, self._restart)
        for write in writes:
            taken = write(key, now, spacing, emails, within)
            if taken is not None:
                self._saw(key, taken.free_at)
                return taken
        if within is not None and self._free_at(key) > now + within:
            return None
        raise _ConditionFailed

    def _restart(
        self, key: str, now: float, spacing: float, emails: int, within: float | None
    ) -> pacing.Slots | None:
        """An idle schedule's moments from now; None if it is busy."""
        idle = pacing.take(None, now, spacing, emails, within)
        assert idle is not None  # noqa: S101 - an unused schedule is never ahead
        try:
            self._write(
                key,
                "SET free_at = :free",
                "attribute_not_exists(free_at) OR free_at <= :now",
                {":free": _number(idle.free_at), ":now": _number(now)},
            )
        except _ConditionFailed:
            return None
        return idle

    def _move_on(
        self, key: str, now: float, spacing: float, emails: int, within: float | None
    ) -> pacing.Slots | None:
        """A busy schedule moved on by this sender's moments, unless that reaches past
        ``within``; None if it is idle or that far ahead."""
        span = spacing * emails
        condition = "free_at > :now" + ("" if within is None else " AND free_at <= :latest")
        values = {":span": _number(span), ":now": _number(now)}
        if within is not None:
            values[":latest"] = _number(now + within)
        try:
            moved = self._write(key, "SET free_at = free_at + :span", condition, values, returning=True)
        except _ConditionFailed:
            return None
        return pacing.take(float(moved) - span, now, spacing, emails, within=None)

    def _write(
        self, key: str, update: str, condition: str, values: dict[str, Any], *, returning: bool = False
    ) -> Any:
        """The new free_at when ``returning``; _ConditionFailed when the condition did not hold."""
        with storage_errors(on_conditional=_ConditionFailed):
            answer = self._table.update_item(
                Key={"schedule": key},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_NEW" if returning else "NONE",
            )
        return answer["Attributes"]["free_at"] if returning else None

    def _free_at(self, key: str) -> float:
        with storage_errors():
            item = self._table.get_item(Key={"schedule": key}, ConsistentRead=True).get("Item")
        free_at = float(item["free_at"]) if item else 0.0
        self._saw(key, free_at)
        return free_at

    def _saw(self, key: str, free_at: float) -> None:
        """Raise the floor kept for ``key``; never lower it (senders sharing this instance may
        report what they saw out of order)."""
        self._seen_free_at[key] = max(free_at, self._seen_free_at.get(key, 0.0))


class _ConditionFailed(Exception):
    """The schedule was not as the write expected: another sender moved it first."""
