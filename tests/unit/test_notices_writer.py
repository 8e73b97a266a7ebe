"""Notices sent from a writer thread of their own: handle returns at once, order holds, and
the end of the run waits only so long for a notifier that hangs."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ordo.events import RunStarted
from ordo.masking import Masker
from ordo.notify.memory import MemoryNotifier
from ordo.subscribers.notices import NoticeSubscriber


class HeldNotifier(MemoryNotifier):
    """Keeps each text once ``gate`` is open; notes the thread that sent it."""

    def __init__(self) -> None:
        super().__init__("held")
        self.gate = threading.Event()
        self.threads: set[str] = set()

    def send(self, text: str) -> None:
        self.gate.wait()
        self.threads.add(threading.current_thread().name)
        super().send(text)


def started(run: int) -> RunStarted:
    return RunStarted(f"run{run}", f"p{run}", Path("m.yaml"), ("a",), datetime.now(UTC))


def test_a_started_subscriber_queues_and_sends_in_order_from_its_own_thread() -> None:
    notifier = HeldNotifier()
    subscriber = NoticeSubscriber([notifier], Masker(), "p")
    subscriber.start()
    for run in range(5):
        subscriber.handle(started(run))  # returns although nothing can be sent yet
    assert notifier.sent == []
    notifier.gate.set()
    subscriber.close()
    assert [text.split(": ", 1)[1].split("\n")[0] for text in notifier.sent] == [
        f"p{run}" for run in range(5)
    ]
    assert notifier.threads == {"ordo-notices"}


def test_close_gives_up_on_a_hanging_notifier_with_one_masked_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = HeldNotifier()
    subscriber = NoticeSubscriber(
        [notifier], Masker(["s3cret"]), "p", drain_seconds=0.05, logger=logging.getLogger("t")
    )
    subscriber.start()
    subscriber.handle(started(1))
    try:
        with caplog.at_level(logging.WARNING, logger="t"):
            subscriber.close()
            subscriber.close()  # safe twice, and said once
    finally:
        notifier.gate.set()
    gave_up = [r for r in caplog.records if "gave up after 0.05s" in r.getMessage()]
    assert len(gave_up) == 1
    assert notifier.sent in ([], ["🚀 Job Started: p1\n1 step to run"])


def test_not_started_it_sends_before_handle_returns() -> None:
    notifier = MemoryNotifier()
    NoticeSubscriber([notifier], Masker(), "p").handle(started(1))
    assert len(notifier.sent) == 1
