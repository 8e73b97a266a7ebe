"""Small builders shared by the tests: a project folder with a manifest and scripts."""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def make_project(
    root: Path,
    manifest: str,
    *,
    sql: dict[str, str] | None = None,
    python: dict[str, str] | None = None,
    env: str = "DATABASE_URL=sqlite:///data/test.db\n",
) -> Path:
    """Write a project in seed 000's layout and return its root."""
    for folder in ("config", "queue", "scripts/sql", "scripts/python", "logs", "data"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "config" / ".env").write_text(env, encoding="utf-8")
    (root / "queue" / "manifest.yaml").write_text(textwrap.dedent(manifest), encoding="utf-8")
    for name, text in (sql or {}).items():
        (root / "scripts" / "sql" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    for name, text in (python or {}).items():
        (root / "scripts" / "python" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@contextmanager
def local_http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (a free port) for the block; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")

# Seed 001's dictionaries, written out here so the tests pin the seed, not the code.
HEALTH_KEYS = {
    "database_name",
    "database_type",
    "status",
    "connection",
    "query_test",
    "migration_status",
    "response_time_ms",
    "timestamp",
}
POOL_KEYS = {
    "database_name",
    "pool_size",
    "checked_in",
    "checked_out",
    "overflow",
    "invalid",
    "timestamp",
}
