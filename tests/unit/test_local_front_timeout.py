"""The local API front keeps API Gateway's integration timeout: a function that has not answered
in 29 s gets the sender a 503 with Retry-After (Handoff's INTEGRATION_TIMEOUT response), and the
function itself runs on to its end, as a Lambda does after its caller stops waiting."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from handoff.deploy.gateway import GATEWAY_RESPONSES
from handoff.local import http_front, lambdas


@pytest.fixture
def front() -> Iterator[str]:
    server = http_front.HttpFront("127.0.0.1", 0)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def slow_function(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Every function answers only once ``release`` is set (then sets ``finished``), and the
    integration timeout is 0.2 s."""
    release, finished = threading.Event(), threading.Event()

    def slow(spec: Any, event: Any) -> dict[str, Any]:
        release.wait(10)
        finished.set()
        return {"statusCode": 200, "body": "{}"}

    monkeypatch.setattr(lambdas, "invoke", slow)
    monkeypatch.setattr(http_front, "INTEGRATION_TIMEOUT_SECONDS", 0.2)
    return release, finished


def test_a_function_past_the_integration_timeout_gets_a_503_with_retry_after_and_runs_on(
    front: str, slow_function: tuple[threading.Event, threading.Event]
) -> None:
    release, finished = slow_function
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(front + "/health", timeout=5)  # noqa: S310 - loopback
    answer = refused.value
    expected = GATEWAY_RESPONSES["INTEGRATION_TIMEOUT"]
    assert answer.code == 503 == expected.status
    assert answer.headers["Retry-After"] == str(expected.retry_after)
    assert answer.headers["x-amzn-ErrorType"] == "INTEGRATION_TIMEOUT"
    body = json.loads(answer.read())
    assert body["error"] == "unavailable" and "retry" in body["message"]
    assert not finished.is_set()  # answered while the function was still running
    release.set()
    assert finished.wait(5)


def test_a_function_within_the_timeout_answers_as_before(front: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambdas, "invoke", lambda spec, event: {"statusCode": 200, "body": '{"ok": true}'})
    with urllib.request.urlopen(front + "/health", timeout=5) as answer:  # noqa: S310 - loopback
        assert answer.status == 200 and json.loads(answer.read()) == {"ok": True}


def test_a_crashing_function_is_still_a_502(front: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(spec: Any, event: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(lambdas, "invoke", crash)
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(front + "/health", timeout=5)  # noqa: S310 - loopback
    assert failed.value.code == 502


@pytest.fixture
def one_slot(monkeypatch: pytest.MonkeyPatch) -> lambdas.Slots:
    """The local front door's slots, cut to one."""
    slots = lambdas.Slots(1)
    monkeypatch.setattr(lambdas, "_front_door", slots)
    return slots


def test_a_delivery_that_finds_no_free_slot_gets_integration_failure_and_nothing_runs(
    front: str, one_slot: lambdas.Slots, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every slot taken for longer than the front waits: the sender gets the 503 a throttled
    function gets through API Gateway (INTEGRATION_FAILURE, with Retry-After), and no handler ran."""
    ran: list[Any] = []
    monkeypatch.setattr(lambdas, "invoke", lambda spec, event: ran.append(event))
    monkeypatch.setattr(lambdas, "FRONT_DOOR_WAIT_SECONDS", 0.2)
    assert one_slot.acquire()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(front + "/health", timeout=5)  # noqa: S310 - loopback
    expected = GATEWAY_RESPONSES["INTEGRATION_FAILURE"]
    assert refused.value.code == 503 == expected.status
    assert refused.value.headers["x-amzn-ErrorType"] == "INTEGRATION_FAILURE"
    assert refused.value.headers["Retry-After"] == str(expected.retry_after)
    assert ran == []


def test_a_delivery_holds_a_slot_while_its_function_runs_even_past_the_timeout(
    front: str, one_slot: lambdas.Slots, slow_function: tuple[threading.Event, threading.Event]
) -> None:
    """The function takes a slot like any workflow step, and keeps it until it ends, not until
    the front stops waiting for it."""
    release, finished = slow_function
    with pytest.raises(urllib.error.HTTPError) as late:
        urllib.request.urlopen(front + "/health", timeout=5)  # noqa: S310 - loopback
    assert late.value.code == 503
    assert not one_slot.acquire(lambdas.LATER_STEP, timeout=0.05)  # the function still holds it
    release.set()
    assert finished.wait(5)
    assert one_slot.acquire(lambdas.LATER_STEP, timeout=5)  # freed when the function ended


def test_the_wait_for_a_slot_does_not_count_against_the_integration_timeout(
    front: str, one_slot: lambdas.Slots, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On AWS a delivery's function starts at once; the local slots only share this process's
    CPU, so time spent waiting for one is not the function's time."""
    monkeypatch.setattr(lambdas, "invoke", lambda spec, event: {"statusCode": 200, "body": '{"ok": true}'})
    monkeypatch.setattr(http_front, "INTEGRATION_TIMEOUT_SECONDS", 0.3)
    assert one_slot.acquire()
    answers: list[int] = []

    def deliver() -> None:
        with urllib.request.urlopen(front + "/health", timeout=5) as answer:  # noqa: S310 - loopback
            answers.append(answer.status)

    sender = threading.Thread(target=deliver)
    sender.start()
    threading.Event().wait(0.6)  # twice the timeout, waiting for the slot
    assert answers == []
    one_slot.release()
    sender.join(5)
    assert answers == [200]


def test_a_delivery_keeps_its_slot_while_it_sleeps(
    front: str, one_slot: lambdas.Slots, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delivery sleeps only to back off from a throttled write; lending its slot then would let
    every waiting delivery in to meet the same throttle."""
    asleep = threading.Event()

    def backing_off(spec: Any, event: Any) -> dict[str, Any]:
        asleep.set()
        lambdas.sleep_lending_the_slot(0.5)  # what time.sleep is in the local stack
        return {"statusCode": 200, "body": "{}"}

    monkeypatch.setattr(lambdas, "invoke", backing_off)
    sender = threading.Thread(target=lambda: urllib.request.urlopen(front + "/health", timeout=5))  # noqa: S310
    sender.start()
    assert asleep.wait(5)
    assert not one_slot.acquire(lambdas.LATER_STEP, timeout=0.2)  # still the delivery's, asleep
    sender.join(5)
    assert one_slot.acquire(lambdas.LATER_STEP, timeout=5)
