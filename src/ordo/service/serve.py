"""``ordo serve``: the API, the scheduler and N local workers, until SIGTERM or Ctrl-C.

The API runs in this process (uvicorn, FastAPI), the scheduler in a thread of it with a store
connection of its own, ticking every few seconds; each worker is a process of its own
(``python -m ordo.service.worker``), so that no run shares the API's interpreter. More workers,
on this machine or others, join with ``ordo worker`` on the same PostgreSQL store.

When the server stops, the workers are sent SIGTERM: each finishes the run it is on, and one
that has not within ``drain`` seconds is killed: its run's lease runs out, and the next
worker resumes it, as after a crash.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ordo.errors import OrdoError
from ordo.service.scheduler import Fire, Scheduler
from ordo.service.store import service_store
from ordo.service.worker import die_with_parent

__all__ = ["ServeOptions", "serve"]

LOGGER = logging.getLogger("ordo.service")


@dataclass(frozen=True, kw_only=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    metrics_public: bool = False
    lease: timedelta = timedelta(seconds=15)
    tick: float = 2.0  # seconds between the scheduler's ticks
    drain: float = 30.0  # seconds the workers get to finish their runs when the server stops


def serve(
    project: Path | str | None = None,
    *,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    options: ServeOptions | None = None,
) -> None:
    """Serve the project until stopped (the jobs of ``ordo.yaml`` are synced by the caller
    first: ``ordo.service.project.sync_jobs``)."""
    import uvicorn  # deferred: only the server needs it

    from ordo.service.app import create_app  # deferred: FastAPI

    options = options or ServeOptions()
    with service_store(project, env_file, environ) as (_, settings):
        root = settings.root  # the store is made now, before any worker opens it
    stop = threading.Event()
    ticker = threading.Thread(
        target=_tick, args=(root, env_file, environ, options.tick, stop), daemon=True
    )
    workers = [
        _start_worker(root, options.lease, env_file, environ) for _ in range(options.workers)
    ]
    ticker.start()
    try:
        app = create_app(
            root,
            env_file=env_file,
            environ=environ,
            metrics_public=options.metrics_public,
            lost_after=options.lease,
        )
        uvicorn.run(app, host=options.host, port=options.port, log_level="warning")
    finally:
        stop.set()
        _stop_workers(workers, options.drain)
        ticker.join(timeout=options.tick + 5)


def _tick(
    root: Path,
    env_file: Path | str | None,
    environ: Mapping[str, str] | None,
    every: float,
    stop: threading.Event,
) -> None:
    def told(fire: Fire) -> None:
        LOGGER.info(
            "job '%s': queued run %s for %s",
            fire.job.name,
            fire.run_id,
            fire.scheduled_for.isoformat(),
        )

    while not stop.is_set():
        try:
            with service_store(root, env_file, environ) as (store, _):
                assert store is not None
                scheduler = Scheduler(store, told)
                while not stop.is_set():
                    scheduler.tick(datetime.now(UTC))
                    stop.wait(every)
        except OrdoError as exc:  # the store out of reach: say so, and try again
            LOGGER.warning("the scheduler could not tick: %s", exc.message)
            stop.wait(every)


def _start_worker(
    root: Path,
    lease: timedelta,
    env_file: Path | str | None,
    environ: Mapping[str, str] | None,
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "ordo.service.worker", str(root), str(lease.total_seconds())]
    if env_file is not None:
        command.append(str(Path(env_file).resolve()))
    return subprocess.Popen(  # our own module, with our own arguments
        command,
        stdin=subprocess.DEVNULL,
        env=None if environ is None else dict(environ),
        preexec_fn=die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
    )


def _stop_workers(workers: list[subprocess.Popen[bytes]], drain: float) -> None:
    for process in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in workers:
        try:
            process.wait(timeout=drain)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
