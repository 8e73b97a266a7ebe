"""The Telegram notifier against a real local HTTP server standing in for the Bot API.

No test talks to the internet: the server runs on 127.0.0.1, on a port the OS picks, and
answers from a script each test writes (status and JSON body, or "hang" to never answer).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from ordo.events import UnitFailed
from ordo.masking import Masker
from ordo.notify.base import MESSAGE_LIMIT, NotificationError, utf16_len
from ordo.notify.telegram import TelegramNotifier
from ordo.subscribers.notices import NoticeSubscriber
from tests.helpers import PROXY_VARIABLES, local_http_server

# Not shaped like a real bot token, so only the explicit masking can hide it.
TOKEN = "4242:integration-test-token"
CHAT_ID = "-100777"
OK = (200, {"ok": True, "result": {"message_id": 1}})
HANG = "hang"


@dataclass
class Recorded:
    method: str
    path: str
    body: dict[str, Any]


@dataclass
class FakeTelegram:
    """Answers requests from ``script`` in order (the last answer repeats); records them all."""

    url: str = ""
    script: list[Any] = field(default_factory=lambda: [OK])
    requests: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def next_answer(self) -> Any:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


def _handler(fake: FakeTelegram) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append(Recorded("POST", self.path, body))
            answer = fake.next_answer()
            if answer == HANG:
                fake.release.wait(10)  # until the test ends; then drop the connection
                self.close_connection = True
                return
            status, payload = answer
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    with local_http_server(_handler(fake)) as url:
        fake.url = url
        try:
            yield fake
        finally:
            fake.release.set()  # a handler held open must let the server shut down


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
