"""Each local invocation resolves its own request (handoff.local.router_state), as each Lambda
sandbox does, though the local stack runs a function's handlers side by side on threads."""

from __future__ import annotations

import json
import threading
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from handoff.local import router_state


def _event(n: int) -> dict[str, Any]:
    return {
        "httpMethod": "POST",
        "path": "/deliveries",
        "resource": "/deliveries",
        "body": json.dumps({"n": n}),
        "headers": {},
        "requestContext": {},
    }


def _side_by_side() -> dict[int, dict[str, int]]:
    """Two deliveries resolved at once by one app: each route reads its request, waits until the
    other has begun resolving, and reads it again."""
    app = APIGatewayRestResolver()
    both_inside = threading.Barrier(2)

    @app.post("/deliveries")
    def deliver() -> dict[str, int]:
        first = app.current_event.json_body["n"]
        both_inside.wait(5)
        both_inside.wait(5)  # both have read once; now each reads again
        return {"first": first, "then": app.current_event.json_body["n"]}

    answers: dict[int, dict[str, int]] = {}

    def resolve(n: int) -> None:
        answers[n] = json.loads(app.resolve(_event(n), None)["body"])  # type: ignore[arg-type]

    threads = [threading.Thread(target=resolve, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return answers


def test_deliveries_resolved_at_once_each_read_their_own_request() -> None:
    router_state.install()
    router_state.install()  # twice is once

    answers = _side_by_side()

    assert answers == {1: {"first": 1, "then": 1}, 2: {"first": 2, "then": 2}}


def test_one_delivery_still_reads_its_request_through_the_class_and_the_app() -> None:
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    router_state.install()
    app = APIGatewayRestResolver()
    seen: dict[str, Any] = {}

    @app.post("/deliveries")
    def deliver() -> dict[str, int]:
        seen["class"] = BaseRouter.current_event.json_body["n"]
        seen["context"] = BaseRouter.lambda_context
        return {"n": app.current_event.json_body["n"]}

    answer = app.resolve(_event(7), "the context")  # type: ignore[arg-type]

    assert json.loads(answer["body"]) == {"n": 7}
    assert seen == {"class": 7, "context": "the context"}
