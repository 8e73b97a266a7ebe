"""The executor seam: where a ready unit runs, and how its end reaches the scheduler."""

from __future__ import annotations

import queue
import threading

import pytest

from ordo.events import UnitFailed
from ordo.runner.executors import Finished, InlineExecutor, ThreadExecutor, executor_for
from ordo.runner.unit import abortable_wait


def test_inline_runs_on_the_calling_thread_and_raises_there() -> None:
    done: Finished = queue.Queue()
    seen: list[threading.Thread] = []

    def work() -> UnitFailed | None:
        seen.append(threading.current_thread())
        return None

    InlineExecutor().submit(0, work, done)
    assert seen == [threading.current_thread()]
    assert done.get_nowait() == (0, None)

    def interrupted() -> UnitFailed | None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        InlineExecutor().submit(1, interrupted, done)
    assert done.empty()


def test_threads_report_what_ended_the_unit_on_the_queue() -> None:
    done: Finished = queue.Queue()
    failure = UnitFailed("run", ("a",), "a", 1, "boom")
    bug = AttributeError("a bug")

    def fails() -> UnitFailed | None:
        return failure

    def breaks() -> UnitFailed | None:
        raise bug

    executor = ThreadExecutor()
    executor.submit(0, fails, done)
    executor.submit(1, breaks, done)
    ended = dict(done.get(timeout=10) for _ in range(2))
    assert ended == {0: failure, 1: bug}


def test_one_unit_at_a_time_runs_inline() -> None:
    assert isinstance(executor_for(1), InlineExecutor)
    assert isinstance(executor_for(4), ThreadExecutor)


def test_the_default_wait_ends_when_the_run_is_aborted() -> None:
    abort = threading.Event()
    abort.set()
    abortable_wait(3600, abort)  # returns at once: an abort ends the backoff
