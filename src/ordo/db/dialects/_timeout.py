"""Timeouts kept by a timer thread, for backends whose only limit is a cancel from outside.

Shared by ``Dialect.statement_timeout`` and the backends that check a number of seconds before
turning it into their own setting.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

__all__ = ["cancel_after", "check_seconds"]


def check_seconds(seconds: float) -> float:
    if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"a timeout must be a positive number of seconds, got {seconds!r}")
    return float(seconds)


@contextmanager
def cancel_after(seconds: float, cancel: Any) -> Iterator[None]:
    """Call ``cancel()`` from a timer thread if the block is still running after ``seconds``.

    The lock makes "block finished" and "timer fired" exclusive, so the cancel never lands
    after the block has returned (where it could hit the caller's next statement).
    """
    lock = threading.Lock()
    state = {"done": False}

    def fire() -> None:
        with lock:
            if not state["done"]:
                # Best effort: if the connection died meanwhile, the statement has failed
                # on its own and that error is the one the caller will see.
                with suppress(Exception):
                    cancel()

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
        timer.cancel()
