"""Progress on stderr for long commands (history export, report and tune on large files).

One line, rewritten in place at most once every ``every`` seconds, so a count costs nothing
however many records go by. Silent when stderr is not a terminal (a pipe, a CI log or a cron
mail gets only the command's own output) and with --quiet.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TextIO

CLEAR_TO_END = "\x1b[K"


def shown(quiet: bool, stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return not quiet and callable(isatty) and bool(isatty())


class Progress:
    """A counter: ``progress(done, total)`` as records go by; ``total`` when it is known."""

    def __init__(
        self,
        label: str,
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        every: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = shown(quiet, self.stream)
        self.every = every
        self.clock = clock
        self._last: float | None = None
        self._drawn = False

    def __call__(self, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if self._last is not None and now - self._last < self.every and done != total:
            return
        self._last = now
        counted = f"{done:,} of {total:,} ({100 * done // total}%)" if total else f"{done:,}"
        self.stream.write(f"\r{self.label}: {counted}{CLEAR_TO_END}")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


@contextmanager
def ticking(
    label: str, *, quiet: bool = False, stream: TextIO | None = None, every: float = 1.0
) -> Iterator[None]:
    """For a step with nothing to count: the seconds it has taken so far, so a long one is
    plainly still working; then how long it took."""
    out = stream or sys.stderr
    if not shown(quiet, out):
        yield
        return
    started = time.monotonic()
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(every):
            out.write(f"\r{label}: {time.monotonic() - started:.0f} s{CLEAR_TO_END}")
            out.flush()

    out.write(f"{label}...")
    out.flush()
    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        out.write(f"\r{label}: done in {time.monotonic() - started:.1f} s{CLEAR_TO_END}\n")
        out.flush()
