"""The web UI's pages with 10,000 runs in the store: each must answer in under 200 ms.

A project on SQLite with ``--runs`` runs (five steps each) over five jobs, a schedule fire for
every third run, a job with a schedule, and a real log file for the run that is opened. The
UI is served by uvicorn on 127.0.0.1, in this process, and asked over HTTP with a signed-in
session, as a browser would; each page ``--repeat`` times. Prints median, p95 and max in ms.

    uv run python bench/ui_pages.py [--runs 10000] [--repeat 30] [--store sqlite|postgresql]

With ``--store postgresql`` the store is a schema of its own on the test server (dropped
afterwards) instead of the project's SQLite file.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import make_url

from _process import postgres_schema
from ordo.config import Settings
from ordo.service.tokens import create_token
from ordo.service.ui import router
from ordo.store.base import PlannedTask, TaskOutcome, TaskStatus
from ordo.store.jobs import JobOrigin, JobSpec
from ordo.store.postgresql import PostgresStore
from ordo.store.relational import SqlStore
from ordo.store.sqlite import SqliteStore

GOAL_MS = 200.0
T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = ("extract", "stage", "transform", "report", "check")
MANIFEST = "name: bench\nsteps:\n" + "".join(f"  - name: {s}\n    sql: SELECT 1\n" for s in STEPS)


def seed(store: SqlStore, root: Path, runs: int) -> tuple[str, str]:
    (root / "queue").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "queue" / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    job = store.create_job(
        JobSpec(name="job0", manifest="queue/manifest.yaml", schedule="*/5 * * * *"),
        origin=JobOrigin.API,
        at=T0 - timedelta(days=1),
    )
    jobs = [store.record_job(f"job{i}", "queue/manifest.yaml", MANIFEST) for i in range(5)]
    planned = [PlannedTask(step, i + 1, "sql", i + 1) for i, step in enumerate(STEPS)]
    last = ""
    for start in range(0, runs, 500):
        with store.batch():
            for n in range(start, min(start + 500, runs)):
                last = uuid.uuid4().hex
                at = T0 + timedelta(minutes=5 * n)
                store.start_run(
                    last, jobs[n % 5], started_at=at, manifest_text=MANIFEST, tasks=planned
                )
                outcomes = [
                    TaskOutcome(s, TaskStatus.COMPLETED, at=at, rows=n, duration_ms=12.5)
                    for s in STEPS
                ]
                store.task_finished(last, outcomes)
                store.finish_run(
                    last, status="failed" if n % 7 == 0 else "success", at=at + timedelta(seconds=9)
                )
                if n % 3 == 0 and n % 5 == 0:
                    store.claim_fire(job.id, at, at=at, run_id=last)
    stamp = (T0 + timedelta(minutes=5 * (runs - 1))).strftime("%Y%m%d_%H%M%S")
    log = root / "logs" / f"ordo_{stamp}_{last[:8]}.log"
    log.write_text("".join(f"line {i} of the log\n" for i in range(2000)), encoding="utf-8")
    token = create_token(store, "bench", "admin", now=datetime.now(UTC)).token
    return last, token


def serve(app: FastAPI) -> tuple[uvicorn.Server, str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/ui"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    options = parser.parse_args()
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ordo-bench-ui-")))
        store: SqlStore
        if options.store == "postgresql":
            store = PostgresStore(make_url(stack.enter_context(postgres_schema())))
        else:
            store = SqliteStore(root / ".ordo" / "state.db")
        began = time.perf_counter()
        run_id, token = seed(store, root, options.runs)
        print(
            f"seeded {options.runs:,} runs in {options.store} in "
            f"{time.perf_counter() - began:.1f} s"
        )
        app = FastAPI()
        app.include_router(router(store, Settings.load(root, environ={})), prefix="/ui")
        server, base = serve(app)
        pages = {
            "runs, first page": "/runs",
            "runs, last page": f"/runs?page={-(-options.runs // 50)}",
            "runs, failed": "/runs?status=failed&page=10",
            "runs of one job": "/runs?job=job3&page=20",
            "runs table (poll)": "/runs/table",
            "a run": f"/runs/{run_id}",
            "a run, live part": f"/runs/{run_id}/live",
            "jobs": "/jobs",
            "health": "/health",
        }
        worst = 0.0
        with httpx.Client(base_url=base, timeout=30) as client:
            form = client.get("/signin").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf is not None
            client.post("/signin", data={"token": token, "csrf": csrf[1]})
            for name, path in pages.items():
                times = []
                for _ in range(options.repeat):
                    began = time.perf_counter()
                    answer = client.get(path)
                    times.append((time.perf_counter() - began) * 1000)
                    assert answer.status_code == 200, (path, answer.status_code)
                times.sort()
                p95 = times[int(len(times) * 0.95) - 1]
                worst = max(worst, p95)
                print(
                    f"{name:20} median {statistics.median(times):6.1f} ms  "
                    f"p95 {p95:6.1f} ms  max {times[-1]:6.1f} ms"
                )
        verdict = "met" if worst < GOAL_MS else "MISSED"
        print(f"worst p95 {worst:.1f} ms; goal under {GOAL_MS:.0f} ms: {verdict}")
        server.should_exit = True
        store.close()


if __name__ == "__main__":
    main()
