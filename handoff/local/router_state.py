"""One request at a time per resolver, as each Lambda sandbox has it.

Lambda runs one invocation at a time in each execution environment, and Powertools' Event Handler
relies on it: ``resolve`` keeps the request it is resolving on a class attribute
(``BaseRouter.current_event``, with ``lambda_context``), which every route and middleware reads.
The local stack runs every handler in one process, on threads, so two webhook deliveries resolving
at once read each other's request: one contact's delivery was answered 202 with another contact's
lead id, and its own lead was never made (B10, 1,000 leads at 14/s, 2 runs in 5 on a slow machine).
Kept per thread here, each invocation sees its own request, as in its own sandbox.
"""

from __future__ import annotations

import threading
from typing import Any

PER_INVOCATION = ("current_event", "lambda_context")


class _PerThread:
    """A data descriptor whose value is the calling thread's own."""

    def __init__(self, name: str, state: threading.local) -> None:
        self._name, self._state = name, state

    def __get__(self, owner: Any, kind: type | None = None) -> Any:
        return getattr(self._state, self._name, None)

    def __set__(self, owner: Any, value: Any) -> None:
        setattr(self._state, self._name, value)


def install() -> None:
    """Keep the resolvers' request per thread, for reads and writes through the class
    (``BaseRouter.current_event = ...``, as ``resolve`` writes it) and through an instance
    (``app.current_event``, as routes read it). Once per process."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    if isinstance(vars(BaseRouter).get(PER_INVOCATION[0]), _PerThread):
        return  # installed already
    state = threading.local()
    fields = {name: _PerThread(name, state) for name in PER_INVOCATION}
    for name, field in fields.items():
        type.__setattr__(BaseRouter, name, field)  # found by an instance's lookup
    # A class attribute is set through its metaclass's data descriptor, when there is one.
    BaseRouter.__class__ = type("PerThreadRouterType", (type(BaseRouter),), dict(fields))  # type: ignore[method-assign]
