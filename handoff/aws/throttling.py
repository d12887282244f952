"""A request AWS refused on a rate or a quota (StorageThrottled) was not applied, so trying it
again does it once. Past the SDK's own tries, the adapters try for about 4 s more in the step:
the write that records an email already sent, the release of a slot, the start of a workflow
must land, or a retried step would send twice, keep a slot, or wait minutes for sla_check.
Routing's contact lookup and its capacity claim are tried so too: a Route step that failed on
them was started again by the workflow, to read and plan all over again (in a burst under
DynamoDB throttling, half the leads' Route ran twice)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from handoff.errors import StorageThrottled

T = TypeVar("T")

THROTTLED_PAUSES = (0.25, 0.5, 1.0, 2.0)


def tried_again(
    call: Callable[[], T], *, on: type[Exception] | tuple[type[Exception], ...], pauses: tuple[float, ...]
) -> T:
    """``call()``, tried again after each pause (jittered) while it raises ``on``."""
    for pause in pauses:
        try:
            return call()
        except on:
            time.sleep(pause * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not a secret
    return call()


def through_throttling(call: Callable[[], T]) -> T:
    """``call()``, tried again after each pause (jittered) while it raises StorageThrottled."""
    return tried_again(call, on=StorageThrottled, pauses=THROTTLED_PAUSES)
