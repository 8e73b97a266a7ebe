"""``ordo serve`` and ``ordo worker``: parse the options, then ``ordo.service.serve`` and
``ordo.service.worker`` do the work. Printing only."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from typing import Annotated

import typer

from ordo.cli._guard import guarded
from ordo.cli.options import DebugOpt, EnvFileOpt, ProjectOpt

__all__ = ["serve_command", "worker_command"]

LeaseOpt = Annotated[
    float,
    typer.Option(
        "--lease",
        metavar="SECONDS",
        min=1.0,
        help="How long a worker's claim on a run lasts without a heartbeat; a run whose "
        "worker died is resumed by another after this.",
    ),
]


@guarded
def serve_command(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8080,
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="Local worker processes to start.")
    ] = 2,
    metrics_public: Annotated[
        bool, typer.Option("--metrics-public", help="Serve /metrics without a token.")
    ] = False,
    lease: LeaseOpt = 15.0,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Serve the REST API, run the scheduler and local workers (jobs from ordo.yaml first)."""
    from ordo.service import project as service  # deferred: ordo --help stays fast
    from ordo.service.serve import ServeOptions, serve  # deferred: ordo --help stays fast

    _log_to_stderr()
    report = service.sync_jobs(project=project, env_file=env_file)
    for what, names in (
        ("created", report.created),
        ("updated", report.updated),
        ("disabled", report.disabled),
    ):
        if names:
            sys.stderr.write(f"ordo.yaml: {what} {', '.join(names)}\n")
    sys.stderr.write(
        f"ordo serve: http://{host}:{port} (web UI at /ui/, API docs at /docs), "
        f"{workers} worker(s)\n"
    )
    serve(
        project,
        env_file=env_file,
        options=ServeOptions(
            host=host,
            port=port,
            workers=workers,
            metrics_public=metrics_public,
            lease=timedelta(seconds=lease),
        ),
    )
    return 0


@guarded
def worker_command(
    lease: LeaseOpt = 15.0,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Run queued runs of the project's store (ORDO_STATE_URL: a PostgreSQL one to share)."""
    from ordo.service.worker import WorkerSettings, run_worker  # deferred: ordo --help

    _log_to_stderr()
    run_worker(
        project,
        env_file=env_file,
        settings=WorkerSettings(
            lease=timedelta(seconds=lease), heartbeat=max(min(lease / 5, 2.0), 0.1)
        ),
        on_start=lambda w: sys.stderr.write(f"ordo worker {w.id}: waiting for runs\n"),
    )
    return 0


def _log_to_stderr() -> None:
    """The service's own messages (refused tokens, queued fires, lost runs) on stderr."""
    logger = logging.getLogger("ordo.service")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # not a second time by the console handler of ``ordo``
