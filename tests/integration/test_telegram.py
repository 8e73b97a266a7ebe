"""The Telegram notifier against a real local HTTP server standing in for the Bot API.

No test talks to the internet: the server runs on 127.0.0.1, on a port the OS picks, and
answers from a script each test writes (status and JSON body, or "hang" to never answer).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest

from ordo.events import UnitFailed
from ordo.masking import Masker
from ordo.notify.base import MESSAGE_LIMIT, NotificationError, utf16_len
from ordo.notify.telegram import TelegramNotifier
from ordo.subscribers.notices import NoticeSubscriber
from tests.support.telegram import HANG, OK, FakeTelegram, fake_telegram

# Not shaped like a real bot token, so only the explicit masking can hide it.
TOKEN = "4242:integration-test-token"
CHAT_ID = "-100777"

pytestmark = pytest.mark.usefixtures("no_proxy")


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as fake:
        yield fake


def notifier(url: str, sleeps: list[float] | None = None, timeout: float = 5.0) -> TelegramNotifier:
    recorded = sleeps if sleeps is not None else []
    return TelegramNotifier(TOKEN, CHAT_ID, api_url=url, timeout=timeout, sleep=recorded.append)


def subscriber(target: TelegramNotifier, logger_name: str) -> NoticeSubscriber:
    return NoticeSubscriber([target], Masker(), "nightly", logger=logging.getLogger(logger_name))


def failure() -> UnitFailed:
    return UnitFailed("run-1", ("load",), "load", 1, "relation st_sales does not exist")


def test_send_posts_plain_text_to_the_bot_path(telegram: FakeTelegram) -> None:
    notifier(telegram.url).send("hello 🚀")
    assert len(telegram.requests) == 1
    request = telegram.requests[0]
    assert request.path == f"/bot{TOKEN}/sendMessage"
    assert request.body == {"chat_id": CHAT_ID, "text": "hello 🚀"}  # no parse_mode


def test_long_text_is_cut_to_telegram_limit(telegram: FakeTelegram) -> None:
    notifier(telegram.url).send("😀" * 3000)
    text = telegram.requests[0].body["text"]
    assert utf16_len(text) <= MESSAGE_LIMIT
    assert text.endswith("…")


def test_429_waits_retry_after_and_retries_once(telegram: FakeTelegram) -> None:
    too_many = {"ok": False, "error_code": 429, "parameters": {"retry_after": 1}}
    telegram.script = [(429, too_many), OK]
    sleeps: list[float] = []
    notifier(telegram.url, sleeps).send("hi")
    assert len(telegram.requests) == 2
    assert sleeps == [1]


def test_second_429_raises(telegram: FakeTelegram) -> None:
    too_many = {"ok": False, "error_code": 429, "parameters": {"retry_after": 600}}
    telegram.script = [(429, too_many)]
    sleeps: list[float] = []
    with pytest.raises(NotificationError, match="429"):
        notifier(telegram.url, sleeps).send("hi")
    assert len(telegram.requests) == 2
    assert sleeps == [60.0]  # capped: a run must not wait ten minutes for a chat message


def test_500_raises_without_token_and_subscriber_only_warns(
    telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.script = [(500, {"ok": False, "error_code": 500, "description": "Internal"})]
    target = notifier(telegram.url)
    with pytest.raises(NotificationError) as raised:
        target.send("hi")
    assert "500" in str(raised.value)
    assert TOKEN not in str(raised.value)
    assert raised.value.__cause__ is None

    with caplog.at_level(logging.INFO):  # INFO also catches httpx's own request log line
        subscriber(target, "test.telegram.500").handle(failure())
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "500" in warnings[0].getMessage()
    assert TOKEN not in caplog.text
    assert "***" in caplog.text  # httpx logged the URL, with the token masked


def test_server_down_warns_fast(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = notifier(f"http://127.0.0.1:{port}")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="test.telegram.down"):
        subscriber(target, "test.telegram.down").handle(failure())
    assert time.monotonic() - started < 3
    assert "unreachable" in caplog.text
    assert TOKEN not in caplog.text


def test_server_that_never_answers_times_out(
    telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.script = [HANG]
    target = notifier(telegram.url, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(NotificationError, match="unreachable"):
        target.send("hi")
    assert time.monotonic() - started < 3

    with caplog.at_level(logging.WARNING, logger="test.telegram.hang"):
        subscriber(target, "test.telegram.hang").handle(failure())
    assert "telegram" in caplog.text
    assert TOKEN not in caplog.text
