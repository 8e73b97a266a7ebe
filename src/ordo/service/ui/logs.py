"""A run's log file, as the run page shows it: the tail while it runs, all of it after.

The runner writes ``logs/ordo_<time>_<first 8 of the run id>.log`` in the project
(``ordo.subscribers.log.RunLog``); the UI finds it by that name. The file is masked as it is
written; it is masked again on the way out, with the masker of the settings the server runs
with, so a secret added to the settings since is not shown either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ordo.masking import Masker

__all__ = ["LogText", "find_log", "read_log"]

TAIL_BYTES = 16 * 1024  # a running run's page: the end of its log
WHOLE_BYTES = 2 * 1024 * 1024  # a finished run's page: all of it, up to this


@dataclass(frozen=True)
class LogText:
    """What is shown of a log: its text, whether the start was left out, and where it is."""

    text: str
    cut: bool
    path: Path | None


def find_log(logs_dir: Path, run_id: str) -> Path | None:
    """The log file of ``run_id`` in ``logs_dir``, the newest if two share the id's start."""
    found = sorted(logs_dir.glob(f"ordo_*_{run_id[:8]}.log")) if logs_dir.is_dir() else []
    return found[-1] if found else None


def read_log(logs_dir: Path, run_id: str, masker: Masker, *, tail: bool) -> LogText:
    """The end of the run's log (``tail``) or the whole of it, masked; empty if it has none."""
    path = find_log(logs_dir, run_id)
    if path is None:
        return LogText("", cut=False, path=None)
    limit = TAIL_BYTES if tail else WHOLE_BYTES
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(size - limit, 0))
            data = handle.read()
    except OSError:
        return LogText("", cut=False, path=path)
    cut = size > limit
    text = data.decode("utf-8", errors="replace")
    if cut:
        text = text.split("\n", 1)[-1]  # from the first whole line
    return LogText(masker.mask(text), cut=cut, path=path)
