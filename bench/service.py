"""The service on PostgreSQL: runs triggered through the API, then ``GET /job_runs`` on a
store of 10,000 runs.

Issue 14, point 16. A real ``ordo serve --workers 2`` with its store in a schema of its own.

1. ``--runs`` runs (default 1,000) of a one-step manifest, each triggered with
   ``POST /jobs/{id}/run`` as soon as fewer than ``--in-flight`` (default: one per worker) are
   queued or running, so that a trigger meets an idle worker waiting on LISTEN/NOTIFY. The
   trigger-to-start latency of each run is its ``started_at`` (the worker's claim) minus its
   ``requested_at``, both written by the store's clients on this machine. Prints the median
   and p99 (goal: median under 0.5 s) and runs per second, trigger to finish. Each run is a
   process of its own (``ordo.service.execution``): its start dominates the throughput.
2. The store filled to 10,000 runs (rows inserted straight into the queue's table, finished),
   then ``GET /job_runs`` (a page of 50, newest first, with the total) timed ``--requests``
   times from a client on this machine: median and p99 (goal: p99 under 50 ms).

    uv run python bench/service.py [--runs 1000] [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from _process import ordo_command, postgres_schema


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--in-flight", type=int, default=0, help="default: one per worker")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--fill", type=int, default=10_000)
    args = parser.parse_args()
    with postgres_schema() as state_url, tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _project(root)
        env = {**os.environ, "ORDO_STATE_URL": state_url}
        token = _token(root, env)
        port = _free_port()
        log = (root / "serve.out").open("wb")
        server = subprocess.Popen(
            [ordo_command(), "serve", "--port", str(port), "--workers", str(args.workers)],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            _wait_for(client)
            while len([w for w in client.get("/workers").json() if w["state"] == "idle"]) < (
                args.workers
            ):
                time.sleep(0.1)  # the workers have started and wait for runs
            time.sleep(2)  # and their runner processes have loaded ordo
            spec = {"name": "bench", "manifest": "queue/manifest.yaml", "max_active_runs": 64}
            job = client.post("/jobs", json=spec)
            job.raise_for_status()
            in_flight = args.in_flight or args.workers
            latencies, seconds = _trigger(client, args.runs, in_flight)
            print(f"{args.runs} runs, {args.workers} workers, at most {in_flight} in flight")
            print(
                f"trigger to start: median {statistics.median(latencies) * 1000:.0f} ms, "
                f"p99 {_p99(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
            )
            print(f"throughput: {args.runs / seconds:.2f} runs/s ({seconds:.1f} s in all)")
            _fill(state_url, client.get("/jobs/bench").json()["id"], args.fill - args.runs)
            times = _list_runs(client, args.requests)
            total = client.get("/job_runs").json()["total"]
            print(
                f"GET /job_runs with {total} runs in the store: median "
                f"{statistics.median(times) * 1000:.1f} ms, p99 {_p99(times) * 1000:.1f} ms"
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            log.close()


def _project(root: Path) -> None:
    for name in ("config", "queue", "logs", "data"):
        (root / name).mkdir()
    (root / "config" / ".env").write_text("DATABASE_URL=sqlite:///data/bench.db\n")
    (root / "queue" / "manifest.yaml").write_text(
        "name: bench\nsteps:\n  - name: one\n    sql: SELECT 1\n"
    )


def _token(root: Path, env: dict[str, str]) -> str:
    made = subprocess.run(
        [ordo_command(), "token", "create", "--name", "bench", "--role", "admin"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_for(client: httpx.Client) -> None:
    for _ in range(600):
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("ordo serve did not start")


def _trigger(client: httpx.Client, runs: int, in_flight: int) -> tuple[list[float], float]:
    began = time.monotonic()
    waiting: set[str] = set()
    done: list[dict[str, object]] = []
    sent = 0
    while len(done) < runs:
        while sent < runs and len(waiting) < in_flight:
            answer = client.post("/jobs/bench/run", json={})
            answer.raise_for_status()
            waiting.add(answer.json()["id"])
            sent += 1
        time.sleep(0.02)
        for run_id in list(waiting):
            found = client.get(f"/job_runs/{run_id}").json()
            if found["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                if found["status"] != "COMPLETED":
                    why = found["error_message"]
                    raise SystemExit(f"run {run_id} ended {found['status']}: {why}")
                waiting.discard(run_id)
                done.append(found)
    seconds = time.monotonic() - began
    latencies = [
        (_at(run["started_at"]) - _at(run["requested_at"])).total_seconds() for run in done
    ]
    return latencies, seconds


def _at(text: object) -> datetime:
    return datetime.fromisoformat(str(text))


def _fill(state_url: str, job_id: str, count: int) -> None:
    """Finished runs straight into the queue's table, in batches."""
    from sqlalchemy import create_engine, insert

    from ordo.store.schema import service_runs

    if count <= 0:
        return
    engine = create_engine(state_url.replace("postgresql://", "postgresql+psycopg://", 1))
    start = datetime.now(UTC) - timedelta(days=30)
    rows = [
        {
            "id": str(uuid.uuid4()),
            "job_definition_id": job_id,
            "status": "COMPLETED",
            "outcome": "success",
            "trigger": "api",
            "params": json.dumps({}),
            "select_steps": json.dumps([]),
            "requested_at": start + timedelta(seconds=n),
            "started_at": start + timedelta(seconds=n),
            "finished_at": start + timedelta(seconds=n + 1),
            "attempts": 1,
            "cancel_requested": False,
        }
        for n in range(count)
    ]
    with engine.begin() as conn:
        for first in range(0, count, 1000):
            conn.execute(insert(service_runs), rows[first : first + 1000])
    engine.dispose()


def _list_runs(client: httpx.Client, requests: int) -> list[float]:
    for _ in range(10):  # warm: connections, the plan cache
        client.get("/job_runs").raise_for_status()
    times = []
    for n in range(requests):
        params = {"job": "bench", "status": "COMPLETED"} if n % 2 else {}
        began = time.perf_counter()
        client.get("/job_runs", params=params).raise_for_status()
        times.append(time.perf_counter() - began)
    return times


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


if __name__ == "__main__":
    sys.exit(main())
