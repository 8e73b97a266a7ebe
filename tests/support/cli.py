"""The ``ordo`` command for tests: in this process (fast), or as a real process (the boundary).

Most acceptance tests only read what ``ordo`` prints, its exit code and the files it leaves:
``run_in_process`` gives them that without the 0.3-3 s start of a new interpreter, by calling
the typer app with click's test runner, in the project folder, with the environment a user's
shell would pass (no ``DB_*``, ``DATABASE_URL*`` or ``TELEGRAM_*`` from the test machine).

What a process boundary is the point of (signals, ``kill -9``, closed stdin, a lock held by
another process, the exit code a shell sees) uses ``run_process`` or ``spawn_ordo``.

The CLI leaves state in the process it runs in: a console logging handler on the ``ordo``
logger (bound to the stream of that one call) and a SIGTERM handler. ``run_in_process`` puts
both back after each call, so one call cannot write into the next one's captured output.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from typer.testing import CliRunner

from ordo.cli.app import _bare_resume, command_app
from ordo.subscribers.log import LOGGER

Runner = Callable[..., subprocess.CompletedProcess[str]]

# Variables from the test machine that would change what ``ordo`` connects to or notifies.
FILTERED_PREFIXES = ("DB_", "DATABASE_URL", "TELEGRAM_")
# The same, and ordo's own settings (``ORDO_ENV`` and the test services' URLs) too.
WITHOUT_ORDO = (*FILTERED_PREFIXES, "ORDO_")


def ordo_command(*args: str) -> list[str]:
    """The argv that starts ``ordo`` as a user's shell would."""
    return [sys.executable, "-m", "ordo", *args]


def clean_env(
    extra: Mapping[str, str] | None = None,
    *,
    drop: tuple[str, ...] = FILTERED_PREFIXES,
) -> dict[str, str]:
    """This process's environment without the variables starting with ``drop``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra or {})
    return env


def run_process(
    *args: str,
    cwd: Path,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``ordo`` in a new process and wait for it."""
    return subprocess.run(
        ordo_command(*args),
        cwd=cwd,
        input=input,
        env=clean_env(env),
        text=True,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def spawn_ordo(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start ``ordo`` in a new process and return it running: stdin at /dev/null, stdout and
    stderr piped (text). ``env`` is the whole environment (default: ``clean_env()``)."""
    return subprocess.Popen(
        ordo_command(*args),
        cwd=cwd,
        env=dict(clean_env() if env is None else env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(
    predicate: Callable[[], object],
    *,
    timeout: float = 60,
    running: subprocess.Popen[str] | None = None,
    interval: float = 0.02,
) -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds, or as soon
    as the ``running`` process has ended (with its output in the message)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not true after {timeout} s"
        if running is not None:
            assert running.poll() is None, running.communicate()
        time.sleep(interval)


@contextmanager
def _cli_state(cwd: Path, env: dict[str, str]) -> Iterator[None]:
    """Run a block in ``cwd`` with exactly ``env``; put back cwd, environment, the ``ordo``
    logger's handlers and level, and the SIGTERM handler afterwards."""
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_handlers = list(LOGGER.handlers)
    saved_level = LOGGER.level
    saved_sigterm = signal.getsignal(signal.SIGTERM)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        for handler in list(LOGGER.handlers):
            if handler not in saved_handlers:
                LOGGER.removeHandler(handler)
                handler.close()
        LOGGER.setLevel(saved_level)
        signal.signal(signal.SIGTERM, saved_sigterm)


def run_in_process(
    *args: str,
    cwd: Path,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    drop: tuple[str, ...] = FILTERED_PREFIXES,
) -> subprocess.CompletedProcess[str]:
    """Run ``ordo`` in this process; the result has the shape ``run_process`` returns.

    An exception that escapes the app (``--debug``) is printed to stderr with exit code 1, as
    the interpreter would. ``timeout`` is accepted for the same signature; pytest's own timeout
    guards a call that hangs.
    """
    del timeout
    runner = CliRunner()
    with _cli_state(cwd, clean_env(env, drop=drop)):
        # What ``ordo.cli.app.main`` does with ``sys.argv``, on these arguments.
        argv = _bare_resume(list(args))
        result = runner.invoke(command_app(argv), argv, input=input or "")
    stderr = result.stderr
    code = result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        stderr += "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        code = 1
    return subprocess.CompletedProcess(["ordo", *args], code, result.stdout, stderr)
