"""``AppliedMigration``, in a module that imports nothing of ordo.

Both ``results`` (what a run returns) and ``errors`` (``MigrationFailed.applied``: what ran
before the failure) name it; here neither has to import the other, so the migration modules
form no import cycle (``errors`` -> ``results`` -> ``files`` -> ``errors`` before).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AppliedMigration"]


@dataclass(frozen=True)
class AppliedMigration:
    """One migration this run applied."""

    version: str | None  # None for a repeatable
    description: str
    script: str
    execution_time_ms: int
