"""Python's cyclic garbage collector, set for a process that holds a whole local stack.

On AWS each function runs in its own small process. The local stack holds everything in one:
botocore's and moto's service models, pydantic's schemas, every table's items and every
execution's state, some 400,000 tracked objects before the first lead. With the default
thresholds the collector walks all of them in every full collection, which came every few
hundred DynamoDB writes under a burst; each took about half a second with every thread stopped.
A 1,000-lead burst spent a fifth of its CPU there.

While a stack runs, what existed when it started is frozen (never walked again: it lives as long
as the process), and collections come less often. Stopping the stack undoes both, so a process
that runs stacks one after another (the tests) collects their garbage as before.
"""

from __future__ import annotations

import gc
import threading

# Objects between young collections (default 700), young collections between middle ones and
# middle ones between full ones (default 10 each). Full collections then come every 8 million
# allocations or so, and walk only what the run made.
RUNNING_THRESHOLDS = (20_000, 20, 20)


class _Setting:
    """How many stacks run, and the thresholds to go back to when none does."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.before: tuple[int, int, int] = gc.get_threshold()


_setting = _Setting()


def stack_started() -> None:
    """Freeze what exists and collect less often (nested stacks share one setting)."""
    with _setting.lock:
        if _setting.running == 0:
            _setting.before = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(*RUNNING_THRESHOLDS)
        _setting.running += 1


def stack_stopped() -> None:
    """When the last stack stops: the thresholds as they were, and the frozen objects collectable."""
    with _setting.lock:
        if _setting.running == 0:
            return
        _setting.running -= 1
        if _setting.running == 0:
            gc.unfreeze()
            gc.set_threshold(*_setting.before)
