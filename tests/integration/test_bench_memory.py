"""B2 (bench/memory.py) measures each function in a fresh interpreter, with the settings the
local stack sets for it: a function that needs a setting B2 did not set failed its cold start,
and `make bench` stopped there."""

from __future__ import annotations

from bench import memory


def test_b2_measures_the_functions_that_need_the_most_settings() -> None:
    for key in ("sla_check", "disposition"):  # the send schedule, the sender, the write-back queue
        figures = memory._measure(key, 1)
        init_mb, warm_mb = figures["init_mb"], figures["warm_mb"]
        assert init_mb is not None and warm_mb is not None
        assert 0 < init_mb <= warm_mb
