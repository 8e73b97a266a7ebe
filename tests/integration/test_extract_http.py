"""``http`` sources against a real local server: pagination, retries, a dropped connection,
secrets from settings masked."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

import ordo
from ordo.loaders import registered
from ordo.loaders.testing import MemoryLoader
from tests.support.http import local_http_server
from tests.support.project import make_project

ITEMS = [{"id": i, "code": f"{i:05d}"} for i in range(1, 8)]  # 7 records


class Api(BaseHTTPRequestHandler):
    """Serves ITEMS in pages of 3 in several styles; counts requests; misbehaves on demand."""

    requests: ClassVar[list[str]] = []
    failures: ClassVar[list[str]] = []  # "429" or "drop" or "500": the next requests' fate
    lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        with self.lock:
            self.requests.append(self.path)
            fate = self.failures.pop(0) if self.failures else None
        if fate == "slow":
            time.sleep(1.0)  # longer than the source's timeout: the client gives up first
        if fate == "drop":
            self.connection.close()  # no answer at all: the client sees the connection drop
            return
        if fate in ("429", "500"):
            self.send_response(int(fate))
            if fate == "429":
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if query.get("key") not in (None, "s3cret-key-42"):
            self.reply(403, {"error": "bad key"})
            return
        if url.path == "/page":
            page = int(query.get("page", "1"))
            self.reply(200, {"data": {"items": ITEMS[(page - 1) * 3 : page * 3]}})
        elif url.path == "/offset":
            offset, limit = int(query["offset"]), int(query["limit"])
            self.reply(200, ITEMS[offset : offset + limit])
        elif url.path == "/cursor":
            start = int(query.get("after", "0"))
            items = ITEMS[start : start + 3]
            more = start + 3 < len(ITEMS)
            self.reply(200, {"items": items, "next": str(start + 3) if more else None})
        elif url.path == "/link":
            page = int(query.get("p", "1"))
            link = f'</link?p={page + 1}>; rel="next"' if page * 3 < len(ITEMS) else None
            self.reply(200, ITEMS[(page - 1) * 3 : page * 3], link=link)
        else:
            self.reply(404, {"error": "no such path"})

    def reply(self, status: int, body: object, link: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if link:
            self.send_header("Link", link)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def api(no_proxy: None) -> Iterator[str]:
    Api.requests.clear()
    Api.failures.clear()
    with local_http_server(Api) as url, registered("memory", MemoryLoader):
        MemoryLoader.received.clear()
        yield url


def load(tmp_path: Path, source: str) -> ordo.RunResult:
    manifest = f"""\
        retry: {{max_retries: 0}}
        steps:
          - name: fetch
            type: load
            source: {source}
            target: {{type: memory, name: out}}
        """
    env = "DATABASE_URL=sqlite:///data/test.db\nAPI_KEY=s3cret-key-42\n"
    root = make_project(tmp_path / "p", manifest, env=env)
    return ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))


@pytest.mark.parametrize(
    ("path", "pagination", "records"),
    [
        ("/page", "{type: page, param: page}", "data.items"),
        ("/offset", "{type: offset, param: offset, size_param: limit, size: 3}", None),
        ("/cursor", "{type: cursor, param: after, cursor_path: next}", "items"),
        ("/link", "{type: next_link}", None),
    ],
)
def test_every_pagination_reads_every_record_once(
    api: str, tmp_path: Path, path: str, pagination: str, records: str | None
) -> None:
    where = f", records: {records}" if records else ""
    result = load(tmp_path, f"{{type: http, url: '{api}{path}', pagination: {pagination}{where}}}")
    assert result.status == "success", result.step("fetch").error
    assert MemoryLoader.received["out"] == ITEMS
    assert result.step("fetch").rows == 7
    assert len(Api.requests) in (3, 4)  # 3 pages, and an empty 4th where nothing says "last"


def test_429_waits_as_retry_after_says_and_a_dropped_connection_is_retried(
    api: str, tmp_path: Path
) -> None:
    Api.failures.extend(["429", "drop", "500"])
    result = load(tmp_path, f"{{type: http, url: '{api}/link', pagination: {{type: next_link}}}}")
    assert result.status == "success", result.step("fetch").error
    assert MemoryLoader.received["out"] == ITEMS
    assert Api.requests[:4] == ["/link"] * 4  # the first page asked four times


def test_retries_give_up_after_max_retries(api: str, tmp_path: Path) -> None:
    Api.failures.extend(["500"] * 5)
    result = load(tmp_path, f"{{type: http, url: '{api}/page', max_retries: 2, backoff: 0}}")
    assert result.status == "failed"
    assert "HTTP 500" in (result.step("fetch").error or "")
    assert len(Api.requests) >= 3


def test_a_secret_from_settings_is_sent_but_never_shown(api: str, tmp_path: Path) -> None:
    source = f"{{type: http, url: '{api}/nowhere', params: {{key: '${{API_KEY}}'}}}}"
    result = load(tmp_path, source)
    assert result.status == "failed"
    error = result.step("fetch").error or ""
    assert "HTTP 404" in error
    assert "key=***" in error
    assert "s3cret" not in error
    assert Api.requests == ["/nowhere?key=s3cret-key-42"]


def test_an_unknown_setting_is_a_plan_problem(api: str, tmp_path: Path) -> None:
    with pytest.raises(ordo.ManifestInvalid, match=r"the setting NOPE \(named as \$\{NOPE\}\)"):
        load(tmp_path, f"{{type: http, url: '{api}/page', headers: {{X-Key: '${{NOPE}}'}}}}")


def test_a_request_that_times_out_is_tried_again(api: str, tmp_path: Path) -> None:
    Api.failures.append("slow")
    source = f"{{type: http, url: '{api}/page', records: data.items, timeout: 0.3, backoff: 0}}"
    result = load(tmp_path, f"{source[:-1]}, pagination: {{type: page, param: page}}}}")
    assert result.status == "success", result.step("fetch").error
    assert MemoryLoader.received["out"] == ITEMS
    assert Api.requests[:2] == ["/page?page=1", "/page?page=1"]


def test_an_api_that_never_ends_stops_at_max_pages(api: str, tmp_path: Path) -> None:
    """The page endpoint ignores the cursor and always has a value at ``data``."""
    pagination = "{type: cursor, param: c, cursor_path: data, max_pages: 3}"
    source = f"{{type: http, url: '{api}/page', records: data.items, pagination: {pagination}}}"
    result = load(tmp_path, source)
    assert result.status == "failed"
    assert "still a next page after 3 pages" in (result.step("fetch").error or "")
    assert len(Api.requests) == 3


def test_an_empty_answer_leaves_the_table_alone(api: str, tmp_path: Path) -> None:
    manifest = f"""\
        steps:
          - name: fetch
            type: load
            source: {{type: http, url: '{api}/offset', params: {{offset: 99, limit: 3}}}}
            target: {{type: table, table: t}}
        """
    root = make_project(tmp_path / "p", manifest)
    result = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
    assert result.status == "success", result.step("fetch").error
    assert result.step("fetch").rows == 0
    [log] = list((root / "logs").glob("ordo_*.log"))
    assert "the source gave no data: table t left as it was" in log.read_text()
