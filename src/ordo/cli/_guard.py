"""The one place the ``ordo`` command turns errors, Ctrl-C and SIGTERM into exit codes.

Every command is wrapped in ``@guarded``: user errors (``OrdoError``) print one line per problem
and exit with the error's code, ``--debug`` lets them through as tracebacks, and anything else
is a bug and always prints its traceback. It lives apart from ``cli.app`` so the command groups
can import it at the top without importing the application that registers them.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import NoReturn, ParamSpec

import typer

from ordo.errors import OrdoError

__all__ = ["Terminated", "guard", "guarded"]

P = ParamSpec("P")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: whatever runs stops and cleans up (a python step's whole
    process group is killed, the open transaction rolls back, committed steps are marked)."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def _handle_sigterm() -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def _console_logging() -> None:
    # Imported here: the subscribers package is not needed for `ordo --help`.
    from ordo.subscribers.log import LOGGER

    if not any(getattr(h, "_ordo_console", False) for h in LOGGER.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler._ordo_console = True  # type: ignore[attr-defined]
        LOGGER.addHandler(handler)
        LOGGER.setLevel(logging.INFO)


def _fail(error: OrdoError) -> NoReturn:
    # Imported here: Rich costs start-up time that `ordo --help` does not pay.
    from rich.console import Console
    from rich.text import Text  # deferred: ordo --help stays fast

    err = Console(stderr=True)
    for problem in error.problems:
        # Text, not markup: a problem holding "[...]" (a path, a value) is shown as written.
        err.print(
            Text.assemble(("error:", "red"), " ", str(problem)), highlight=False, soft_wrap=True
        )
    raise typer.Exit(error.exit_code)


def guard(action: Callable[[], int | None], debug: bool) -> None:
    """Run ``action``; exit with the code it returns (when it returns one) or the error's."""
    _console_logging()
    _handle_sigterm()
    try:
        code = action()
    except OrdoError as exc:
        if debug:
            raise
        _fail(exc)
    except KeyboardInterrupt as exc:
        typer.echo("terminated" if isinstance(exc, Terminated) else "interrupted", err=True)
        raise typer.Exit(143 if isinstance(exc, Terminated) else 130) from None
    if code is not None:
        raise typer.Exit(int(code))


def guarded(command: Callable[P, int | None]) -> Callable[P, None]:
    """A command run under ``guard``, its ``debug`` parameter deciding about tracebacks.

    The command returns its exit code (``None`` returns normally, which a group callback
    needs so its subcommand still runs). ``functools.wraps`` keeps the signature Typer reads.
    """

    @functools.wraps(command)
    def run_guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        guard(lambda: command(*args, **kwargs), bool(kwargs.get("debug", False)))

    return run_guarded
