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


def test_a_function_past_the_integration_timeout_gets_a_503_with_retry_after_and_runs_on(
    front: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, finished = threading.Event(), threading.Event()

    def slow(spec: Any, event: Any) -> dict[str, Any]:
        release.wait(10)
        finished.set()
        return {"statusCode": 200, "body": "{}"}

    monkeypatch.setattr(lambdas, "invoke", slow)
    monkeypatch.setattr(http_front, "INTEGRATION_TIMEOUT_SECONDS", 0.2)
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
