"""Queueing a run of a job: checked first, so a run in the queue is one that can start.

A trigger's params go over the job's own and its select replaces the job's; the manifest is
planned with them (what ``check_job`` does for the job itself) before the run is queued, so
that a typo in a step's name is a 422 naming ``select`` now, not a failed run later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ordo.config import Settings
from ordo.service.jobs import FieldProblem, JobInvalid, check_job
from ordo.store.queue import RunTrigger, ServiceRun
from ordo.store.service import ServiceStore

__all__ = ["trigger_run"]


def trigger_run(
    store: ServiceStore,
    key: str,
    settings: Settings,
    *,
    now: datetime,
    trigger: RunTrigger,
    params: Mapping[str, Any] | None = None,
    select: Sequence[str] | None = None,
) -> ServiceRun:
    """Queue a ``PENDING`` run of the job (by id or name); ``JobInvalid`` naming ``params``
    or ``select`` when the job's manifest does not plan with them."""
    job = store.get_job(key)
    extra: dict[str, Any] = dict(params or {})
    steps: list[str] = list(select or [])
    if job.spec.manifest is None and (extra or steps):
        field = "params" if extra else "select"
        raise JobInvalid(
            job.name,
            [FieldProblem(field, "params and select apply to a manifest; this job has none")],
        )
    if extra or steps:
        spec = job.spec.model_copy(
            update={"params": {**job.spec.params, **extra}, "select": steps or job.spec.select}
        )
        try:
            check_job(spec, settings)
        except JobInvalid as exc:
            field = "select" if steps else "params"
            raise JobInvalid(
                job.name, [FieldProblem(field, p.message, p.hint) for p in exc.fields]
            ) from None
    return store.enqueue_run(job.id, trigger=trigger, at=now, params=extra, select=steps)
