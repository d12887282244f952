"""Fault injection at the wire: a botocore hook answers chosen AWS calls with an error
before moto sees them, so the SDK's own retries (standard mode, backoff with jitter) and
then the workflow's retries are what the tests exercise."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from handoff.aws import container
from handoff.local.in_process import StreamedBody

# The code that makes a call go unanswered: botocore's read timeout, as a service too slow to answer.
NO_ANSWER = "ReadTimeout"


class Faults:
    """``inject(service, operation, code, status, times)``: the next ``times`` calls fail
    (``times=None``: until ``clear``); code NO_ANSWER times them out instead. ``injected``
    counts every failure served."""

    def __init__(self) -> None:
        self.injected: Counter[str] = Counter()
        self._plans: dict[tuple[str, str], list[Any]] = {}

    def _client(self, service: str) -> Any:
        return container._dynamodb().meta.client if service == "dynamodb" else container.client(service)

    def inject(
        self, service: str, operation: str, code: str, status: int = 400, times: int | None = 1
    ) -> None:
        key = (service, operation)
        if key not in self._plans:
            event = (
                f"before-send.{self._client(service).meta.service_model.service_id.hyphenize()}.{operation}"
            )
            self._client(service).meta.events.register_first(event, self._answer(key))
        self._plans[key] = [code, status, times]

    def clear(self) -> None:
        for plan in self._plans.values():
            plan[2] = 0

    def _answer(self, key: tuple[str, str]) -> Any:
        def answer(request: Any, **_: Any) -> AWSResponse | None:
            code, status, remaining = self._plans[key]
            if remaining == 0:
                return None  # let the call through to moto
            if remaining is not None:
                self._plans[key][2] = remaining - 1
            self.injected[f"{key[0]}.{key[1]} {code}"] += 1
            if code == NO_ANSWER:
                raise ReadTimeoutError(endpoint_url=request.url)
            # botocore calls every before-send handler; pointing the request elsewhere keeps moto
            # from also applying it, so the fault means "AWS refused", as a real throttle does.
            request.url = "https://injected-fault.invalid/"
            body = json.dumps({"__type": code, "message": f"injected {code}"}).encode()
            headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"}
            return AWSResponse(request.url, status, headers, StreamedBody(body))

        return answer
