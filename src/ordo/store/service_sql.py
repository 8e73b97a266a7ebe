"""``ServiceStore`` for the SQL stores: jobs, tokens and schedule fires in SQLAlchemy Core.

A mixin of ``SqlStore``, so it shares the store's one held connection and its transactions.
Uniqueness is the database's: a fire is claimed by an ``INSERT ... ON CONFLICT DO NOTHING`` on
the fires' primary key, so of two schedulers (threads, processes or machines) exactly one
inserts the row, with no lock taken and nothing read first.

The PostgreSQL store commits without waiting for the disk (``postgresql``), which a server
crash may cost the last moment of run history. A fire's claim and a token's creation or
revocation are not history: lost, a fire would start twice or a revoked token work again. Their
transactions wait for the flush (``_durable``).
"""

from __future__ import annotations

import json
import uuid
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from ordo.store.base import stored_utc, utc
from ordo.store.jobs import (
    JobDefinition,
    JobOrigin,
    JobSpec,
    job_exists,
    job_has_runs,
    job_not_found,
)
from ordo.store.schema import job_definitions, job_runs, schedule_fires, tokens
from ordo.store.service import FireRecord
from ordo.store.statements import insert_ignoring_duplicates
from ordo.store.tokens import Role, TokenRecord, token_exists

__all__ = ["ServiceTables"]

_j, _k, _f = job_definitions.c, tokens.c, schedule_fires.c
_SERVICE_JOB = _j.origin != JobOrigin.RUN.value


class ServiceTables:
    """The ``ServiceStore`` methods; ``SqlStore`` gives the engine and the transactions."""

    engine: Engine
    _claim: Any = None  # the fires' insert-or-nothing, built on first use

    def _transaction(self, *, write: bool) -> AbstractContextManager[Connection]:
        raise NotImplementedError  # SqlStore's

    # -- jobs ---------------------------------------------------------------------------------

    def create_job(self, spec: JobSpec, *, origin: JobOrigin, at: datetime) -> JobDefinition:
        now = utc(at)
        with self._transaction(write=True) as conn:
            row = conn.execute(select(_j.id, _j.origin).where(_j.name == spec.name)).first()
            if row is not None and row.origin != JobOrigin.RUN.value:
                raise job_exists(spec.name)
            values = {**_job_values(spec), "origin": origin.value, "updated_at": now}
            if row is None:
                job_id = str(uuid.uuid4())
                conn.execute(
                    insert(job_definitions).values(
                        id=job_id,
                        path=spec.manifest or "",
                        definition="",
                        created_at=now,
                        **values,
                    )
                )
            else:  # the row ``ordo run`` made for this pipeline: its runs stay with it
                job_id = str(row.id)
                # Created now as a job: a scheduler counts a new job's fires from then.
                conn.execute(
                    update(job_definitions).where(_j.id == job_id).values(**values, created_at=now)
                )
            return _job(conn.execute(select(job_definitions).where(_j.id == job_id)).one())

    def update_job(
        self, job_id: str, spec: JobSpec, *, at: datetime, origin: JobOrigin | None = None
    ) -> JobDefinition:
        with self._transaction(write=True) as conn:
            old = _job(self._job_row(conn, job_id, by_name=False))
            clash = conn.execute(select(_j.id).where(_j.name == spec.name, _j.id != old.id)).first()
            if clash is not None:
                raise job_exists(spec.name)
            origin = origin or old.origin
            if (old.spec, old.origin) != (spec, origin):
                conn.execute(
                    update(job_definitions)
                    .where(_j.id == old.id)
                    .values(**_job_values(spec), origin=origin.value, updated_at=utc(at))
                )
            return _job(self._job_row(conn, old.id, by_name=False))

    def get_job(self, key: str) -> JobDefinition:
        with self._transaction(write=False) as conn:
            return _job(self._job_row(conn, key, by_name=True))

    def list_jobs(self) -> list[JobDefinition]:
        with self._transaction(write=False) as conn:
            rows = conn.execute(select(job_definitions).where(_SERVICE_JOB).order_by(_j.name))
            return [_job(row) for row in rows]

    def delete_job(self, job_id: str) -> None:
        with self._transaction(write=True) as conn:
            job = _job(self._job_row(conn, job_id, by_name=False))
            runs = conn.execute(
                select(func.count()).where(job_runs.c.job_definition_id == job.id)
            ).scalar_one()
            if runs:
                raise job_has_runs(job.name, runs)
            conn.execute(delete(schedule_fires).where(_f.job_definition_id == job.id))
            conn.execute(delete(job_definitions).where(_j.id == job.id))

    @staticmethod
    def _job_row(conn: Connection, key: str, *, by_name: bool) -> Any:
        row = conn.execute(select(job_definitions).where(_j.id == key, _SERVICE_JOB)).first()
        if row is None and by_name:
            row = conn.execute(select(job_definitions).where(_j.name == key, _SERVICE_JOB)).first()
        if row is None:
            raise job_not_found(key)
        return row

    # -- tokens -------------------------------------------------------------------------------

    def add_token(self, token: TokenRecord, token_hash: str) -> None:
        with self._transaction(write=True) as conn:
            _durable(conn)
            if conn.execute(select(_k.id).where(_k.name == token.name)).first() is not None:
                raise token_exists(token.name)
            conn.execute(
                insert(tokens).values(
                    id=token.id,
                    name=token.name,
                    role=token.role.value,
                    token_hash=token_hash,
                    created_at=utc(token.created_at),
                    expires_at=None if token.expires_at is None else utc(token.expires_at),
                )
            )

    def find_token(self, token_hash: str) -> TokenRecord | None:
        with self._transaction(write=False) as conn:
            row = conn.execute(select(tokens).where(_k.token_hash == token_hash)).first()
        return None if row is None else _token(row)

    def token_used(self, token_id: str, at: datetime) -> None:
        with self._transaction(write=True) as conn:
            conn.execute(update(tokens).where(_k.id == token_id).values(last_used_at=utc(at)))

    def list_tokens(self) -> list[TokenRecord]:
        with self._transaction(write=False) as conn:
            return [_token(row) for row in conn.execute(select(tokens).order_by(_k.name))]

    def revoke_token(self, name: str, at: datetime) -> bool:
        with self._transaction(write=True) as conn:
            _durable(conn)
            found = conn.execute(select(_k.id).where(_k.name == name)).first()
            if found is None:
                return False
            conn.execute(
                update(tokens)
                .where(_k.id == found.id, _k.revoked_at.is_(None))
                .values(revoked_at=utc(at))
            )
            return True

    # -- schedule fires -----------------------------------------------------------------------

    def claim_fire(
        self,
        job_id: str,
        scheduled_for: datetime,
        *,
        at: datetime,
        by: str | None = None,
        run_id: str | None = None,
    ) -> bool:
        if self._claim is None:
            # RETURNING says who inserted: the driver's rowcount is -1 on PostgreSQL here.
            self._claim = insert_ignoring_duplicates(
                self.engine, schedule_fires, ["job_definition_id", "scheduled_for"]
            ).returning(_f.job_definition_id)
        with self._transaction(write=True) as conn:
            _durable(conn)
            result = conn.execute(
                self._claim,
                {
                    "job_definition_id": job_id,
                    "scheduled_for": utc(scheduled_for),
                    "claimed_at": utc(at),
                    "claimed_by": by,
                    "job_run_id": run_id,
                },
            )
            return result.first() is not None

    def last_fire(self, job_id: str) -> datetime | None:
        with self._transaction(write=False) as conn:
            latest = conn.execute(
                select(func.max(_f.scheduled_for)).where(_f.job_definition_id == job_id)
            ).scalar_one_or_none()
        return stored_utc(latest)

    def list_fires(self, job_id: str) -> list[FireRecord]:
        query = (
            select(schedule_fires).where(_f.job_definition_id == job_id).order_by(_f.scheduled_for)
        )
        with self._transaction(write=False) as conn:
            rows = conn.execute(query).all()
        return [
            FireRecord(
                job_id=row.job_definition_id,
                scheduled_for=_at(row.scheduled_for),
                claimed_at=_at(row.claimed_at),
                claimed_by=row.claimed_by,
                run_id=row.job_run_id,
            )
            for row in rows
        ]


