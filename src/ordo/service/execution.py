"""Attempts of service runs, in a runner process apart from the worker and the API.

Runs go in a process apart so that nothing they do (a python step that hangs, a driver
that leaks, a kind that blocks the GIL) reaches the worker's heartbeats or the API, and so
that a cancel can stop it the way Ctrl-C stops ``ordo run``: a SIGINT, after which the current
unit rolls back and the run ends ``aborted``.

The attempt is ``ordo.run`` on the job's manifest with the run's params and select, with the
run id the claim chose (``ServiceRun.ordo_run_id``) and the service run as the ledger's key
(``RunOptions.service_run``): the manifest is not touched, and an attempt after a crash skips
what an earlier one committed. An extract-load job's one-step manifest is written under
``.ordo/jobs/`` in the project, at a path that stays the same from one attempt to the next.

The process starts before its run is known and may run several in turn (``main``: it loads
ordo, then reads each run's id from its standard input). Each outcome goes back to the worker
as a small JSON file (``write_outcome``): an exit code could not carry the error's text.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ordo.errors import OrdoError
from ordo.service.jobs import extract_load_manifest
from ordo.service.store import service_store
from ordo.store.jobs import JobDefinition
from ordo.store.queue import ServiceRun

__all__ = ["AttemptOutcome", "job_manifest", "main", "read_outcome", "run_attempt"]

JOBS_FOLDER = Path(".ordo") / "jobs"


@dataclass(frozen=True)
class AttemptOutcome:
    """How an attempt ended: ordo's run status (``success``, ...), or ``error`` with the
    message when the run could not start (a manifest that no longer plans, say)."""

    outcome: str
    error: str | None = None


def job_manifest(job: JobDefinition, root: Path) -> Path:
    """The manifest the job runs, inside the project."""
    if job.spec.manifest is not None:
        return root / job.spec.manifest
    path = root / JOBS_FOLDER / f"{job.id}.yaml"
    text = extract_load_manifest(job.spec)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def run_attempt(
    run_id: str,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> AttemptOutcome:
    """Run the service run's current attempt here and now; never raises an ``OrdoError``."""
    from ordo.api.runs import RunOptions, run  # deferred: the worker itself needs no runner

    try:
        with service_store(project, env_file, environ) as (store, settings):
            assert store is not None  # created on demand
            queued: ServiceRun = store.get_service_run(run_id)
            job = store.get_job(queued.job_id)
            root = settings.root
        manifest = job_manifest(job, root)
        params: dict[str, Any] = {**job.spec.params, **queued.params}
        steps = queued.select or job.spec.select or None
        options = RunOptions(
            params=params,
            select=steps,
            run_id=queued.ordo_run_id,
            service_run=queued.id,
        )
        result = run(manifest, project=root, env_file=env_file, environ=environ, options=options)
    except OrdoError as exc:
        return AttemptOutcome("error", str(exc.problems[0]) if exc.problems else exc.message)
    return AttemptOutcome(str(result.status), result.error)


def write_outcome(path: Path, outcome: AttemptOutcome) -> None:
    """Written whole or not at all: the worker takes the file's existence as the run's end."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"outcome": outcome.outcome, "error": outcome.error}), "utf-8")
    partial.replace(path)


def read_outcome(path: Path) -> AttemptOutcome | None:
    """What the attempt wrote; None when it wrote nothing (it was killed)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return AttemptOutcome(str(data["outcome"]), data.get("error"))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ordo.service.execution PROJECT [ENV_FILE]``: a runner process. It loads ordo's
    modules first, then runs each ``RUN_ID<TAB>OUTCOME_FILE`` line of its standard input in
    turn, so that the worker hands a claimed run to a process that is ready (its start, a
    second or so of imports, happens while the worker waits). It ends at the end of its input,
    and after a cancel (the worker's SIGINT)."""
    project, *rest = list(sys.argv[1:] if argv is None else argv)
    env_file = rest[0] if rest else None
    parent = os.environ.get("ORDO_PARENT_PID")
    if parent and parent.isdigit():
        threading.Thread(target=_watch_parent, args=(int(parent),), daemon=True).start()
    _warm_up()
    for line in sys.stdin:
        if not line.strip():
            break
        run_id, outcome_file = line.strip().split("\t", 1)
        try:
            outcome = run_attempt(run_id, project=project, env_file=env_file)
        except KeyboardInterrupt:  # the worker's SIGINT: a cancel; the unit rolled back
            write_outcome(Path(outcome_file), AttemptOutcome("aborted", "cancelled"))
            return 0
        write_outcome(Path(outcome_file), outcome)
    return 0


def _warm_up() -> None:
    """Import what a run will need, before there is a run to wait for."""
    import importlib

    for name in (
        "ordo.api.runs",
        "ordo.runner.scheduler",
        "ordo.runner.ledger",
        "ordo.db.engines",
        "ordo.store.sqlite",
        "ordo.store.postgresql",
        "ordo.subscribers.standard",
    ):
        importlib.import_module(name)


def _watch_parent(pid: int) -> None:
    """Where no parent-death signal exists: end, as if killed, once the worker is gone."""
    while os.getppid() == pid:
        time.sleep(0.5)
    os._exit(137)


if __name__ == "__main__":
    raise SystemExit(main())
