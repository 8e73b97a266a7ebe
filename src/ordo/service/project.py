"""The service's use cases on a project folder: what ``ordo token`` and ``ordo jobs`` call.

Each opens the project's store, does one thing and closes it, as ``ordo.api.run_history``
does for ``ordo runs``; ``now`` defaults to the clock, read here at the edge. Reading
(``list_tokens``, ``list_jobs``) creates no store in a project that has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ordo.service import tokens
from ordo.service.jobs import JobOverview, job_overview
from ordo.service.project_jobs import SyncReport, sync_project_jobs
from ordo.service.store import service_store
from ordo.store.tokens import Role, TokenRecord

__all__ = ["create_token", "list_jobs", "list_tokens", "revoke_token", "sync_jobs"]


def create_token(
    name: str,
    role: Role | str,
    *,
    expires: timedelta | str | None = None,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> tokens.NewToken:
    """A new token in the project's store; its text is in the result and nowhere else."""
    with service_store(project, env_file, environ) as (store, _):
        assert store is not None  # created on demand
        return tokens.create_token(store, name, role, expires=expires, now=now or _now())


def list_tokens(
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[TokenRecord]:
    """Every token of the project, by name, without any secret."""
    with service_store(project, env_file, environ, create=False) as (store, _):
        return [] if store is None else store.list_tokens()


def revoke_token(
    name: str,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> None:
    """Revoke the token called ``name``: it stops working at once."""
    with service_store(project, env_file, environ) as (store, _):
        assert store is not None
        tokens.revoke_token(store, name, now=now or _now())


def list_jobs(
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> list[JobOverview]:
    """The project's jobs, by name, each with its next fire."""
    with service_store(project, env_file, environ, create=False) as (store, _):
        return [] if store is None else job_overview(store, now=now or _now())


def sync_jobs(
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> SyncReport:
    """Bring the jobs of the project's ``ordo.yaml`` into its store (see ``project_jobs``)."""
    with service_store(project, env_file, environ) as (store, settings):
        assert store is not None
        return sync_project_jobs(store, settings, now=now or _now())


def _now() -> datetime:
    return datetime.now(UTC)