def _durable(conn: Connection) -> None:
    """This transaction's commit waits until PostgreSQL has flushed it. (SQLite, on one
    machine, is left as ``sqlite`` sets it: a power cut may lose its last commits.)"""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO on")


def _job_values(spec: JobSpec) -> dict[str, Any]:
    def as_json(value: Any) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True)

    return {
        "name": spec.name,
        "schedule": spec.schedule,
        "timezone": spec.timezone,
        "enabled": spec.enabled,
        "max_active_runs": spec.max_active_runs,
        "catchup": spec.catchup.value,
        "manifest": spec.manifest,
        "params": as_json(spec.params) if spec.manifest is not None else None,
        "select_steps": as_json(spec.select) if spec.manifest is not None else None,
        "extractor_type": spec.extractor_type,
        "extractor_config": as_json(spec.extractor_config),
        "loader_type": spec.loader_type,
        "loader_config": as_json(spec.loader_config),
    }


def _job(row: Any) -> JobDefinition:
    def from_json(text: str | None) -> Any:
        return None if text is None else json.loads(text)

    spec = JobSpec(
        name=row.name,
        schedule=row.schedule,
        timezone=row.timezone,
        enabled=bool(row.enabled),
        max_active_runs=int(row.max_active_runs),
        catchup=row.catchup,
        manifest=row.manifest,
        params=from_json(row.params) or {},
        select=from_json(row.select_steps) or [],
        extractor_type=row.extractor_type,
        extractor_config=from_json(row.extractor_config),
        loader_type=row.loader_type,
        loader_config=from_json(row.loader_config),
    )
    return JobDefinition(
        id=row.id,
        spec=spec,
        origin=JobOrigin(row.origin),
        created_at=_at(row.created_at),
        updated_at=_at(row.updated_at),
    )


def _token(row: Any) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        created_at=_at(row.created_at),
        expires_at=stored_utc(row.expires_at),
        revoked_at=stored_utc(row.revoked_at),
        last_used_at=stored_utc(row.last_used_at),
    )


def _at(moment: datetime) -> datetime:
    found = stored_utc(moment)
    assert found is not None  # a NOT NULL column
    return found
