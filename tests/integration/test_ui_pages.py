"""The web UI over HTTP, against a real uvicorn serving the router on a real SQLite store:
sign-in and its cookie, CSRF, roles, the pages' content, live fragments, paging, masking."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import URL

from ordo.service.store import service_store
from ordo.service.tokens import revoke_token
from ordo.store.tokens import Role, token_hash
from tests.support.ui import SECRET_VALUE, UiProject, UiServer, plant_run, ui_project

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> UiProject:
    made = ui_project(tmp_path_factory.mktemp("ui"))
    for i in range(120):  # three pages of another job's runs, 60 of them failed
        plant_run(
            made.root,
            "bulk",
            started=T0 + timedelta(minutes=i),
            status="failed" if i % 2 else "success",
        )
    return made


@pytest.fixture(scope="module")
def server(project: UiProject) -> Iterator[UiServer]:
    with UiServer(project.root) as running:
        yield running


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def client(server: UiServer) -> httpx.Client:
    """A browser stand-in with a cookie jar of its own (closed after the test)."""
    made = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)
    _OPEN.append(made)
    return made


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found[1]


def signed_in(server: UiServer, token: str) -> tuple[httpx.Client, str]:
    """A client signed in with ``token``, and the CSRF token of its forms."""
    browser = client(server)
    form = browser.get("/signin")
    answer = browser.post("/signin", data={"token": token, "csrf": csrf_of(form.text)})
    assert answer.status_code == 303, answer.text
    runs = browser.get("/runs")
    assert runs.status_code == 200
    return browser, csrf_of(runs.text)


# -- sign-in ---------------------------------------------------------------------------------


def test_pages_send_a_browser_without_a_session_to_sign_in(server: UiServer) -> None:
    for path in ("/runs", "/jobs", "/health", "/runs/abc"):
        answer = client(server).get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].endswith("/ui/signin")
    assert client(server).get("/runs/table").status_code == 401


def test_a_token_becomes_an_http_only_strict_cookie_without_the_token(
    server: UiServer, project: UiProject
) -> None:
    browser = client(server)
    form = browser.get("/signin")
    token = project.tokens[Role.VIEWER]
    answer = browser.post("/signin", data={"token": token, "csrf": csrf_of(form.text)})
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "ordo_session=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert token not in cookie
    assert browser.get("/runs").status_code == 200


def test_a_wrong_token_or_a_form_without_its_csrf_token_does_not_sign_in(
    server: UiServer, project: UiProject
) -> None:
    browser = client(server)
    form = browser.get("/signin")
    wrong = browser.post("/signin", data={"token": "ordo_nope", "csrf": csrf_of(form.text)})
    assert wrong.status_code == 401
    assert "not a token this server knows" in wrong.text
    assert "ordo_session" not in wrong.headers.get("set-cookie", "")
    forged = client(server).post("/signin", data={"token": project.tokens[Role.ADMIN]})
    assert forged.status_code == 403
    assert "ordo_session" not in forged.headers.get("set-cookie", "")


def test_a_changed_cookie_is_refused(server: UiServer, project: UiProject) -> None:
    browser, _ = signed_in(server, project.tokens[Role.VIEWER])
    cookie = browser.cookies["ordo_session"]
    body, signature = cookie.split(".")
    other = client(server)
    other.cookies.set("ordo_session", body + "." + signature[:-2] + "AA", path="/ui")
    assert other.get("/runs").status_code == 303


def test_sign_out_clears_the_session(server: UiServer, project: UiProject) -> None:
    browser, csrf = signed_in(server, project.tokens[Role.VIEWER])
    assert browser.post("/signout", data={}).status_code == 403  # no CSRF token: refused
    answer = browser.post("/signout", data={"csrf": csrf})
    assert answer.status_code == 303
    assert 'ordo_session=""' in answer.headers["set-cookie"]
    assert browser.get("/runs").status_code == 303


def test_revoking_the_token_ends_its_sessions_at_once(server: UiServer, project: UiProject) -> None:
    with service_store(project.root, environ={}) as (store, _):
        assert store is not None
        from ordo.service.tokens import create_token

        made = create_token(store, "short-lived", Role.VIEWER, now=datetime.now(UTC))
    browser, _ = signed_in(server, made.token)
    with service_store(project.root, environ={}) as (store, _):
        assert store is not None
        assert store.find_token(token_hash(made.token)) is not None
        revoke_token(store, "short-lived", now=datetime.now(UTC))
    assert browser.get("/runs").status_code == 303


# -- the runs list -----------------------------------------------------------------------------


def test_the_runs_list_is_newest_first_paged_and_filtered(
    server: UiServer, project: UiProject
) -> None:
    browser, _ = signed_in(server, project.tokens[Role.VIEWER])
    bulk = browser.get("/runs", params={"job": "bulk"}).text
    assert "120 runs, page 1 of 3" in bulk
    times = re.findall(r'<time datetime="([^"]+)"', bulk)
    assert len(times) == 50
    assert times == sorted(times, reverse=True)
    assert times[0].startswith("2026-03-01T13:59")  # the newest of the planted runs
    last = browser.get("/runs", params={"job": "bulk", "page": 3}).text
    assert "page 3 of 3" in last
    assert len(re.findall(r"<time datetime", last)) == 20
    failed = browser.get("/runs", params={"job": "bulk", "status": "failed"}).text
    assert "60 runs, page 1 of 2" in failed
    assert "badge success" not in failed
    assert 'class="badge failed"' in failed


def test_a_run_row_shows_job_status_icon_duration_and_trigger(
    server: UiServer, project: UiProject
) -> None:
    browser, _ = signed_in(server, project.tokens[Role.VIEWER])
    page = browser.get("/runs", params={"job": "sales"}).text
    assert "2 runs" in page
    assert '<span class="icon" aria-hidden="true">✓</span> success' in page
    assert '<span class="icon" aria-hidden="true">✗</span> failed' in page
    assert '<td class="wide">CLI</td>' in page
    assert re.search(r'<td class="num">\d+\.\d s</td>', page)


def test_the_list_polls_its_fragment_only_while_a_run_is_active(
    server: UiServer, project: UiProject
) -> None:
    browser, _ = signed_in(server, project.tokens[Role.VIEWER])
    quiet = browser.get("/runs/table", params={"job": "sales"}).text
    assert 'data-active="false"' in quiet
    plant_run(project.root, "live-list", started=datetime.now(UTC), status=None)
    going = browser.get("/runs/table", params={"job": "live-list"}).text
    assert 'data-active="true"' in going
    assert "● running" in going.replace('<span class="icon" aria-hidden="true">', "").replace(
        "</span>", ""
    )


# -- a run -------------------------------------------------------------------------------------


def test_a_run_page_has_its_steps_graph_log_and_manifest(
    server: UiServer, project: UiProject
) -> None:
    browser, _ = signed_in(server, project.tokens[Role.VIEWER])
    page = browser.get(f"/runs/{project.runs[1]}").text
    steps = re.findall(
        r'<tr id="step-(\d+)" class="step (\w+)">\s*<td[^>]*>\d+</td>\s*<td>([^<]+)', page
    )
    assert steps == [
        ("1", "completed", "create"),
        ("2", "completed", "load"),
        ("3", "completed", "report"),
        ("4", "failed", "check amounts"),
    ]
    assert "amount_positive</strong> fail" in page  # the failing check, with its sample rows
    assert "<td>-5</td>" in page
    assert '<svg class="graph"' in page
    assert page.count('class="edge"') == 3  # create->load, load->report, load->check
    assert "run " + project.runs[1] + " started" in page  # the whole log, once finished
    assert "finished: failed" in page
    assert "WHERE amount &lt; {{ floor }}" in page  # the exact manifest text it ran with


def test_a_running_run_page_polls_and_shows_the_log_tail_then_the_whole_log(
    server: UiServer, project: UiProject
) -> None:
    started = datetime.now(UTC)
    running = plant_run(project.root, "live-run", started=started, status=None)
    log = project.root / "logs" / f"ordo_{started:%Y%m%d_%H%M%S}_{running[:8]}.log"
    log.write_text("".join(f"log line {i:05d}\n" for i in range(3000)), encoding="utf-8")
    browser, _ = signed_in(server, project.tokens[Role.OPERATOR])
    page = browser.get(f"/runs/{running}/live").text
    assert 'data-active="true"' in page
    assert 'id="cancel"' in page
    assert 'id="again"' not in page
    assert 'data-tail="true"' in page
    assert "log line 02999" in page  # the end of the log
    assert "log line 00000" not in page  # and only the end, while it runs
    with service_store(project.root, environ={}) as (store, _):
        assert store is not None
        store.finish_run(running, status="success", at=started + timedelta(seconds=1))
    done = browser.get(f"/runs/{running}/live").text
    assert 'data-active="false"' in done
    assert "log line 00000" in done  # all of it once the run has ended
    assert 'id="cancel"' not in done


def test_an_unknown_run_is_a_404_page(server: UiServer, project: UiProject) -> None:
    browser, _ = signed_in(server, project.tokens[Role.VIEWER])
    answer = browser.get("/runs/ffffffffffff")
    assert answer.status_code == 404
    assert "no run with id" in answer.text


# -- roles and CSRF on the buttons --------------------------------------------------------------

BUTTONS = ('id="resume"', 'id="again"')


def test_a_viewer_sees_no_buttons_and_its_forged_forms_are_refused(
    server: UiServer, project: UiProject
) -> None:
    browser, csrf = signed_in(server, project.tokens[Role.VIEWER])
    run_page = browser.get(f"/runs/{project.runs[1]}").text
    assert not any(button in run_page for button in BUTTONS)
    jobs = browser.get("/jobs").text
    assert "Trigger</button>" not in jobs
    assert "Disable</button>" not in jobs
    for path in (
        f"/runs/{project.runs[1]}/resume",
        f"/runs/{project.runs[1]}/again",
        f"/runs/{project.runs[1]}/cancel",
        f"/jobs/{project.job_id}/trigger",
        f"/jobs/{project.job_id}/disable",
    ):
        answer = browser.post(path, data={"csrf": csrf})
        assert answer.status_code == 403, path
        assert "viewer token" in answer.text


def test_an_operator_sees_the_run_buttons_and_they_queue_runs(
    server: UiServer, project: UiProject
) -> None:
    browser, csrf = signed_in(server, project.tokens[Role.OPERATOR])
    failed_run = browser.get(f"/runs/{project.runs[1]}").text
    assert all(button in failed_run for button in BUTTONS)
    good_run = browser.get(f"/runs/{project.runs[0]}").text
    assert 'id="resume"' not in good_run  # nothing to resume in a run that succeeded
    jobs = browser.get("/jobs").text
    assert "Trigger</button>" in jobs
    assert "Disable</button>" not in jobs  # enabling and disabling jobs is an admin's
    no_csrf = browser.post(f"/runs/{project.runs[1]}/resume", data={})
    assert no_csrf.status_code == 403
    assert "reload the page" in no_csrf.text
    resumed = browser.post(f"/runs/{project.runs[1]}/resume", data={"csrf": csrf})
    assert resumed.status_code == 303
    resumed_id = resumed.headers["location"].rsplit("/", 1)[-1]
    trigger = browser.post(
        f"/jobs/{project.job_id}/trigger", data={"csrf": csrf, "params": "floor: 5"}
    )
    assert trigger.status_code == 303
    triggered_id = trigger.headers["location"].rsplit("/", 1)[-1]
    with service_store(project.root, environ={}) as (store, _):
        assert store is not None
        resumed_run = store.get_service_run(resumed_id)  # this server has no workers
        assert resumed_run.select == ["check amounts"]  # the step that did not complete
        assert str(resumed_run.status) == "PENDING"
        assert store.get_service_run(triggered_id).params == {"floor": 5}
    waiting = browser.get(f"/runs/{triggered_id}").text
    assert "◷</span> queued" in waiting
    assert 'id="cancel"' in waiting
    assert "Waiting for a worker" in waiting
    listed = browser.get("/runs?status=PENDING").text
    assert triggered_id in listed
    assert resumed_id in listed
    cancelled = browser.post(f"/runs/{triggered_id}/cancel", data={"csrf": csrf})
    assert cancelled.status_code == 303
    page = browser.get(f"/runs/{triggered_id}").text
    assert "⊘</span> cancelled" in page
    assert 'id="cancel"' not in page
    ended = browser.post(f"/runs/{project.runs[0]}/cancel", data={"csrf": csrf})
    assert ended.status_code == 409
    assert "ordo run" in ended.text  # a run of the command line is stopped where it runs
    again = browser.post(f"/runs/{project.runs[0]}/again", data={"csrf": csrf})
    assert again.status_code == 303  # a run of `ordo run`, again through its job
    again_id = again.headers["location"].rsplit("/", 1)[-1]
    with service_store(project.root, environ={}) as (store, _):
        assert store is not None
        queued_again = store.get_service_run(again_id)
        assert (queued_again.job_id, queued_again.select) == (project.job_id, [])
    browser.post(f"/runs/{again_id}/cancel", data={"csrf": csrf})
    bad = browser.post(f"/jobs/{project.job_id}/trigger", data={"csrf": csrf, "params": "- x"})
    assert bad.status_code == 409
    assert "params must be one" in bad.text
    browser.post(f"/runs/{resumed_id}/cancel", data={"csrf": csrf})  # leave the queue empty


def test_an_admin_disables_and_enables_a_job(server: UiServer, project: UiProject) -> None:
    browser, csrf = signed_in(server, project.tokens[Role.ADMIN])
    jobs = browser.get("/jobs").text
    assert "every day at 02:30" in jobs.lower() or "02:30" in jobs
    assert "<code>30 2 * * *</code>" in jobs
    assert browser.post(f"/jobs/{project.job_id}/disable", data={"csrf": csrf}).status_code == 303
    with service_store(project.root, environ={}) as (store, _):
        assert store is not None
        assert store.get_job(project.job_id).spec.enabled is False
    disabled = browser.get("/jobs").text
    assert "Enable</button>" in disabled
    assert browser.post(f"/jobs/{project.job_id}/enable", data={"csrf": csrf}).status_code == 303
    with service_store(project.root, environ={}) as (store, _):
        assert store is not None
        assert store.get_job(project.job_id).spec.enabled is True


# -- jobs, health, assets, secrets --------------------------------------------------------------


def test_the_jobs_page_has_next_fire_last_run_and_a_sparkline(
    server: UiServer, project: UiProject
) -> None:
    browser, _ = signed_in(server, project.tokens[Role.VIEWER])
    jobs = browser.get("/jobs").text
    assert re.search(r'Next fire</dt><dd><time datetime="[^"]+T02:30:00\+00:00"', jobs)
    assert '<svg class="spark"' in jobs
    assert jobs.count("<circle") == 2  # the two runs of the job's pipeline


def test_the_health_page_shows_each_connection_the_workers_and_the_queue(
    server: UiServer, project: UiProject
) -> None:
    browser, _ = signed_in(server, project.tokens[Role.VIEWER])
    page = browser.get("/health").text
    assert "<td>default</td><td>sqlite</td>" in page
    assert "✓</span> healthy" in page
    assert "<td>reports</td><td>postgresql</td>" in page  # nothing listens on its port
    assert "✗</span> unhealthy" in page
    assert "No workers are running." in page  # this server was started with none
    assert re.search(r'Queue depth: <strong id="queue-depth">\d+</strong>', page)


def test_assets_are_served_by_ordo_and_pages_name_nothing_external(
    server: UiServer, project: UiProject
) -> None:
    browser, _ = signed_in(server, project.tokens[Role.ADMIN])
    for name in ("style.css", "ui.js"):
        assert browser.get(f"/static/{name}").status_code == 200
    assert browser.get("/static/../routes.py").status_code == 404
    for path in ("/runs", "/jobs", "/health", f"/runs/{project.runs[1]}"):
        answer = browser.get(path)
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        links = re.findall(r'(?:src|href)="([^"#]+)"', answer.text)
        assert all(link.startswith(server.url.rsplit("/ui", 1)[0]) for link in links), links


def test_no_page_shows_a_secret_planted_in_errors_and_logs(
    server: UiServer, project: UiProject
) -> None:
    leaked = f"could not connect: password={SECRET_VALUE} refused; {SECRET_VALUE}"
    run_id = plant_run(
        project.root,
        "leaky",
        started=datetime.now(UTC),
        status="failed",
        error=leaked,
        step_error=leaked,
    )
    log = project.root / "logs" / f"ordo_20260301_120000_{run_id[:8]}.log"
    log.write_text(f"ERROR connecting with {SECRET_VALUE}\n", encoding="utf-8")
    browser, _ = signed_in(server, project.tokens[Role.ADMIN])
    pages = ["/runs", "/runs?job=leaky", "/runs/table", f"/runs/{run_id}", f"/runs/{run_id}/live"]
    pages += ["/jobs", "/health", f"/runs/{project.runs[1]}"]
    for path in pages:
        answer = browser.get(path)
        assert answer.status_code == 200, path
        assert SECRET_VALUE not in answer.text, path
    shown = browser.get(f"/runs/{run_id}").text
    assert "ERROR connecting with ***" in shown  # the log is there, masked
    assert "could not connect" in shown


@pytest.mark.postgres
def test_the_pages_read_a_postgresql_store_too(tmp_path: Path, postgres_url: URL) -> None:
    made = ui_project(tmp_path, state_url=postgres_url.render_as_string(hide_password=False))
    with UiServer(made.root) as served:
        browser, _ = signed_in(served, made.tokens[Role.VIEWER])
        runs = browser.get("/runs").text
        assert "2 runs, page 1 of 1" in runs
        run = browser.get(f"/runs/{made.runs[1]}").text
        assert run.count('class="edge"') == 3
        assert "finished: failed" in run
        jobs = browser.get("/jobs").text
        assert "<code>30 2 * * *</code>" in jobs
        assert jobs.count("<circle") == 2
    assert not (made.root / ".ordo" / "state.db").exists()  # it was PostgreSQL's, not a file
