"""Telegram notices of whole runs (``ordo.run`` and the CLI) against a local recording server.

The Bot API is played by an HTTP server on 127.0.0.1 that records every message; nothing
talks to the internet. Also here: secrets (the bot token, a database password) never reach
the log file, the console, the result, an exception or a notice.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ordo
from ordo.events import RunStatus
from ordo.notify.base import MESSAGE_LIMIT, utf16_len
from ordo.runner.result import RunResult
from tests.support.cli import WITHOUT_ORDO, clean_env, run_in_process
from tests.support.project import make_project
from tests.support.telegram import OK, FakeTelegram, fake_telegram

TOKEN = "123456:" + "A" * 35
CHAT_ID = "42"

pytestmark = pytest.mark.usefixtures("no_proxy")
# Shaped like nothing a masker could recognise: only knowing it as DB_PASS can hide it.
DB_PASSWORD = "Wh1sperQuietly9"


@pytest.fixture
def bot_api() -> Iterator[FakeTelegram]:
    with fake_telegram() as fake:
        yield fake


@pytest.fixture
def dead_url() -> str:
    """A local URL where nothing listens (a port that was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def base_environ() -> dict[str, str]:
    env = clean_env(drop=WITHOUT_ORDO)
    return {
        k: v for k, v in env.items() if k.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    }


def telegram_environ(url: str, **extra: str) -> dict[str, str]:
    return {
        **base_environ(),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_CHAT_ID": CHAT_ID,
        "TELEGRAM_API_URL": url,
        **extra,
    }


def run(root: Path, url: str, **extra: str) -> RunResult:
    return ordo.run(
        project=root,
        environ=telegram_environ(url, **extra),
        options=ordo.RunOptions(sleep=lambda _: None),
    )


THREE_STEPS = """\
    name: nightly sales
    steps:
      - name: create
        sql: CREATE TABLE t (x INTEGER)
      - name: announce me
        sql: INSERT INTO t VALUES (1), (2)
        notify: true
      - name: quiet
        sql: INSERT INTO t VALUES (3)
    """


def test_start_notified_step_and_summary_only(tmp_path: Path, bot_api: FakeTelegram) -> None:
    root = make_project(tmp_path / "p", THREE_STEPS)
    result = run(root, bot_api.url)
    assert result.status is RunStatus.SUCCESS, result.error

    assert len(bot_api.texts) == 3, bot_api.texts
    start, step, summary = bot_api.texts
    assert start.startswith("🚀 Job Started")
    assert "nightly sales" in start
    assert step.startswith("☑️ Step done: announce me in ")
    assert "s" in step.split(" in ", 1)[1]  # a duration such as 0.0s
    assert "create" not in step
    assert "quiet" not in step
    assert summary.startswith("✅ 3 Tasks Completed")
    assert "nightly sales" in summary
    assert set(bot_api.chats) == {CHAT_ID}
    assert set(bot_api.paths) == {f"/bot{TOKEN}/sendMessage"}
    assert all(keys == {"chat_id", "text"} for keys in bot_api.keys)  # plain text


def test_fast_steps_without_notify_send_only_start_and_summary(
    tmp_path: Path, bot_api: FakeTelegram
) -> None:
    root = make_project(tmp_path / "p", THREE_STEPS.replace("notify: true", "notify: false"))
    assert run(root, bot_api.url).status is RunStatus.SUCCESS
    assert len(bot_api.texts) == 2, bot_api.texts
    assert bot_api.texts[0].startswith("🚀 Job Started")
    assert bot_api.texts[1].startswith("✅ 3 Tasks Completed")


def test_slow_step_seconds_zero_notifies_every_step(tmp_path: Path, bot_api: FakeTelegram) -> None:
    manifest = THREE_STEPS.replace(
        "    name: nightly sales\n",
        "    name: nightly sales\n    notify:\n      slow_step_seconds: 0\n",
    )
    root = make_project(tmp_path / "p", manifest)
    assert run(root, bot_api.url).status is RunStatus.SUCCESS
    steps = [text for text in bot_api.texts if text.startswith("☑️ Step done:")]
    assert [text.split(" in ", 1)[0] for text in steps] == [
        "☑️ Step done: create",
        "☑️ Step done: announce me",
        "☑️ Step done: quiet",
    ]
    assert len(bot_api.texts) == 5


def test_failed_step_sends_one_error_and_a_failure_summary(
    tmp_path: Path, bot_api: FakeTelegram
) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        name: nightly sales
        steps:
          - name: create
            sql: CREATE TABLE t (x INTEGER)
          - name: load sales
            sql: INSERT INTO st_sales_import VALUES (1)
          - name: never
            sql: INSERT INTO t VALUES (1)
        """,
    )
    result = run(root, bot_api.url)
    assert result.status is RunStatus.FAILED
    errors = [text for text in bot_api.texts if "Step failed" in text]
    assert len(errors) == 1, bot_api.texts
    assert "load sales" in errors[0]
    assert "no such table: st_sales_import" in errors[0]
    assert bot_api.texts[0].startswith("🚀 Job Started")
    summary = bot_api.texts[-1]
    assert summary.startswith("❌ Job failed: nightly sales")
    assert "Failed step: load sales" in summary
    assert "Completed: 1" in summary
    assert "Not run: 1" in summary
    assert not any(text.startswith("✅") for text in bot_api.texts)


def test_transient_failure_retried_to_exhaustion_sends_exactly_one_error(
    tmp_path: Path, bot_api: FakeTelegram
) -> None:
    root = make_project(
        tmp_path / "p",
        # ledger: false - the EXCLUSIVE lock below blocks even the ledger's read before the run;
        # this test is about the notices of the step's own attempts.
        """\
        name: locked out
        ledger: false
        retry:
          max_retries: 2
          base: 0
        steps:
          - name: load
            sql: INSERT INTO t VALUES (2)
        """,
        env="DATABASE_URL=sqlite:///data/test.db?timeout=0.1\n",
    )
    holder = sqlite3.connect(root / "data" / "test.db", isolation_level=None)
    try:
        holder.execute("CREATE TABLE t (x INTEGER)")
        holder.execute("BEGIN EXCLUSIVE")  # nobody else may write until it ends
        result = run(root, bot_api.url)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.status is RunStatus.FAILED
    assert result.step("load").attempts == 3
    errors = [text for text in bot_api.texts if "Step failed" in text]
    assert len(errors) == 1, bot_api.texts
    assert "load" in errors[0]
    assert "locked" in errors[0]
    assert "3 attempts" in errors[0]
    assert len(bot_api.texts) == 3  # start, the one error, the summary


def test_long_error_is_cut_to_the_telegram_limit(tmp_path: Path, bot_api: FakeTelegram) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        steps:
          - name: shouty
            type: python
            file: shouty.py
        """,
        python={
            "shouty.py": """\
                import sys
                for n in range(20):  # the error ends with the last line: longer than a notice
                    print(f"{n:02d} " + "😀" * 2500)
                sys.exit(1)
                """
        },
    )
    result = run(root, bot_api.url)
    assert result.status is RunStatus.FAILED
    assert result.error is not None
    assert utf16_len(result.error) > MESSAGE_LIMIT  # the error itself is long...
    [error] = [text for text in bot_api.texts if "Step failed" in text]
    assert utf16_len(error) <= MESSAGE_LIMIT  # ...its notice is not
    assert error.endswith("…")
    assert "exited with code 1" in error
    assert all(utf16_len(text) <= MESSAGE_LIMIT for text in bot_api.texts)


