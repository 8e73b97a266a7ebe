"""The databases of a run: what may run at once on each, and the connections units use.

``Lanes`` keeps the bounds for the runner's scheduler (one thread, no locks); ``Connections``
hands each running unit a connection of its own, from any thread. Connections are checked out
of the engine's pool as units need them and kept for the next unit on the same connection
until the run ends: a checkout costs a ping and a rollback, a third of ordo's own time per
step on PostgreSQL. A connection that saw a failure is given up, so a retry starts clean.

``max_parallel`` bounds the whole run; each database bounds the units that run on it:

- a connection runs at most ``pool_size + max_overflow`` units at a time, its pool's size, so
  no unit ever waits on the pool: the scheduler holds a unit back rather than a thread;
- a SQLite file runs one unit at a time, whatever its pool and however many connection names
  point at it: SQLite has one writer, and two transactions that both read and then write
  deadlock (one fails with "database is locked" at once, before its busy timeout). One at a
  time, no unit waits on another, and parallelism still pays across databases and scripts;
- a DuckDB file cannot be opened by another process while the run holds it, so a unit that
  works outside the run's connections (a python script, a migrate step) does not start while
  a unit runs on such a file, nor such a unit while one of those runs; the run lets go of the
  file before an outside unit starts (``Runner._release_exclusive``). A unit held back by
  this rule stops new units of the other side from starting, so it is not starved;
- an in-memory database lives in one connection (SQLite's is even one per thread): a plan
  that uses one runs one unit at a time.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from ordo.db.dialects import dialect_for

if TYPE_CHECKING:
    from ordo.planning.model import Plan, Unit

__all__ = ["Lanes"]

LOGGER = logging.getLogger("ordo")

INSIDE = "inside"  # on a database that locks out other processes
OUTSIDE = "outside"  # works in its own process or engine


class Lanes:
    """The bounds of the module docstring, kept by the scheduler as units enter and leave."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.exclusive: set[str] = set()
        self._lane: dict[str, str] = {}
        self._limit: dict[str, int] = {}
        self._in_memory = False
        for name in {u.connection for u in plan.units if u.connection is not None}:
            settings = plan.settings.connection(name)
            url = settings.url
            dialect = dialect_for(url.drivername)
            if dialect.is_in_memory(url):
                self._in_memory = True
            if dialect.locks_out_other_processes(url):
                self.exclusive.add(name)
            single_writer = dialect.single_writer_lane(url)
            if single_writer is not None:
                lane = single_writer
                self._limit[lane] = 1
            else:
                lane = f"connection:{name}"
                self._limit[lane] = settings.pool_size + settings.max_overflow
            self._lane[name] = lane
        self._load: Counter[str] = Counter()
        self._sides: Counter[str] = Counter()

    def parallelism(self) -> int:
        wanted = self.plan.manifest.pipeline.max_parallel
        if wanted > 1 and self._in_memory:
            LOGGER.warning("an in-memory database is in the plan: units run one at a time")
            return 1
        return wanted

    def side(self, unit: Unit) -> str | None:
        if not self.exclusive:
            return None
        if unit.transactional and unit.connection is not None:
            return INSIDE if unit.connection in self.exclusive else None
        return OUTSIDE

    def may_start(self, unit: Unit, held: set[str]) -> bool:
        """Whether ``unit`` may start now. ``held`` gathers, over one scheduling pass, the
        sides that must not start new units because an earlier unit waits for them to drain."""
        lane = self._lane.get(unit.connection) if unit.connection is not None else None
        if lane is not None and self._load[lane] >= self._limit[lane]:
            return False
        side = self.side(unit)
        if side is None:
            return True
        other = OUTSIDE if side == INSIDE else INSIDE
        if side in held:
            return False
        if self._sides[other]:
            held.add(other)
            return False
        return True

    def enter(self, unit: Unit, release_exclusive: Callable[[], None]) -> None:
        if unit.connection is not None and unit.connection in self._lane:
            self._load[self._lane[unit.connection]] += 1
        side = self.side(unit)
        if side is not None:
            self._sides[side] += 1
        if side == OUTSIDE:
            release_exclusive()

    def leave(self, unit: Unit) -> None:
        if unit.connection is not None and unit.connection in self._lane:
            self._load[self._lane[unit.connection]] -= 1
        side = self.side(unit)
        if side is not None:
            self._sides[side] -= 1
