"""A real ``ordo serve`` on 127.0.0.1 for tests: started on a free port, its tokens made, and
stopped (SIGTERM, as a service manager would) with its output kept for the failure message."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ordo.service import project as service
from tests.support.cli import clean_env, ordo_command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Served:
    """A running server: its URL, a token per role, and the environment it runs with."""

    root: Path
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = "admin") -> httpx.Client:
        headers = {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def token(self, name: str, role: str, **kwargs: Any) -> str:
        made = service.create_token(name, role, project=self.root, environ=self.env, **kwargs)
        return made.token

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_run(self, run_id: str, *, done: bool = True, timeout: float = 60) -> Any:
        """The run once it has finished (or, with ``done=False``, once it is running)."""
        wanted = {"COMPLETED", "FAILED", "CANCELLED"} if done else {"RUNNING"}
        deadline = time.monotonic() + timeout
        with self.client("viewer") as client:
            while True:
                found = client.get(f"/job_runs/{run_id}").json()
                if found["status"] in wanted:
                    return found
                assert time.monotonic() < deadline, (found, self.output())
                assert self.process.poll() is None, self.output()
                time.sleep(0.05)


@contextmanager
def served(
    root: Path,
    *,
    env: Mapping[str, str] | None = None,
    workers: int = 2,
    lease: float = 15,
    extra: tuple[str, ...] = (),
) -> Iterator[Served]:
    """``ordo serve`` in ``root`` with ``env`` over a clean environment, until the block ends."""
    environ = clean_env(dict(env or {}))
    port = free_port()
    log = root / "serve.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ordo_command(
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--lease",
                str(lease),
                *extra,
            ),
            cwd=root,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Served(root, f"http://127.0.0.1:{port}", environ, process, log)
    try:
        _wait_for_health(running)
        for role in ("viewer", "operator", "admin"):
            running.tokens[role] = running.token(f"test-{role}", role)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_health(running: Served) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert running.process.poll() is None, running.output()
        try:
            if httpx.get(running.url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, running.output()
        time.sleep(0.05)


def now() -> datetime:
    return datetime.now(UTC)
