"""The one writer thread behind the slow subscribers: order, batches, errors, close."""

from __future__ import annotations

import contextvars
import threading

import pytest

from ordo.subscribers._writer import BackgroundWriter

WHO = contextvars.ContextVar("WHO", default="nobody")


def test_items_arrive_in_order_in_batches_on_one_thread() -> None:
    seen: list[int] = []
    batches: list[int] = []
    threads: set[str] = set()
    gate = threading.Event()

    def write(batch: list[int]) -> None:
        gate.wait()
        threads.add(threading.current_thread().name)
        batches.append(len(batch))
        seen.extend(batch)

    writer: BackgroundWriter[int] = BackgroundWriter("test-writer", write)
    writer.start()
    for item in range(100):
        writer.put(item)
    gate.set()
    assert writer.close() is True
    assert seen == list(range(100))
    assert threads == {"test-writer"}
    assert len(batches) < 100  # what queued up while a batch was written went in one go


def test_the_first_error_is_raised_on_the_callers_thread_at_put_and_close() -> None:
    failed = threading.Event()

    def write(batch: list[str]) -> None:
        if "bad" in batch:
            failed.set()
            raise ValueError("disk full")

    writer: BackgroundWriter[str] = BackgroundWriter("w", write)
    writer.start()
    writer.put("bad")
    failed.wait(30)
    writer.flush()
    with pytest.raises(ValueError, match="disk full"):
        writer.put("next")
    with pytest.raises(ValueError, match="disk full"):
        writer.close()
    with pytest.raises(ValueError, match="disk full"):
        writer.close()  # still said, and still safe


def test_close_twice_and_put_after_close_writes_on_the_callers_thread() -> None:
    seen: list[tuple[str, str]] = []
    writer: BackgroundWriter[str] = BackgroundWriter(
        "w", lambda batch: seen.extend((x, threading.current_thread().name) for x in batch)
    )
    writer.start()
    writer.put("a")
    assert writer.close()
    assert writer.close()
    writer.put("late")
    assert seen == [("a", "w"), ("late", threading.current_thread().name)]
    writer.start()  # a closed writer does not start again
    assert not writer.running


def test_a_writer_never_started_writes_at_once() -> None:
    seen: list[int] = []
    writer: BackgroundWriter[int] = BackgroundWriter("w", seen.extend)
    writer.put(1)
    assert seen == [1]
    assert writer.close()


def test_close_with_a_timeout_gives_up_on_a_stuck_handler() -> None:
    release = threading.Event()
    writer: BackgroundWriter[int] = BackgroundWriter("w", lambda batch: release.wait())
    writer.start()
    writer.put(1)
    try:
        assert writer.close(timeout=0.05) is False
    finally:
        release.set()


def test_the_thread_sees_the_context_of_whoever_started_it() -> None:
    seen: list[str] = []
    writer: BackgroundWriter[int] = BackgroundWriter("w", lambda batch: seen.append(WHO.get()))
    token = WHO.set("run-1")
    try:
        writer.start()
    finally:
        WHO.reset(token)
    writer.put(1)
    writer.close()
    assert seen == ["run-1"]
