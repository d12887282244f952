"""The local stack's collector setting (handoff.local.collector): what existed at start is left
alone while a stack runs, garbage made meanwhile is still collected, and stopping undoes it all."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from handoff.local import collector


class Node:
    """A reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def _cycle() -> weakref.ref[Node]:
    return weakref.ref(Node())


@pytest.fixture(autouse=True)
def as_before() -> Iterator[None]:
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    yield
    while collector._setting.running:
        collector.stack_stopped()
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen


def test_a_running_stack_leaves_what_existed_alone_and_collects_less_often() -> None:
    before = gc.get_threshold()
    old = _cycle()
    collector.stack_started()
    assert gc.get_threshold() == collector.RUNNING_THRESHOLDS != before
    assert gc.get_freeze_count() > 0
    gc.collect()
    assert old() is not None  # frozen: a full collection does not walk it
    collector.stack_stopped()
    assert gc.get_threshold() == before
    gc.collect()
    assert old() is None  # unfrozen at stop, and collected as before


def test_garbage_made_while_a_stack_runs_is_still_collected() -> None:
    collector.stack_started()
    new = _cycle()
    gc.collect()
    assert new() is None


def test_the_setting_lasts_until_the_last_of_nested_stacks_stops() -> None:
    before = gc.get_threshold()
    collector.stack_started()
    collector.stack_started()
    collector.stack_stopped()
    assert gc.get_threshold() == collector.RUNNING_THRESHOLDS
    assert gc.get_freeze_count() > 0
    collector.stack_stopped()
    assert gc.get_threshold() == before


def test_a_stop_without_a_start_changes_nothing() -> None:
    before = gc.get_threshold(), gc.get_freeze_count()
    collector.stack_stopped()
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
