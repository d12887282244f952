"""Progress on stderr for long commands: on a terminal only, throttled, and never with --quiet."""

from __future__ import annotations

import io
import time

from handoff.cli.progress import Progress, ticking


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_count_with_its_share_at_most_every_interval() -> None:
    out, now = Terminal(), [0.0]
    with Progress("reading h.jsonl", stream=out, every=1.0, clock=lambda: now[0]) as progress:
        for done in range(1, 2001):
            now[0] = done // 1000  # a second a thousand lines
            progress(done, 2000)
    lines = out.getvalue().split("\r")[1:]
    assert [line.split("\x1b")[0] for line in lines] == [
        "reading h.jsonl: 1 of 2,000 (0%)",
        "reading h.jsonl: 1,000 of 2,000 (50%)",
        "reading h.jsonl: 2,000 of 2,000 (100%)",  # the end is always shown
    ]
    assert out.getvalue().endswith("\n")


def test_silent_off_a_terminal_and_when_quiet() -> None:
    for stream, quiet in ((io.StringIO(), False), (Terminal(), True)):
        with Progress("reading", stream=stream, quiet=quiet) as progress:
            progress(5, 10)
        with ticking("tuning", stream=stream, quiet=quiet, every=0.01):
            time.sleep(0.03)
        assert stream.getvalue() == ""


def test_a_step_without_a_count_shows_its_time() -> None:
    out = Terminal()
    with ticking("tuning on 9 leads", stream=out, every=0.01):
        time.sleep(0.05)
    assert out.getvalue().startswith("tuning on 9 leads...")
    assert "\rtuning on 9 leads: 0 s" in out.getvalue()
    assert out.getvalue().split("\r")[-1].startswith("tuning on 9 leads: done in 0.")
