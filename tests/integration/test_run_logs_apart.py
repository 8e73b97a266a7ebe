"""Two runs in one process, at the same time, each with a log file of its own.

The ``ordo`` logger is one per process; a run's log file must still hold that run's lines and
warnings and none of another run's, whichever thread (the run's, a unit worker's, a writer's)
logged them.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from pathlib import Path
from typing import Any

import ordo
from ordo.events import Event, RunFinished, RunStarted, RunStatus, StepStarted, StepSucceeded
from tests.support.project import make_project

RUN_ID = re.compile(r"\brun ([0-9a-f]{32})\b")


def manifest(name: str) -> str:
    return f"""\
    name: {name}
    max_parallel: 2
    steps:
      - name: {name} one
        sql: SELECT 1
      - name: {name} two
        sql: SELECT 2
      - name: {name} three
        sql: SELECT 3
    """


class Together:
    """Holds each run at its start and at each step until the other run is there too, so that
    the two runs are surely under way at once."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier = barrier

    def handle(self, event: Event) -> None:
        if isinstance(event, StepStarted):  # on a unit's worker thread when units run in parallel
            logging.getLogger("ordo.tests").warning("together at '%s'", event.step)
        if isinstance(event, RunStarted | StepSucceeded | RunFinished):
            self.barrier.wait(60)


def _dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def _run(root: Path, environ: dict[str, str], **options: Any) -> ordo.RunResult:
    return ordo.run(project=root, environ=environ, options=ordo.RunOptions(**options))


def test_two_runs_at_once_each_log_only_their_own(tmp_path: Path) -> None:
    # "east" runs on an in-memory database (the lanes warn, on the run's thread) and notifies
    # a chat service that is not there (the notices warn, on their writer's thread).
    east = make_project(tmp_path / "east", manifest("east"), env="DATABASE_URL=sqlite://\n")
    west = make_project(tmp_path / "west", manifest("west"))
    east_env = {
        "DATABASE_URL": "sqlite://",
        "TELEGRAM_BOT_TOKEN": "123456:" + "C" * 35,
        "TELEGRAM_CHAT_ID": "42",
        "TELEGRAM_API_URL": _dead_url(),
    }
    barrier = threading.Barrier(2)
    results: dict[str, ordo.RunResult] = {}
    errors: list[BaseException] = []

    def go(name: str, root: Path, environ: dict[str, str]) -> None:
        try:
            results[name] = _run(
                root, environ, subscribers=[Together(barrier)], sleep=lambda _: None
            )
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [
        threading.Thread(target=go, args=("east", east, east_env)),
        threading.Thread(target=go, args=("west", west, {})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    for name in ("east", "west"):
        assert results[name].status is RunStatus.SUCCESS, results[name].error

    logs = {}
    for name, result in results.items():
        assert result.log_file is not None
        logs[name] = result.log_file.read_text(encoding="utf-8")
        assert set(RUN_ID.findall(logs[name])) == {result.run_id}, logs[name]
        other = "west" if name == "east" else "east"
        assert f"'{other} one'" not in logs[name]
        assert f"'{name} three' finished" in logs[name]

    # The run's own warnings are in its log, and only in its log.
    lanes = "an in-memory database is in the plan"
    notifier = "notifier 'telegram' failed, skipped"
    assert lanes in logs["east"]
    assert notifier in logs["east"]
    assert lanes not in logs["west"]
    assert notifier not in logs["west"]
    assert "C" * 35 not in logs["east"]
    # west's units ran on worker threads; what was logged there is west's too
    assert "together at 'west two'" in logs["west"]
    assert "together at 'west" not in logs["east"]
