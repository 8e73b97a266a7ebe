"""The SQL side of ``run_pages``: a page of runs, its count and its triggers, in three
queries whatever the page (the fires are looked up for the page's runs only)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection, case, func, select

from ordo.store import statements as st
from ordo.store.jobs import JobOrigin
from ordo.store.run_pages import RunPage, Trigger, trigger
from ordo.store.schema import job_definitions, job_runs, schedule_fires, service_runs

__all__ = ["RunPagesTables"]

_r, _j, _f = job_runs.c, job_definitions.c, schedule_fires.c
_BY_SERVICE = (_j.origin != JobOrigin.RUN.value) & (_r.started_at >= _j.created_at)
_SERVICE = case((_BY_SERVICE, True), else_=False).label("by_service")


class RunPagesTables:
    """The ``RunPages`` methods; ``SqlStore`` gives the transactions and the step counts."""

    def _transaction(self, *, write: bool) -> AbstractContextManager[Connection]:
        raise NotImplementedError  # SqlStore's

    @staticmethod
    def _counts(conn: Connection, run_ids: list[str]) -> dict[str, dict[str, int]]:
        raise NotImplementedError  # SqlStore's

    def page_runs(
        self,
        *,
        job: str | None = None,
        statuses: Sequence[str] = (),
        offset: int = 0,
        limit: int = 50,
    ) -> RunPage:
        conditions: list[Any] = []
        if job is not None:
            conditions.append(_j.name == job)
        if statuses:
            conditions.append(_r.status.in_(list(statuses)))
        query = (
            select(*st.RUN_COLUMNS, _SERVICE)
            .join(job_definitions, _r.job_definition_id == _j.id)
            .where(*conditions)
            .order_by(*st.NEWEST_FIRST)
            .offset(max(offset, 0))
            .limit(max(limit, 1))
        )
        counted = select(func.count()).select_from(job_runs)
        if job is not None:
            counted = counted.join(job_definitions, _r.job_definition_id == _j.id)
        counted = counted.where(*conditions)
        with self._transaction(write=False) as conn:
            rows: list[Any] = list(conn.execute(query).all())
            total = int(conn.execute(counted).scalar_one())
            ids = [row.id for row in rows]
            counts = self._counts(conn, ids)
            fired = self._fired(conn, ids)
            queued = self._queued(conn, ids)
        return RunPage(
            runs=tuple(st.run_record(row, counts.get(row.id, {})) for row in rows),
            total=total,
            triggers={
                row.id: queued[row.id][0]
                if row.id in queued
                else trigger(row.id in fired, row.by_service)
                for row in rows
            },
            queue_statuses={run_id: status for run_id, (_, status) in queued.items()},
        )

    def trigger_of(self, run_id: str) -> Trigger | None:
        query = (
            select(_SERVICE)
            .select_from(job_runs)
            .join(job_definitions, _r.job_definition_id == _j.id)
            .where(_r.id == run_id)
        )
        with self._transaction(write=False) as conn:
            row = conn.execute(query).first()
            fired = self._fired(conn, [run_id]) if row is not None else set()
            queued = self._queued(conn, [run_id]) if row is not None else {}
        if row is None:
            return None
        if run_id in queued:
            return queued[run_id][0]
        return trigger(run_id in fired, row.by_service)

    @staticmethod
    def _fired(conn: Connection, run_ids: list[str]) -> set[str]:
        """Which of ``run_ids`` a schedule fire started: one look at the fires for a page."""
        if not run_ids:
            return set()
        query = select(_f.job_run_id).where(_f.job_run_id.in_(run_ids))
        return set(conn.execute(query).scalars())

    @staticmethod
    def _queued(conn: Connection, run_ids: list[str]) -> dict[str, tuple[Trigger, str]]:
        """Of ``run_ids``, the attempts of queued runs, with who asked for each (the queue's
        ``trigger``, which the reading above only guesses) and the queue's status."""
        if not run_ids:
            return {}
        q = service_runs.c
        query = select(q.ordo_run_id, q.trigger, q.status).where(q.ordo_run_id.in_(run_ids))
        return {
            run_id: (Trigger(asked), str(status)) for run_id, asked, status in conn.execute(query)
        }

    def run_job_names(self) -> list[str]:
        with self._transaction(write=False) as conn:
            return list(conn.execute(select(_j.name).order_by(_j.name)).scalars())
