"""The marks journal: which ledger rows the manifest has already recorded as done marks.

A ledger row (``runner.ledger``) says "run R committed step S" and lets the next run skip S
when R died before the manifest said so. The row must never outlive that purpose: once S's
Done mark is on disk, the manifest is the word about S, and if S shows enabled again later,
that is the user's decision (``ordo enable``, an edit, the file reset from git) and S must run.

The manifest alone cannot tell "R died before marking S" from "R marked S and the user took the
mark away again": a manifest reset from git is byte for byte the file R started from. So every
time a Done mark is durably written, the pair (S, R) is appended here, in a file beside the
manifest (``.<manifest name>.ordo-marks``, like its lock). Reconciliation then trusts a row
(S, R) only while the journal does not hold (S, R). An entry goes once the row it answers for
is deleted; the file goes when it is empty.

Appends are flushed, not fsynced: a ``kill -9`` cannot lose them (the kernel has the data),
a power cut can, and then a row outlives its mark only if the file is also reset by hand
before the next run. A line cut short by a kill is ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from ordo._files import write_atomic

__all__ = ["MarkJournal", "journal_path"]


def journal_path(manifest: Path) -> Path:
    return manifest.with_name(f".{manifest.name}.ordo-marks")


class MarkJournal:
    """The (step, committing run) pairs of one manifest whose Done marks reached the disk.

    Used while holding the manifest's lock: one run at a time reads and writes it.
    """

    def __init__(self, manifest: Path) -> None:
        self.path = journal_path(manifest)

    def add(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Append (step, run id) pairs, after their marks were written."""
        lines = "".join(json.dumps([step, run]) + "\n" for step, run in pairs)
        if not lines:
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(lines)

    def read(self) -> set[tuple[str, str]]:
        """Every pair recorded; an unreadable file or a cut-off line holds nothing."""
        text = self._text()
        return set() if text is None else _pairs(text)

    def _text(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def forget(self, steps: Iterable[str]) -> None:
        """Drop the entries of ``steps`` (their ledger rows are gone); the file goes if empty."""
        gone = set(steps)
        if not gone or not self.path.exists():
            return
        text = self._text()
        if text is None:  # unreadable now: leave it, rather than lose every other step's entries
            return
        kept = sorted(pair for pair in _pairs(text) if pair[0] not in gone)
        if not kept:
            self.path.unlink(missing_ok=True)
            return
        text = "".join(json.dumps(list(pair)) + "\n" for pair in kept)
        write_atomic(self.path, text.encode("utf-8"))


def _pairs(text: str) -> set[tuple[str, str]]:
    """The (step, run) pairs of the journal's lines; a cut-off or foreign line is skipped."""
    pairs: set[tuple[str, str]] = set()
    for line in text.splitlines():
        try:
            step, run = json.loads(line)
        except (ValueError, TypeError):
            continue
        if isinstance(step, str) and isinstance(run, str):
            pairs.add((step, run))
    return pairs
