"""A worker: claims queued runs one at a time and runs each in a process of its own.

The worker holds a lease on the run it claimed and extends it at each heartbeat; a worker
killed with SIGKILL stops extending it, and once it runs out the next worker to ask claims the
run again and resumes it (``ordo.service.execution``: the ledger skips what was committed).
Runs go to a runner process started before it is needed (loading ordo's modules while the
worker waits for work), handed each run on its standard input, so that a claimed run does not
wait for an interpreter to start; one that ended a run cleanly takes the next, up to
``RUNS_PER_PROCESS``, and after a cancel or a crash a fresh one takes its place (``close``
ends the one waiting). The attempt's process
is tied to the worker's: it is sent SIGKILL when the worker dies (Linux's parent-death
signal, and a watch on its parent as a fallback), so that an orphan never runs beside the
attempt that resumed it.

A heartbeat that finds the run taken (the lease ran out while this machine was frozen, say)
kills the attempt at once: another worker has it. One that finds a cancel asked for sends the
attempt SIGINT, as Ctrl-C does to ``ordo run``: the current unit rolls back and the run is
``CANCELLED``.

Between runs the worker waits for work with ``ServiceStore.wait_for_work`` (LISTEN/NOTIFY on
PostgreSQL, a short poll on SQLite). Every moment comes from ``clock``, so tests move time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ordo.errors import OrdoError
from ordo.service.execution import AttemptOutcome, read_outcome
from ordo.store.queue import ServiceRun, ServiceRunStatus, WorkerRecord, WorkerState
from ordo.store.service import ServiceStore

__all__ = ["Worker", "WorkerSettings", "die_with_parent", "end_status", "run_worker"]

LOGGER = logging.getLogger("ordo.service")
RUNS_PER_PROCESS = 100  # then a fresh process: whatever a run leaks goes with it


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WorkerSettings:
    """How long a lease lasts, how often the worker beats, how long it waits for work."""

    lease: timedelta = timedelta(seconds=15)
    heartbeat: float = 2.0  # seconds between heartbeats, well under the lease
    poll: float = 0.25  # seconds a wait for work lasts at most

    @property
    def lost_after(self) -> timedelta:
        """A worker silent this long is shown ``lost``."""
        return self.lease


def end_status(outcome: AttemptOutcome | None, *, cancelled: bool) -> ServiceRunStatus:
    """The queue's status for how an attempt ended: only ordo's ``success`` is
    ``COMPLETED``; a partial success had a step fail, and is ``FAILED`` with its outcome."""
    if cancelled:
        return ServiceRunStatus.CANCELLED
    if outcome is not None and outcome.outcome == "success":
        return ServiceRunStatus.COMPLETED
    return ServiceRunStatus.FAILED


class Worker:
    """Claims and runs the runs of ``store``'s queue until ``stop`` is set."""

    def __init__(
        self,
        store: ServiceStore,
        project: Path,
        *,
        settings: WorkerSettings | None = None,
        environ: Mapping[str, str] | None = None,
        env_file: Path | str | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.project = project
        self.env_file = env_file
        self.settings = settings or WorkerSettings()
        self.environ = dict(os.environ if environ is None else environ)
        self.clock = clock
        self.started_at = clock()
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stop = threading.Event()

    def run_forever(self) -> None:
        """Work until ``stop`` is set; a run going on then is finished first."""
        self._beat(WorkerState.IDLE)
        last_beat = self.clock()
        # loading ordo while nothing is queued yet
        self._spare = _start(self.project, self.environ, self.env_file)
        try:
            while not self.stop.is_set():
                try:
                    done = self.run_one()
                except OrdoError as exc:  # the store out of reach: wait, and try again
                    LOGGER.warning("worker %s: %s", self.id, exc.message)
                    self.stop.wait(self.settings.poll * 4)
                    continue
                if done:
                    continue
                if (self.clock() - last_beat).total_seconds() >= self.settings.heartbeat:
                    self._beat(WorkerState.IDLE)
                    last_beat = self.clock()
                self.store.wait_for_work(self.settings.poll)
        finally:
            self.close()
            self._beat(WorkerState.STOPPED)

    def close(self) -> None:
        """End the runner process waiting for a run, if there is one."""
        spare, self._spare = self._spare, None
        if spare is not None and spare.stdin is not None:
            with contextlib.suppress(OSError):
                spare.stdin.close()  # the end of its input: it ends
            try:
                spare.wait(timeout=10)
            except subprocess.TimeoutExpired:
                spare.kill()
                spare.wait()

    def run_one(self) -> bool:
        """Claim one run and see it to its end; False when there was none to claim."""
        run = self.store.claim_next(self.id, lease=self.settings.lease, now=self.clock())
        if run is None:
            return False
        LOGGER.info(
            "worker %s: run %s of job '%s' (attempt %d)",
            self.id,
            run.id,
            run.job_name,
            run.attempts,
        )
        self._beat(WorkerState.BUSY, run.id)
        try:
            self._attempt(run)
        finally:
            self._beat(WorkerState.IDLE)
        return True

    def _attempt(self, run: ServiceRun) -> None:
        with tempfile.TemporaryDirectory(prefix="ordo-attempt-") as folder:
            outcome_file = Path(folder) / "outcome.json"
            process = self._hand_over(f"{run.id}\t{outcome_file}\n".encode())
            cancelled = False
            while not outcome_file.exists():
                try:
                    process.wait(timeout=min(self.settings.heartbeat, 0.05))
                    break  # it ended: killed, or it failed to start
                except subprocess.TimeoutExpired:
                    pass
                beat = self._heartbeat(run)
                if beat is None:  # the lease went to another worker: stop at once
                    LOGGER.warning("worker %s: lost run %s to another worker", self.id, run.id)
                    _end(process)
                    return
                if beat.cancel_requested and not cancelled:
                    cancelled = True
                    process.send_signal(signal.SIGINT)
            outcome = read_outcome(outcome_file)
            self._keep_or_end(process, clean=outcome is not None and not cancelled)
        status = end_status(outcome, cancelled=cancelled)
        error = None if outcome is None else outcome.error
        if outcome is None:
            error = f"the run's process ended without saying how (exit code {process.returncode})"
        self._record_end(
            run,
            status,
            outcome=None if outcome is None else outcome.outcome,
            error=error if status is not ServiceRunStatus.COMPLETED else None,
        )

    def _record_end(
        self, run: ServiceRun, status: ServiceRunStatus, *, outcome: str | None, error: str | None
    ) -> None:
        """Record how the run ended, trying again while the store is out of reach: the run's
        ledger rows are gone by now, so a run left ``RUNNING`` would, once its lease ran out,
        be run again from its start by the next worker."""
        while True:
            try:
                if not self.store.end_service_run(
                    run.id, self.id, status, at=self.clock(), outcome=outcome, error=error
                ):
                    LOGGER.warning(
                        "worker %s: run %s was taken before its end was recorded", self.id, run.id
                    )
                return
            except OrdoError as exc:
                LOGGER.warning(
                    "worker %s: cannot record the end of run %s yet: %s",
                    self.id,
                    run.id,
                    exc.message,
                )
                time.sleep(self.settings.poll * 2)

    def _hand_over(self, line: bytes) -> subprocess.Popen[bytes]:
        """The runner process that takes the run: the one waiting, else a new one."""
        process = self._spare
        self._spare = None
        for _ in range(2):
            if process is None or process.poll() is not None:
                process = _start(self.project, self.environ, self.env_file)
            assert process.stdin is not None
            try:
                process.stdin.write(line)
                process.stdin.flush()
                self._runs_in_spare += 1
                return process
            except OSError:  # it died waiting (killed by hand, say): a fresh one
                _end(process)
                process = None
                self._runs_in_spare = 0
        raise OrdoError("could not start a process for the run")

    def _keep_or_end(self, process: subprocess.Popen[bytes], *, clean: bool) -> None:
        """A runner process that ended its run cleanly takes the next one; after a cancel, a
        crash or ``RUNS_PER_PROCESS`` runs, it goes, and a fresh one waits instead."""
        if clean and process.poll() is None and self._runs_in_spare < RUNS_PER_PROCESS:
            self._spare = process
            return
        _end(process)
        self._runs_in_spare = 0
        self._spare = _start(self.project, self.environ, self.env_file)

    _spare: subprocess.Popen[bytes] | None = None
    _runs_in_spare = 0
    _last_heartbeat: datetime | None = None
    _last_answer: ServiceRun | None = None

    def _heartbeat(self, run: ServiceRun) -> ServiceRun | None:
        """At most one heartbeat per interval; between them, the last answer."""
        now = self.clock()
        last = self._last_heartbeat
        if last is not None and (now - last).total_seconds() < self.settings.heartbeat:
            return self._last_answer
        self._last_heartbeat = now
        self._last_answer = self.store.heartbeat(
            run.id, self.id, lease=self.settings.lease, now=now
        )
        self._beat(WorkerState.BUSY, run.id)
        return self._last_answer

    def _beat(self, state: WorkerState, current: str | None = None) -> None:
        if state is not WorkerState.BUSY:
            self._last_heartbeat = None
        try:
            self.store.worker_beat(
                WorkerRecord(
                    id=self.id,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    state=state,
                    started_at=self.started_at,
                    last_heartbeat=self.clock(),
                    current_run=current,
                )
            )
        except OrdoError as exc:
            LOGGER.warning("worker %s could not record its heartbeat: %s", self.id, exc.message)


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()


def _start(
    project: Path, environ: Mapping[str, str], env_file: Path | str | None = None
) -> subprocess.Popen[bytes]:
    """A spare attempt process, loading ordo while it waits for a run on its stdin."""
    command = [sys.executable, "-m", "ordo.service.execution", str(project)]
    if env_file is not None:
        command.append(str(env_file))
    return subprocess.Popen(
        command,
        env={**environ, "ORDO_PARENT_PID": str(os.getpid())},
        stdin=subprocess.PIPE,
        start_new_session=True,  # a Ctrl-C at the terminal is the worker's to handle
        preexec_fn=die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
    )


def die_with_parent() -> None:
    """In the attempt's process, before it starts: SIGKILL when the worker dies."""
    import ctypes  # deferred: Linux only

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)


