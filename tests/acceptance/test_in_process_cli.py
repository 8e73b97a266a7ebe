"""The in-process ``ordo`` runner leaves nothing behind that could reach the next call or test."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from ordo.subscribers.log import LOGGER
from tests.support.cli import Runner
from tests.support.project import make_project


def test_a_call_restores_cwd_environment_logging_and_sigterm(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", "steps:\n  - name: one\n    sql: SELECT 1\n")
    cwd, environ = os.getcwd(), dict(os.environ)
    handlers, level = list(LOGGER.handlers), LOGGER.level
    sigterm = signal.getsignal(signal.SIGTERM)
    done = ordo_cli("run", "-y", cwd=root, env={"ORDO_SOMETHING": "x"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert os.getcwd() == cwd
    assert dict(os.environ) == environ
    assert LOGGER.handlers == handlers
    assert LOGGER.level == level
    assert signal.getsignal(signal.SIGTERM) == sigterm


def test_each_call_prints_its_warnings_to_its_own_stderr(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "steps:\n  - name: one\n    sql: SELECT 1\n")
    first = ordo_cli("enable", "nope", cwd=root)
    second = ordo_cli("enable", "nope", cwd=root)
    assert first.returncode == second.returncode == 2
    assert first.stderr == second.stderr != ""


def test_an_escaping_exception_is_printed_as_a_traceback(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "steps:\n  - name: one\n    sql: SELECT 1\n")
    done = ordo_cli("enable", "nope", "--debug", cwd=root)
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
