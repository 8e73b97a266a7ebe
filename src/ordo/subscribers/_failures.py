"""What of a failed unit was kept, in words the console and the log both print.

Where DDL commits on its own (MySQL, MariaDB, Oracle) a transaction group that fails may
have committed part of its work; saying "rolled back" for it would send the user to run
again work that is already done (``UnitFailed.committed`` and ``uncertain``).
"""

from __future__ import annotations

from ordo.events import UnitFailed

__all__ = ["kept_lines"]


def kept_lines(event: UnitFailed) -> list[str]:
    """One line for the steps DDL committed, one for those it may have committed."""
    lines = []
    if event.committed:
        lines.append(
            "committed before the failure (DDL commits on its own), done: "
            + ", ".join(event.committed)
        )
    if event.uncertain:
        lines.append(
            f"may be committed (the DDL of '{event.failed_step}' commits what ran before it "
            f"as it begins): {', '.join(event.uncertain)}; check the database before running "
            "them again"
        )
    return lines
