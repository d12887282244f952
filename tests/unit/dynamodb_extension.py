"""An extension for the DynamoDB process under test (tests/unit/test_dynamodb_process.py): it
counts the requests moto's DynamoDB handler runs, as the benchmark's write capture does."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from typing import Any


def count_actions() -> Callable[[], dict[str, int]]:
    from moto.dynamodb.responses import DynamoHandler

    counted: Counter[str] = Counter()
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        counted[self._get_action()] += 1
        return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    return lambda: dict(counted)


def fail_to_start() -> Callable[[], dict[str, int]]:
    raise RuntimeError("this extension refuses to start")


def say_ready() -> Callable[[], str]:
    return lambda: "ready"
