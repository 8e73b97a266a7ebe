"""The use cases behind ``ordo runs``: plain functions a Python user can call as well.

They take ``project=``, ``env_file=`` and ``environ=`` like ``ordo.plan``, open the project's
store without creating it (a project that never ran has no history, and looking must not leave
a ``.ordo`` folder behind), read, and close it again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ordo.api._settings import load_settings
from ordo.errors import InvalidInput
from ordo.store.base import RunDetail, RunRecord, StateStore
from ordo.store.factory import open_store

__all__ = ["list_runs", "show_run"]


def list_runs(
    *,
    limit: int = 20,
    job: str | None = None,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[RunRecord]:
    """The ``limit`` most recent runs of the project (of pipeline ``job`` if given)."""
    if limit < 1:
        raise InvalidInput(f"--limit must be at least 1, not {limit}")
    with _store(project, env_file, environ) as store:
        return store.list_runs(limit=limit, job=job)


def show_run(
    run_id: str,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> RunDetail:
    """The run with id (or unique id prefix) ``run_id``, with every step in plan order.

    Raises ``RunNotFound`` (exit code 2) naming the id when no run, or several, match.
    """
    wanted = run_id.strip()
    if not wanted:
        raise InvalidInput("give a run id (or the start of one); `ordo runs` lists them")
    with _store(project, env_file, environ) as store:
        return store.get_run(wanted)


@contextmanager
def _store(
    project: Path | str | None,
    env_file: Path | str | None,
    environ: Mapping[str, str] | None,
) -> Iterator[StateStore]:
    settings = load_settings(project, env_file, environ)
    store = open_store(settings, settings.root, create=False)
    try:
        yield store
    finally:
        store.close()
