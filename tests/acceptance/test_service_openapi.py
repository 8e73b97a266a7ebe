"""The API over its own OpenAPI schema: schemathesis with an admin token finds no 5xx, and
without a token every endpoint but /health answers 401."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.project import make_project
from tests.support.service import served

MANIFEST = """\
    name: effects
    steps:
      - name: one
        sql: SELECT 1
    """


def test_no_server_error_with_an_admin_token(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    with served(root, workers=0) as server:
        with server.client("admin") as admin:
            job = {"name": "effects", "manifest": "queue/manifest.yaml"}
            assert admin.post("/jobs", json=job).status_code == 201
            assert admin.post("/jobs/effects/run", json={}).status_code == 202
        found = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                server.url + "/openapi.json",
                "--header",
                f"Authorization: Bearer {server.tokens['admin']}",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "12",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=540,
            cwd=tmp_path,  # its cache, not in the checkout
            check=False,
        )
        assert found.returncode == 0, found.stdout[-6000:] + found.stderr[-2000:]
        assert "500 Internal Server Error" not in server.output()


def test_every_endpoint_but_health_needs_a_token(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    with served(root, workers=0) as server, httpx.Client(base_url=server.url) as client:
        text = client.get("/openapi.json").text
        assert not re.search(r"seed[\s_-]*00\d", text, re.IGNORECASE)  # no design documents
        schema = json.loads(text)
        asked = 0
        for path, methods in schema["paths"].items():
            for method in methods:
                concrete = re.sub(r"\{[^}]+\}", "some-id", path)
                answer = client.request(method.upper(), concrete, json={})
                expected = 200 if path == "/health" else 401
                assert answer.status_code == expected, (method, path, answer.text)
                asked += 1
        assert asked >= 14


def test_ordo_serve_serves_the_web_ui_at_ui_outside_the_schema(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    with served(root, workers=0) as server, httpx.Client(base_url=server.url) as client:
        paths = client.get("/openapi.json").json()["paths"]
        assert not [path for path in paths if path == "/" or path.startswith("/ui")]
        home = client.get("/")
        assert home.status_code == 307
        assert home.headers["location"] == "/ui/"
        ui = client.get("/ui/", follow_redirects=True)
        assert ui.status_code == 200
        assert str(ui.url).endswith("/ui/signin")
        assert 'id="token"' in ui.text
        assert client.get("/ui/static/style.css").status_code == 200