def run_worker(
    project: Path | str | None = None,
    *,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    settings: WorkerSettings | None = None,
    on_start: Callable[[Worker], object] | None = None,
) -> None:
    """``ordo worker``: work on the project's store until SIGTERM or Ctrl-C (the run going on
    then is finished first; a second one stops at once, and the run's lease runs out)."""
    from ordo.service.store import service_store

    with service_store(project, env_file, environ) as (store, found):
        assert store is not None  # created on demand
        worker = Worker(store, found.root, settings=settings, environ=environ, env_file=env_file)

        def stop(_signal: int, _frame: object) -> None:
            if worker.stop.is_set():
                raise SystemExit(1)  # the second: now
            worker.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if on_start is not None:
            on_start(worker)
        worker.run_forever()


def main(argv: list[str] | None = None) -> int:
    """``python -m ordo.service.worker PROJECT LEASE_SECONDS [ENV_FILE]``: what ``ordo serve``
    starts."""
    project, lease, *rest = list(sys.argv[1:] if argv is None else argv)
    seconds = float(lease)
    run_worker(
        project,
        env_file=rest[0] if rest else None,
        settings=WorkerSettings(
            lease=timedelta(seconds=seconds), heartbeat=max(min(seconds / 5, 2.0), 0.1)
        ),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
