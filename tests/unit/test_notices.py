"""Which run events become chat messages, what they say, and that sending never breaks a run."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ordo.errors import ErrorKind
from ordo.events import (
    Event,
    RunFinished,
    RunStarted,
    RunStatus,
    StepFailed,
    StepSucceeded,
    UnitFailed,
    UnitRetrying,
)
from ordo.masking import Masker
from ordo.notify.base import MESSAGE_LIMIT, cut, utf16_len
from ordo.notify.memory import MemoryNotifier
from ordo.subscribers.notices import NoticeSubscriber, format_duration

TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345"
PASSWORD = "s3cr3t-pw"
RUN = "run-1"


class BrokenNotifier:
    name = "broken"

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def send(self, text: str) -> None:
        self.calls += 1
        raise self.error


@pytest.fixture
def memory() -> MemoryNotifier:
    return MemoryNotifier()


@pytest.fixture
def masker() -> Masker:
    return Masker([PASSWORD, TOKEN])


@pytest.fixture
def subscriber(memory: MemoryNotifier, masker: Masker) -> NoticeSubscriber:
    return NoticeSubscriber([memory], masker, "daily_sales", slow_step_seconds=5.0)


def succeeded(step: str = "load", duration: float = 1.0, notify: bool = False) -> StepSucceeded:
    return StepSucceeded(RUN, step, "sql", 1, duration, rows=3, notify=notify)


def unit_failed(error: str = "boom", steps: tuple[str, ...] = ("load",)) -> UnitFailed:
    return UnitFailed(RUN, steps, failed_step=steps[-1], attempts=3, error=error)


def test_run_started_names_pipeline_and_step_count(
    subscriber: NoticeSubscriber, memory: MemoryNotifier
) -> None:
    event = RunStarted(
        RUN, "daily_sales", Path("queue/manifest.yaml"), ("a", "b", "c"), datetime.now(UTC)
    )
    subscriber.handle(event)
    assert len(memory.sent) == 1
    assert memory.sent[0].startswith("🚀 Job Started: daily_sales")
    assert "3 steps" in memory.sent[0]


def test_step_with_notify_true_is_reported(
    subscriber: NoticeSubscriber, memory: MemoryNotifier
) -> None:
    subscriber.handle(succeeded("publish", duration=0.2, notify=True))
    assert len(memory.sent) == 1
    assert "publish" in memory.sent[0]
    assert "0.2s" in memory.sent[0]


def test_slow_step_is_reported_with_duration(
    subscriber: NoticeSubscriber, memory: MemoryNotifier
) -> None:
    subscriber.handle(succeeded("aggregate", duration=125.0))
    assert memory.sent == [memory.sent[0]]
    assert "aggregate" in memory.sent[0]
    assert "2m 05s" in memory.sent[0]


def test_fast_step_is_silent(subscriber: NoticeSubscriber, memory: MemoryNotifier) -> None:
    subscriber.handle(succeeded(duration=5.0))  # at the threshold, not over it
    subscriber.handle(succeeded(duration=0.1))
    assert memory.sent == []


def test_failure_is_reported_once_even_with_retries(
    subscriber: NoticeSubscriber, memory: MemoryNotifier
) -> None:
    events: list[Event] = [
        StepFailed(RUN, "load", "sql", 1, 0.1, "deadlock detected", ErrorKind.TRANSIENT),
        UnitRetrying(RUN, ("load",), 1, 2, 2.0, "deadlock detected"),
        StepFailed(RUN, "load", "sql", 2, 0.1, "deadlock detected", ErrorKind.TRANSIENT),
        UnitRetrying(RUN, ("load",), 2, 3, 4.0, "deadlock detected"),
        StepFailed(RUN, "load", "sql", 3, 0.1, "deadlock detected", ErrorKind.TRANSIENT),
        unit_failed("deadlock detected"),
    ]
    for event in events:
        subscriber.handle(event)
    assert len(memory.sent) == 1
    assert memory.sent[0].startswith("❌ Step failed: load")
    assert "deadlock detected" in memory.sent[0]
    assert "3 attempts" in memory.sent[0]


def test_failure_in_group_names_rolled_back_steps(
    subscriber: NoticeSubscriber, memory: MemoryNotifier
) -> None:
    subscriber.handle(unit_failed(steps=("create", "insert", "index")))
    assert "❌ Step failed: index" in memory.sent[0]
    assert "create, insert" in memory.sent[0]


def test_success_summary(subscriber: NoticeSubscriber, memory: MemoryNotifier) -> None:
    subscriber.handle(
        RunFinished(RUN, "daily_sales", RunStatus.SUCCESS, 61.0, ("a", "b", "c", "d"))
    )
    assert memory.sent[0].startswith("✅ 4 Tasks Completed")
    assert "daily_sales" in memory.sent[0]
    assert "1m 01s" in memory.sent[0]


def test_failed_summary_says_what_failed_and_what_did_not_run(
    subscriber: NoticeSubscriber, memory: MemoryNotifier
) -> None:
    subscriber.handle(
        RunFinished(
            RUN,
            "daily_sales",
            RunStatus.FAILED,
            3.0,
            completed=("a", "b"),
            failed_step="c",
            error="relation st_sales does not exist",
            not_run=("d", "e", "f"),
        )
    )
    text = memory.sent[0]
    assert text.startswith("❌ Job failed: daily_sales")
    assert "Failed step: c" in text
    assert "st_sales does not exist" in text
    assert "Completed: 2" in text
    assert "Not run: 3" in text


def test_password_and_token_in_error_are_masked(
    subscriber: NoticeSubscriber, memory: MemoryNotifier
) -> None:
    error = (
        f"could not connect to postgresql://etl:{PASSWORD}@db:5432/dw; "
        f"while posting to https://api.telegram.org/bot{TOKEN}/sendMessage"
    )
    subscriber.handle(unit_failed(error))
    subscriber.handle(
        RunFinished(RUN, "p", RunStatus.FAILED, 1.0, (), failed_step="load", error=error)
    )
    assert len(memory.sent) == 2
    for text in memory.sent:
        assert PASSWORD not in text
        assert TOKEN not in text
        assert "***" in text


def test_long_error_is_cut_to_the_limit_in_utf16_units(
    subscriber: NoticeSubscriber, memory: MemoryNotifier
) -> None:
    subscriber.handle(unit_failed("😀" * 5000))
    text = memory.sent[0]
    assert utf16_len(text) <= MESSAGE_LIMIT
    assert text.endswith("…")
    assert len(text) < MESSAGE_LIMIT  # emoji count two units each, so far fewer characters


def test_cut_keeps_short_text_and_never_splits_surrogate_pairs() -> None:
    assert cut("short") == "short"
    assert cut("x" * MESSAGE_LIMIT) == "x" * MESSAGE_LIMIT
    assert cut("x" * (MESSAGE_LIMIT + 1)) == "x" * (MESSAGE_LIMIT - 1) + "…"
    # "a" then emoji: the cut lands inside a pair, which must be dropped whole.
    assert cut("a" + "😀" * 10, 5) == "a😀…"
    assert utf16_len(cut("😀" * 3000)) == MESSAGE_LIMIT - 1  # 2047 emoji, then "…"


def test_failing_notifier_is_logged_and_skipped(
    memory: MemoryNotifier, masker: Masker, caplog: pytest.LogCaptureFixture
) -> None:
    broken = BrokenNotifier(RuntimeError(f"POST https://x/bot{TOKEN}/sendMessage timed out"))
    subscriber = NoticeSubscriber(
        [broken, memory], masker, "p", logger=logging.getLogger("test.notices")
    )
    with caplog.at_level(logging.WARNING, logger="test.notices"):
        subscriber.handle(unit_failed())  # must not raise
    assert broken.calls == 1
    assert len(memory.sent) == 1  # the next notifier still got the message
    assert len(caplog.records) == 1
    record = caplog.records[0]
    assert record.levelno == logging.WARNING
    assert "broken" in record.getMessage()
    assert TOKEN not in record.getMessage()
    assert record.exc_info is None


def test_timeout_from_notifier_is_swallowed(
    masker: Masker, caplog: pytest.LogCaptureFixture
) -> None:
    subscriber = NoticeSubscriber([BrokenNotifier(TimeoutError("read timed out"))], masker, "p")
    with caplog.at_level(logging.WARNING):
        subscriber.handle(RunFinished(RUN, "p", RunStatus.SUCCESS, 1.0, ("a",)))
    assert "read timed out" in caplog.text


def test_events_that_are_not_news_send_nothing(
    subscriber: NoticeSubscriber, memory: MemoryNotifier
) -> None:
    subscriber.handle(UnitRetrying(RUN, ("a",), 1, 2, 2.0, "deadlock"))
    subscriber.handle(StepFailed(RUN, "a", "sql", 1, 0.1, "deadlock", ErrorKind.TRANSIENT))
    assert memory.sent == []


def test_format_duration() -> None:
    assert format_duration(0.04) == "0.0s"
    assert format_duration(12.34) == "12.3s"
    assert format_duration(125) == "2m 05s"
    assert format_duration(3723) == "1h 02m 03s"


def test_load_notifiers_finds_telegram_only_when_configured() -> None:
    from ordo.notify.base import load_notifiers
    from ordo.notify.telegram import TelegramNotifier

    masker = Masker()
    assert load_notifiers({}, masker) == []
    assert load_notifiers({"TELEGRAM_BOT_TOKEN": "tok-without-chat"}, masker) == []
    found = load_notifiers(
        {"TELEGRAM_BOT_TOKEN": "plain-token-value", "TELEGRAM_CHAT_ID": "-1001"}, masker
    )
    assert [type(n) for n in found] == [TelegramNotifier]
    assert masker.mask("x plain-token-value y") == "x *** y"  # the token is now a known secret


def test_importing_the_notifier_interface_does_not_import_httpx() -> None:
    import subprocess
    import sys

    code = "import sys, ordo.notify.base; print('httpx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_summary_of_one_task_is_singular(
    subscriber: NoticeSubscriber, memory: MemoryNotifier
) -> None:
    subscriber.handle(RunFinished(RUN, "p", RunStatus.SUCCESS, 1.0, ("a",)))
    assert memory.sent[0].startswith("✅ 1 Task Completed")
