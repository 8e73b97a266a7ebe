"""The standard subscribers of a run: when the manifest cannot take a done mark, the run stops
with that error, and everything else on the bus (the store, the notices, the log) still hears
how it ended."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

import ordo
from ordo.api.run_history import list_runs
from ordo.errors import OrdoError
from ordo.events import Event, UnitCommitted
from tests.support.http import PROXY_VARIABLES, local_http_server
from tests.support.project import make_project

MANIFEST = """\
    name: nightly
    steps:
      - name: create
        sql: CREATE TABLE t (x INTEGER)
    """


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def texts() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            seen.append(body.get("text", ""))
            data = json.dumps({"ok": True, "result": {"message_id": 1}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with local_http_server(Handler) as url:
        yield url, seen


class RemoveTheManifest:
    """Takes the manifest away just before the (only) done mark is written: one step, so that
    no earlier mark is being written while the file goes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def handle(self, event: Event) -> None:
        if isinstance(event, UnitCommitted) and event.steps == ("create",):
            self.path.unlink()


def test_a_failing_manifest_recorder_does_not_keep_run_finished_from_the_others(
    tmp_path: Path, texts: tuple[str, list[str]]
) -> None:
    url, seen = texts
    root = make_project(tmp_path / "p", MANIFEST)
    environ = {
        "TELEGRAM_BOT_TOKEN": "1:" + "D" * 35,
        "TELEGRAM_CHAT_ID": "7",
        "TELEGRAM_API_URL": url,
    }
    remover = RemoveTheManifest(root / "queue" / "manifest.yaml")

    with pytest.raises(OrdoError, match="the manifest is gone"):
        ordo.run(project=root, environ=environ, options=ordo.RunOptions(subscribers=[remover]))

    run = list_runs(project=root)[0]
    assert run.status != "running"  # the store recorded the end of the run
    assert any(text.startswith(("❌", "⚠️", "⛔", "✅")) for text in seen[1:]), seen  # a summary
    logs = list((root / "logs").glob("ordo_*.log"))
    assert len(logs) == 1
    assert f"run {run.id} finished" in logs[0].read_text(encoding="utf-8")
