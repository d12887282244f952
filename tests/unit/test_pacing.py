"""The account's email pace: the pure schedule, and the shared schedule on DynamoDB."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handoff.aws.pacing import SendSchedule, SesSendingRate
from handoff.aws.tables import SEND_SCHEDULE
from handoff.domain import pacing
from handoff.local import emulator
from handoff.local.provision import create_table

# A moment ahead of the wall clock, which the schedule never goes behind.
SOON = time.time() + 3600


def test_an_idle_schedule_sends_at_once_and_a_busy_one_queues_one_gap_apart() -> None:
    first = pacing.take(None, 100.0, 0.5, 2, within=None)
    assert first == pacing.Slots(moments=(100.0, 100.5), free_at=101.0)
    queued = pacing.take(first.free_at, 100.2, 0.5, 1, within=None)
    assert queued == pacing.Slots(moments=(101.0,), free_at=101.5, starts_in=pytest.approx(0.8))
    # A schedule left behind by time restarts at now, not in the past.
    assert pacing.take(50.0, 100.0, 0.5, 1, within=None) == pacing.Slots(moments=(100.0,), free_at=100.5)


def test_a_sender_with_a_limit_takes_nothing_from_a_schedule_further_ahead() -> None:
    assert pacing.take(105.0, 100.0, 1.0, 1, within=1.0) is None
    assert pacing.take(101.0, 100.0, 1.0, 1, within=1.0) == pacing.Slots(
        moments=(101.0,), free_at=102.0, starts_in=1.0
    )


def test_a_handed_back_brief_is_woken_seconds_before_its_moment_in_whole_seconds() -> None:
    """Early enough to take its turn before the moment, through a throttling burst."""
    assert pacing.workflow_wait(5.5) == 1
    assert pacing.workflow_wait(10.0) == 2
    assert pacing.workflow_wait(14.0) == 6
    assert pacing.workflow_wait(1000.7) == 992
    # The longest it then sleeps in the step is what the mailer waits for.
    assert pacing.LONGEST_SLEEP_SECONDS == pacing.WAKE_EARLY_SECONDS + 1 + pacing.WAIT_IN_STEP_SECONDS


def test_the_gap_is_the_share_of_the_account_s_rate() -> None:
    assert pacing.gap(14.0, 1.0) == pytest.approx(1.02 / 14)  # with a margin for jitter
    assert pacing.gap(1.0, 0.5) == pytest.approx(2.04)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    emulator.install()  # atomic DynamoDB requests, and SES's GetAccount
    with mock_aws():
        dynamodb = boto3.resource("dynamodb")
        create_table(dynamodb.meta.client, SEND_SCHEDULE, "schedule")
        yield dynamodb.Table("schedule")


def test_senders_at_once_get_distinct_moments_one_gap_apart(table: Any) -> None:
    """DynamoDB applies writes to the schedule's item in turn: twenty senders at the same moment
    each get their own, and together they fill the schedule without a gap or an overlap."""
    schedule = SendSchedule(table, rate=lambda: 10.2, share=lambda: 1.0)  # one every 0.1 s
    with ThreadPoolExecutor(max_workers=20) as pool:
        taken = list(pool.map(lambda _: schedule.take(SOON), range(20)))
    moments = sorted(m for t in taken for m in (t.moments if t else ()))
    assert moments == pytest.approx([SOON + n / 10 for n in range(20)], abs=0.002)
    assert float(table.get_item(Key={"schedule": "ses"})["Item"]["free_at"]) == pytest.approx(SOON + 2.0)


def test_a_limited_sender_takes_nothing_and_an_unlimited_one_queues_behind(table: Any) -> None:
    schedule = SendSchedule(table, rate=lambda: 1.02, share=lambda: 1.0)  # one every second

    def moments(*args: Any, **kwargs: Any) -> tuple[float, ...] | None:
        taken = schedule.take(*args, **kwargs)
        return taken.moments if taken else None

    assert moments(SOON, emails=3) == pytest.approx((SOON, SOON + 1, SOON + 2))
    assert moments(SOON + 0.5, within=1.0) is None  # the next free moment is 2.5 s off
    assert moments(SOON + 0.5) == pytest.approx((SOON + 3,))
    assert moments(SOON + 3.5, within=1.0) == pytest.approx((SOON + 4,))
    # Long after, the schedule restarts at now.
    assert moments(SOON + 1000, within=1.0) == pytest.approx((SOON + 1000,))


def test_a_sender_that_saw_the_schedule_ahead_moves_it_on_in_one_write(table: Any) -> None:
    """The schedule's free moment only moves on, so a sender that saw it ahead of now knows it busy:
    in a burst each take is one write, not a restart refused and then a move (both billed)."""
    writes: list[str] = []
    table.meta.client.meta.events.register(
        "before-parameter-build.dynamodb.UpdateItem",
        lambda params, **_: writes.append(params["UpdateExpression"]),
    )
    schedule = SendSchedule(table, rate=lambda: 10.2, share=lambda: 1.0)  # one every 0.1 s
    for n in range(6):  # six in a row: the first restarts it, then it is busy
        assert schedule.take(SOON).moments == pytest.approx((SOON + n / 10,), abs=0.002)  # type: ignore[union-attr]
    assert writes == ["SET free_at = :free", *(["SET free_at = free_at + :span"] * 5)]
    writes.clear()
    for n in range(3):  # a quiet day: each long after the last
        assert schedule.take(SOON + 100 * (n + 1)).moments == pytest.approx((SOON + 100 * (n + 1),))  # type: ignore[union-attr]
    assert writes == ["SET free_at = :free"] * 3


def test_a_sender_that_saw_the_schedule_out_of_reach_takes_nothing_without_a_write(table: Any) -> None:
    """A floor already past the limit: neither write could hold, so neither is made (in a burst
    the sends' clock runs seconds ahead, and each turn asked of it cost two refused writes)."""
    writes: list[str] = []
    table.meta.client.meta.events.register(
        "before-parameter-build.dynamodb.UpdateItem",
        lambda params, **_: writes.append(params["UpdateExpression"]),
    )
    schedule = SendSchedule(table, rate=lambda: 1.02, share=lambda: 1.0)  # one every second
    assert schedule.take(SOON, emails=10) is not None  # free again at SOON + 10
    assert len(writes) == 1
    assert schedule.take(SOON + 1, within=5.0) is None
    assert schedule.take(SOON + 4, within=5.0) is None
    assert len(writes) == 1
    other = SendSchedule(table, rate=lambda: 1.02, share=lambda: 1.0)  # a sender that saw nothing
    assert other.take(SOON + 1, within=5.0) is None
    assert len(writes) == 3  # it found out by trying both writes
    assert schedule.take(SOON + 6, within=5.0).moments == pytest.approx((SOON + 10,))  # type: ignore[union-attr]


def test_a_step_s_stale_now_takes_moments_from_the_wall_clock_not_the_past(table: Any) -> None:
    """A step slowed by a throttle began seconds ago: its moments start at the wall clock, so they
    cannot fall behind the sends SES has already seen."""
    schedule = SendSchedule(table, rate=lambda: 1.0, share=lambda: 1.0)
    before = time.time()
    taken = schedule.take(before - 30)
    assert taken is not None and taken.moments[0] >= before and taken.starts_in == pytest.approx(0.0, abs=0.5)


def test_without_a_rate_email_is_not_paced_and_nothing_is_written(table: Any) -> None:
    schedule = SendSchedule(table, rate=lambda: None, share=lambda: 1.0)
    taken = schedule.take(SOON, emails=2)
    assert taken is not None and taken.moments == (SOON, SOON)
    assert "Item" not in table.get_item(Key={"schedule": "ses"})


def test_the_rate_is_what_ses_reports_and_none_when_ses_cannot_say(table: Any) -> None:
    assert SesSendingRate(boto3.client("sesv2")).rate() == emulator.LOCAL_SES_RATE

    class Refused:
        def get_account(self) -> dict[str, Any]:
            raise RuntimeError("AccessDenied")

    assert SesSendingRate(Refused()).rate() is None


@pytest.mark.parametrize(
    ("ahead", "slept"), [(0.4, 0.4), (1.9, 1.9), (9.5, 9.5), (-3.0, None), (120.0, None)]
)
def test_the_mailer_waits_for_a_moment_due_soon_and_never_for_one_out_of_reach(
    monkeypatch: pytest.MonkeyPatch, ahead: float, slept: float | None
) -> None:
    """A moment within the step's wait is kept to the clock; one past, or one no step should wait
    for (clocks that disagree), is sent at once."""
    from handoff.aws import mailer
    from handoff.email.render import RenderedEmail
    from handoff.email.send import Envelope

    sleeps: list[float] = []
    monkeypatch.setattr(mailer.time, "time", lambda: 5000.0)
    monkeypatch.setattr(mailer.time, "sleep", sleeps.append)

    class Ses:
        def send_email(self, **_: Any) -> dict[str, str]:
            return {"MessageId": "m1"}

    email = RenderedEmail(subject="s", text="t", html="<p>t</p>")
    envelope = Envelope(sender="handoff@example.com", to="r1@example.com")
    assert mailer.SesMailer(Ses()).send(email, envelope, at=5000.0 + ahead) == "m1"
    assert sleeps == ([] if slept is None else [pytest.approx(slept)])


def test_a_send_late_to_its_moment_takes_its_turn_behind_the_send_before_it(table: Any) -> None:
    """Moments are handed out ahead; the sends take their turns just before each call. One that
    comes late to its moment does not land on the heels of the send before it: the next turn is
    a gap after the last, and the schedule of moments is not moved by it."""
    schedule = SendSchedule(table, rate=lambda: 1.02, share=lambda: 1.0)  # one every second
    first, second = (
        (schedule.take(SOON) or pytest.fail()).moments,
        (schedule.take(SOON) or pytest.fail()).moments,
    )
    assert second[0] == pytest.approx(first[0] + 1)
    late = first[0] + 0.6  # the first step came 0.6 s late to its moment
    assert schedule.turn(late).at == pytest.approx(late)
    assert schedule.turn(second[0]).at == pytest.approx(late + 1)  # a second behind, not 0.4 s
    assert schedule.turn(second[0] + 5).at == pytest.approx(second[0] + 5)  # long after: at once
    # A turn further off than a step waits is not taken: it says when the clock is next free.
    crowded = SendSchedule(table, rate=lambda: 0.102, share=lambda: 1.0)  # one every 10 s
    assert crowded.turn(SOON + 100) == pacing.Turn(pytest.approx(SOON + 100))
    assert crowded.turn(SOON + 101) == pacing.Turn(pytest.approx(SOON + 110), taken=False)
    assert crowded.turn(SOON + 110) == pacing.Turn(pytest.approx(SOON + 110))  # nothing was held
    # Without a limit, a turn however far off is taken (a brief then waits for it, holding it).
    assert crowded.turn(SOON + 111, within=None) == pacing.Turn(pytest.approx(SOON + 120))
    assert crowded.turn(SOON + 112, within=None) == pacing.Turn(pytest.approx(SOON + 130))


def test_the_mailer_tries_an_outage_again_but_hands_a_throttle_back_within_its_gap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A paced send's throttle is tried again only within its own gap (a tenth of a second), then
    goes back to the caller, who tries at its next turn on the schedule (a random retry would take
    the next send's turn); a 5xx, or a throttle of a send off the schedule, is tried again here; a
    rejection is final."""
    from botocore.exceptions import ClientError

    from handoff.aws import mailer
    from handoff.email.render import RenderedEmail
    from handoff.email.send import EmailRejected, EmailThrottled, Envelope

    monkeypatch.setattr(mailer.time, "sleep", lambda _: None)

    def error(code: str, status: int) -> ClientError:
        return ClientError(
            {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "SendEmail"
        )

    class Ses:
        def __init__(self, *answers: Any) -> None:
            self.answers, self.calls = list(answers), 0

        def send_email(self, **_: Any) -> dict[str, str]:
            self.calls += 1
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return {"MessageId": answer}

    email = RenderedEmail(subject="s", text="t", html="<p>t</p>")
    envelope = Envelope(sender="handoff@example.com", to="r1@example.com")
    outage = Ses(error("InternalFailure", 500), "m1")
    assert mailer.SesMailer(outage).send(email, envelope) == "m1" and outage.calls == 2
    # A paced send SES refuses is tried again twice within its gap, then handed back.
    throttled = Ses(*[error("TooManyRequestsException", 429)] * 3, "m2")
    with pytest.raises(EmailThrottled):
        mailer.SesMailer(throttled).send(email, envelope, at=0.0)
    assert throttled.calls == 3
    short = Ses(error("TooManyRequestsException", 429), "m5")  # the bucket short by a moment
    assert mailer.SesMailer(short).send(email, envelope, at=0.0) == "m5" and short.calls == 2
    # A send off the schedule (tuning's monthly report) has no next turn: it is tried again here.
    unpaced = Ses(error("TooManyRequestsException", 429), "m4")
    assert mailer.SesMailer(unpaced).send(email, envelope) == "m4" and unpaced.calls == 2
    rejected = Ses(error("MessageRejected", 400), "m3")
    with pytest.raises(EmailRejected):
        mailer.SesMailer(rejected).send(email, envelope)
    assert rejected.calls == 1
