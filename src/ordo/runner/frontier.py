"""Run-time bookkeeping over the units' graph: which units may start, which never will."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from ordo.planning.graph import reachable

__all__ = ["Frontier"]


class Frontier:
    """Run-time bookkeeping over the units' graph: which may start, which never will.

    ``deps[i]`` are the indices of the units unit ``i`` waits for. Used by one thread (the
    runner's scheduler); ``ready`` is in plan order, so the earliest unit starts first.
    """

    def __init__(self, deps: Sequence[Iterable[int]]) -> None:
        self._deps = [set(d) for d in deps]
        self._waiting = [len(d) for d in self._deps]
        self._children: list[list[int]] = [[] for _ in self._deps]
        for unit, waits in enumerate(self._deps):
            for dep in waits:
                self._children[dep].append(unit)
        self._ready = [unit for unit, count in enumerate(self._waiting) if count == 0]
        self._open = set(range(len(self._deps)))  # neither started nor given up

    @property
    def ready(self) -> list[int]:
        """Units whose dependencies have all committed and that have not started, in order."""
        return list(self._ready)

    def start(self, unit: int) -> None:
        self._ready.remove(unit)
        self._open.discard(unit)

    def succeeded(self, unit: int) -> None:
        for child in self._children[unit]:
            self._waiting[child] -= 1
            if self._waiting[child] == 0 and child in self._open:
                bisect.insort(self._ready, child)

    def dependents_of(self, unit: int) -> list[int]:
        """Units not started yet that wait for ``unit``, directly or not; they are given up."""
        found = reachable([unit], lambda u: self._children[u]) & self._open
        self._give_up(found)
        return sorted(found)

    def give_up_all(self) -> list[int]:
        """Every unit not started yet; none of them will start."""
        found = set(self._open)
        self._give_up(found)
        return sorted(found)

    def _give_up(self, units: set[int]) -> None:
        self._open -= units
        self._ready = [u for u in self._ready if u not in units]
