"""Putting back the last good version of published datasets: ROLLBACK_TO_BACKUP.

A ``rollback: {type: restore}`` on a publish step runs this after the step failed for good.
Opening the root (``versions.open_root``) already removes whatever a killed run left unlisted;
what remains is to prove the listed files good: each newest file must exist and hold what its
footer hash says. One that does not is replaced, in a single switch for all datasets, by the
latest historical version that does; the damaged file is dropped, not kept as history. When a
dataset has no good version left, nothing is switched and the restore fails, naming it, so
the run stops before a later step reads bad data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordo.datasets.versions import DatasetVersion, open_root
from ordo.errors import PermanentError

__all__ = ["Restored", "restore_datasets"]


@dataclass(frozen=True)
class Restored:
    root: Path
    kept: dict[str, str] = field(default_factory=dict)  # dataset: its good newest version
    restored: dict[str, str] = field(default_factory=dict)  # dataset: the version put back
    damaged: dict[str, str] = field(default_factory=dict)  # dataset: what was wrong
    never_published: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"{d}: {v} is good, kept" for d, v in self.kept.items()]
        out += [f"{d}: {self.damaged[d]}; put back {v}" for d, v in self.restored.items()]
        out += [f"{d}: no version published yet, nothing to put back" for d in self.never_published]
        return out

    def as_details(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "kept": dict(self.kept),
            "restored": dict(self.restored),
            "never_published": list(self.never_published),
        }


def restore_datasets(root: Path, datasets: list[str], lock_timeout: float = 600) -> Restored:
    """Make each of ``datasets`` under ``root`` a good version again; see the module."""
    kept: dict[str, str] = {}
    chosen: dict[str, DatasetVersion] = {}
    damaged: dict[str, str] = {}
    lost: list[str] = []
    never: list[str] = []
    with open_root(root, create=True, timeout=lock_timeout) as opened:
        for dataset in datasets:
            newest = opened.newest(dataset)
            if newest is None:
                never.append(dataset)
                continue
            problem = opened.damage(newest)
            if problem is None:
                kept[dataset] = newest.name
                continue
            damaged[dataset] = problem
            good = next(
                (v for v in opened.history(dataset) if not v.newest and not opened.damage(v)),
                None,
            )
            if good is None:
                lost.append(dataset)
            else:
                chosen[dataset] = good
        if lost:
            raise PermanentError(
                "no good version left to restore: " + "; ".join(f"{d}: {damaged[d]}" for d in lost),
                hint=f"publish the datasets again, or put a good file back under {root}",
            )
        if chosen:
            opened.switch_to(chosen, keep_old=False)
    return Restored(
        Path(root),
        kept,
        {d: v.name for d, v in chosen.items()},
        damaged,
        tuple(never),
    )
