"""The local stack's Lambda concurrency: a freed slot goes to a later step before a Route."""

from __future__ import annotations

import threading
import time

from handoff.local.lambdas import FIRST_STEP, LATER_STEP, Slots


def _wait_for(condition: threading.Event, waiter: threading.Thread) -> None:
    assert condition.wait(5), f"{waiter.name} never got a slot"


def test_a_freed_slot_goes_to_the_waiting_later_step_first() -> None:
    slots = Slots(1)
    assert slots.acquire()
    order: list[str] = []
    got = {name: threading.Event() for name in ("route", "notify")}

    def take(name: str, rank: int) -> None:
        assert slots.acquire(rank, timeout=5)
        order.append(name)
        got[name].set()
        slots.release()

    route = threading.Thread(target=take, args=("route", FIRST_STEP), name="route")
    route.start()
    time.sleep(0.05)  # the Route waits first
    notify = threading.Thread(target=take, args=("notify", LATER_STEP), name="notify")
    notify.start()
    time.sleep(0.05)
    slots.release()
    _wait_for(got["notify"], notify)
    _wait_for(got["route"], route)
    route.join()
    notify.join()
    assert order == ["notify", "route"]


def test_no_slot_within_the_wait_is_refused_and_the_count_stays_whole() -> None:
    slots = Slots(2)
    assert slots.acquire() and slots.acquire()
    assert slots.acquire(FIRST_STEP, timeout=0.05) is False
    assert slots.acquire(LATER_STEP, timeout=0.05) is False
    slots.release()
    assert slots.acquire(FIRST_STEP, timeout=0.05)  # nobody later is waiting: a Route takes it
    assert slots.acquire(LATER_STEP, timeout=0.05) is False


def test_a_route_waits_while_a_later_step_waits_even_with_a_slot_about_to_free() -> None:
    slots = Slots(1)
    assert slots.acquire()
    notify_got = threading.Event()

    def notify() -> None:
        assert slots.acquire(LATER_STEP, timeout=5)
        notify_got.set()

    waiter = threading.Thread(target=notify, name="notify")
    waiter.start()
    time.sleep(0.05)
    slots.release()
    _wait_for(notify_got, waiter)
    waiter.join()
    assert slots.acquire(FIRST_STEP, timeout=0.05) is False  # the notify holds the one slot


def test_a_step_asleep_lends_its_slot_and_takes_it_back_at_once_when_woken() -> None:
    """A brief sleeping until its moment uses no CPU: its slot runs another step meanwhile, and
    woken, it goes on at once, over the limit if need be; a new step then waits for both."""
    from handoff.local import lambdas

    slots = Slots(1)
    asleep, woken, other_ran = threading.Event(), threading.Event(), threading.Event()

    def sleeping_step() -> None:
        assert slots.acquire(LATER_STEP, timeout=1)
        lambdas._holding.slots = slots
        try:
            asleep.set()
            lambdas.sleep_lending_the_slot(0.3)
            woken.set()
            assert other_ran.wait(5)
        finally:
            lambdas._holding.slots = None
            slots.release()

    step = threading.Thread(target=sleeping_step, name="brief")
    step.start()
    assert asleep.wait(5)
    assert slots.acquire(FIRST_STEP, timeout=0.2)  # the sleeper's slot, lent
    assert woken.wait(5)  # not held up by the step that took its slot
    assert slots.acquire(FIRST_STEP, timeout=0.05) is False  # both run: over the limit
    slots.release()
    other_ran.set()
    step.join()
    assert slots.acquire(FIRST_STEP, timeout=0.05)  # back to one free slot
    lambdas.sleep_lending_the_slot(0.01)  # a thread running no handler just sleeps


def test_steps_of_one_rank_get_slots_in_the_order_they_began_waiting() -> None:
    """In line: a Route that has waited longest is routed first (not one that arrived later)."""
    slots = Slots(1)
    assert slots.acquire()
    order: list[int] = []

    def take(n: int) -> None:
        assert slots.acquire(FIRST_STEP, timeout=5)
        order.append(n)
        slots.release()

    waiters = [threading.Thread(target=take, args=(n,), name=f"route-{n}") for n in range(5)]
    for waiter in waiters:
        waiter.start()
        time.sleep(0.02)  # each begins waiting after the one before
    slots.release()
    for waiter in waiters:
        waiter.join(5)
    assert order == [0, 1, 2, 3, 4]
