"""A slow chat service never holds up a run: notices leave the event bus through a writer.

The Bot API is a real HTTP server on 127.0.0.1 that holds its first answer until the test
releases it. The release comes from a subscriber of the run when it sees the run finish, or,
if the run cannot get that far while the answer is held, from the server's own timeout. Which
of the two released it is the verdict: before notices had a writer of their own, the run sat
under the bus's lock waiting for the first answer, and only the timeout could end the wait.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

import ordo
from ordo.events import Event, RunFinished, RunStatus, UnitCommitted
from ordo.subscribers import notices
from tests.support.http import PROXY_VARIABLES, local_http_server
from tests.support.project import make_project

TOKEN = "123456:" + "B" * 35
# Shorter than the notifier's own request timeout (10 s), so the server answers first.
HOLD_SECONDS = 6.0

MANIFEST = """\
    name: nightly sales
    max_parallel: 2
    steps:
      - name: create
        sql: CREATE TABLE t (x INTEGER)
      - name: fill
        sql: INSERT INTO t VALUES (1)
        depends_on: [create]
      - name: more
        sql: INSERT INTO t VALUES (2)
        depends_on: [create]
    """


@dataclass
class HeldBotApi:
    """Answers every sendMessage, but holds the first answer until ``release`` (or a timeout)."""

    url: str = ""
    release: threading.Event = field(default_factory=threading.Event)
    answered_first: threading.Event = field(default_factory=threading.Event)
    released_by: str | None = None
    texts: list[str] = field(default_factory=list)
    hold_forever: bool = False

    def hold(self) -> None:
        if self.hold_forever:
            self.release.wait()
            return
        self.released_by = "run" if self.release.wait(HOLD_SECONDS) else "timeout"


def _handler(api: HeldBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            first = not api.texts
            api.texts.append(body.get("text", ""))
            if first:
                api.hold()
            data = json.dumps({"ok": True, "result": {"message_id": 1}}).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the notifier gave up on this answer already
            if first:
                api.answered_first.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def bot_api() -> Iterator[HeldBotApi]:
    api = HeldBotApi()
    with local_http_server(_handler(api)) as url:
        api.url = url
        try:
            yield api
        finally:
            api.release.set()


class ReleaseAtTheEnd:
    """Notes what the run had committed, and whether the first notice was answered, when the
    run finished; then releases the server."""

    def __init__(self, api: HeldBotApi) -> None:
        self.api = api
        self.committed: list[str] = []
        self.first_answered_at_finish: bool | None = None

    def handle(self, event: Event) -> None:
        if isinstance(event, UnitCommitted):
            self.committed.extend(event.steps)
        elif isinstance(event, RunFinished):
            self.first_answered_at_finish = self.api.answered_first.is_set()
            self.api.release.set()


def _environ(url: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": "42", "TELEGRAM_API_URL": url}


def _run(root: Path, environ: dict[str, str], **options: Any) -> ordo.RunResult:
    return ordo.run(project=root, environ=environ, options=ordo.RunOptions(**options))


def test_a_held_notice_does_not_hold_the_run(tmp_path: Path, bot_api: HeldBotApi) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    watcher = ReleaseAtTheEnd(bot_api)

    result = _run(root, _environ(bot_api.url), subscribers=[watcher], sleep=lambda _: None)

    assert bot_api.released_by == "run"  # not the server's timeout: the run got to its end
    assert watcher.first_answered_at_finish is False
    assert result.status is RunStatus.SUCCESS, result.error
    assert sorted(watcher.committed) == ["create", "fill", "more"]
    manifest = (root / "queue" / "manifest.yaml").read_text(encoding="utf-8")
    assert manifest.count("# Done: ") == 3
    # and once released, the rest still went out, in order, before run() returned
    assert bot_api.texts[0].startswith("🚀 Job Started")
    assert bot_api.texts[-1].startswith("✅ 3 Tasks Completed")


def test_the_end_of_a_run_gives_up_on_a_stuck_notifier_with_one_warning(
    tmp_path: Path, bot_api: HeldBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notices, "DRAIN_SECONDS", 0.2)
    bot_api.hold_forever = True  # released only when the test ends
    root = make_project(tmp_path / "p", MANIFEST)

    result = _run(root, _environ(bot_api.url), sleep=lambda _: None)

    assert result.status is RunStatus.SUCCESS, result.error
    assert not bot_api.answered_first.is_set()
    assert result.log_file is not None
    log = result.log_file.read_text(encoding="utf-8")
    assert log.count("notices: gave up after 0.2s") == 1
    assert TOKEN not in log
