"""The scheduler: at each tick, every enabled job's due fires, each claimed once, handed on.

Any number of schedulers may tick at once on one store (two ``ordo serve`` replicas on one
PostgreSQL) and any may restart at any moment: what they share is the store. Each reads a
job's last claimed fire, works out the due ones from it (``schedules.due_fires``, by the
job's catchup) and claims each with one ``INSERT`` that only one of them wins
(``ServiceStore.claim_fire``). The winner alone hands the fire to ``on_fire``, with the id
the run will have (kept on the fire's row). So no fire starts twice, and none is skipped: a
fire not claimed yet is due at the next tick of whichever scheduler comes first, and a
restarted one starts from the store, not from memory.

The one gap left: a scheduler that dies between its claim and ``on_fire`` leaves a claimed
fire with no run. The queue (a later part of issue 14) closes it by inserting the run in the
claim's transaction.

The clock is passed in: ``tick(now)``. ``ordo serve`` calls it every few seconds with the
time; tests call it with a simulated one.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ordo.errors import OrdoError
from ordo.service.schedules import due_fires
from ordo.store.base import utc
from ordo.store.jobs import JobDefinition
from ordo.store.service import ServiceStore

__all__ = ["Fire", "FireHandler", "Scheduler"]

LOGGER = logging.getLogger("ordo.service")


@dataclass(frozen=True)
class Fire:
    """A fire this scheduler won: the job, the time it was scheduled for, its run's id."""

    job: JobDefinition
    scheduled_for: datetime
    run_id: str


FireHandler = Callable[[Fire], None]


class Scheduler:
    """Claims due fires in ``store`` and hands each won one to ``on_fire`` (later: queue a
    run). ``name`` is kept with each claim (default: host and pid)."""

    def __init__(
        self, store: ServiceStore, on_fire: FireHandler, *, name: str | None = None
    ) -> None:
        self.store = store
        self.on_fire = on_fire
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"

    def tick(self, now: datetime) -> list[Fire]:
        """Claim and hand on every fire due at ``now``; returns the fires won, oldest first
        per job."""
        now = utc(now)
        won: list[Fire] = []
        for job in self.store.list_jobs():
            if not job.spec.enabled or job.spec.schedule is None:
                continue
            try:
                due = due_fires(job, self.store.last_fire(job.id), now)
            except OrdoError as exc:  # a zone that this machine's tz database lacks, say
                LOGGER.warning("job '%s' is not scheduled: %s", job.name, exc.message)
                continue
            for when in due:
                fire = Fire(job, when, str(uuid.uuid4()))
                if self.store.claim_fire(job.id, when, at=now, by=self.name, run_id=fire.run_id):
                    self.on_fire(fire)
                    won.append(fire)
        return won