def test_429_is_waited_out_once_during_a_run(tmp_path: Path, bot_api: FakeTelegram) -> None:
    too_many = {"ok": False, "error_code": 429, "parameters": {"retry_after": 0}}
    bot_api.script = [(429, too_many), OK]
    root = make_project(tmp_path / "p", THREE_STEPS)
    assert run(root, bot_api.url).status is RunStatus.SUCCESS
    assert len(bot_api.texts) == 4  # the start twice (429, then delivered), step, summary
    assert bot_api.texts[0] == bot_api.texts[1]
    assert bot_api.texts[1].startswith("🚀 Job Started")


def test_server_down_run_succeeds_warns_and_never_shows_the_token(
    tmp_path: Path, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_project(tmp_path / "p", THREE_STEPS)
    with caplog.at_level(logging.DEBUG):
        result = run(root, dead_url)
    assert result.status is RunStatus.SUCCESS, result.error
    assert result.log_file is not None
    log = result.log_file.read_text(encoding="utf-8")
    assert "WARNING" in log
    assert "telegram" in log
    assert "unreachable" in log
    for text in (log, caplog.text, repr(result), str(result.steps)):
        assert TOKEN not in text
        assert TOKEN.split(":", 1)[1] not in text
    with sqlite3.connect(root / "data" / "test.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (3,)


def test_server_down_with_a_failing_step_keeps_the_token_out_of_errors(
    tmp_path: Path, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        steps:
          - name: broken
            sql: INSERT INTO nowhere VALUES (1)
        """,
    )
    with caplog.at_level(logging.DEBUG):
        result = run(root, dead_url)
    assert result.status is RunStatus.FAILED
    assert result.log_file is not None
    log = result.log_file.read_text(encoding="utf-8")
    assert "unreachable" in log
    for text in (log, caplog.text, repr(result), str(result.error)):
        assert TOKEN.split(":", 1)[1] not in text


def test_server_down_cli_console_never_shows_the_token(tmp_path: Path, dead_url: str) -> None:
    root = make_project(tmp_path / "p", THREE_STEPS)
    done = run_in_process("run", "-y", cwd=root, env=telegram_environ(dead_url), drop=WITHOUT_ORDO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "telegram" in done.stderr  # the warning reaches the console
    [log] = (root / "logs").glob("ordo_*.log")
    for text in (done.stdout, done.stderr, log.read_text(encoding="utf-8")):
        assert TOKEN.split(":", 1)[1] not in text


SECRET_MANIFEST = """\
    name: secrets
    steps:
      - name: chatty
        type: python
        file: chatty.py
        notify: true
      - name: broken
        {broken}
    """

CHATTY = """\
    import os
    print("password is", os.environ["DB_PASS"])
    print("url is postgresql://ordo:" + os.environ["DB_PASS"] + "@db.internal:5432/sales")
    """

FAILING_SCRIPT = """\
    import os, sys
    print("connecting to postgresql://ordo:" + os.environ["DB_PASS"] + "@db.internal/sales")
    print("giving up on postgresql://ordo:" + os.environ["DB_PASS"] + "@db.internal/sales",
          file=sys.stderr)
    sys.exit(3)
    """

BROKEN = {
    # the driver's error quotes the table name, which holds the URL with the password
    "sql": f'sql: SELECT * FROM "postgresql://ordo:{DB_PASSWORD}@db.internal/sales"',
    "python": "type: python\n        file: failing.py",
}


def secret_project(root: Path, broken: str) -> Path:
    return make_project(
        root,
        SECRET_MANIFEST.format(broken=BROKEN[broken]),
        python={"chatty.py": CHATTY, "failing.py": FAILING_SCRIPT},
        env=f"DB_DIALECT=sqlite\nDB_SERVICE=data/secret.db\nDB_PASS={DB_PASSWORD}\n",
    )


@pytest.mark.parametrize("broken", ["sql", "python"])
def test_db_password_never_reaches_log_result_or_notices(
    tmp_path: Path, bot_api: FakeTelegram, broken: str, caplog: pytest.LogCaptureFixture
) -> None:
    root = secret_project(tmp_path / "p", broken)
    with caplog.at_level(logging.DEBUG):
        result = run(root, bot_api.url)
    assert result.status is RunStatus.FAILED
    assert result.error is not None
    assert "db.internal" in result.error  # the error is shown, only the password is hidden
    assert result.log_file is not None
    log = result.log_file.read_text(encoding="utf-8")
    assert "password is ***" in log  # the script's own output, masked on its way in
    assert "db.internal" in log
    notices = "\n".join(bot_api.texts)
    assert "Step failed: broken" in notices
    assert "db.internal" in notices
    for text in (log, notices, caplog.text, repr(result)):
        assert DB_PASSWORD not in text


@pytest.mark.parametrize("broken", ["sql", "python"])
def test_db_password_never_reaches_the_cli_console(
    tmp_path: Path, bot_api: FakeTelegram, broken: str
) -> None:
    root = secret_project(tmp_path / "p", broken)
    done = run_in_process(
        "run", "-y", cwd=root, env=telegram_environ(bot_api.url), drop=WITHOUT_ORDO
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "db.internal" in done.stdout  # the failure is shown on the console
    assert "password is ***" in done.stdout  # the script's output streams there too
    [log] = (root / "logs").glob("ordo_*.log")
    notices = "\n".join(bot_api.texts)
    assert "Step failed: broken" in notices
    for text in (done.stdout, done.stderr, log.read_text(encoding="utf-8"), notices):
        assert DB_PASSWORD not in text


def test_misconfigured_notifier_stops_the_run_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ordo.errors import ConfigError
    from ordo.notify import base

    def broken(settings: Any, masker: Any) -> list[Any]:
        raise ConfigError("notifier 'pager' is misconfigured: PAGER_URL is not a URL")

    monkeypatch.setattr(base, "load_notifiers", broken)
    root = make_project(tmp_path / "p", THREE_STEPS)
    before = (root / "queue" / "manifest.yaml").read_bytes()
    handlers = list(logging.getLogger("ordo").handlers)
    asked: list[str] = []

    def confirm(plan: Any) -> bool:
        asked.append(plan.name)
        return True

    with pytest.raises(ConfigError, match="pager"):
        ordo.run(project=root, environ=base_environ(), options=ordo.RunOptions(confirm=confirm))

    assert asked == []  # refused before the question, not after the user said yes
    assert logging.getLogger("ordo").handlers == handlers  # no log handler left attached
    assert not [t for t in threading.enumerate() if t.name == "ordo-manifest"]
    assert not list((root / "logs").glob("ordo_*.log"))
    assert not (root / "data" / "test.db").exists()
    assert (root / "queue" / "manifest.yaml").read_bytes() == before
