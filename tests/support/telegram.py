"""A fake Telegram Bot API on 127.0.0.1 that records every request and answers from a script.

Nothing talks to the internet: the notifier is pointed at this server's URL. ``no_proxy`` (a
fixture in ``tests/conftest.py``) keeps a proxy from the test machine out of the way.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.http import local_http_server

OK = (200, {"ok": True, "result": {"message_id": 1}})
HANG = "hang"  # as an answer: hold the request open until the test ends


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

    @property
    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    @property
    def texts(self) -> list[str]:
        """The text of each message sent, in order."""
        return [r.body.get("text", "") for r in self.requests]

    @property
    def chats(self) -> list[str]:
        return [str(r.body.get("chat_id")) for r in self.requests]

    @property
    def keys(self) -> list[set[str]]:
        return [set(r.body) for r in self.requests]


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


@contextmanager
def fake_telegram() -> Iterator[FakeTelegram]:
    """A running fake for the block; a request held open is let go at the end."""
    fake = FakeTelegram()
    with local_http_server(_handler(fake)) as url:
        fake.url = url
        try:
            yield fake
        finally:
            fake.release.set()  # a handler held open must let the server shut down
