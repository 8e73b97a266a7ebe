"""The web UI in a real browser: Debian's Chromium driven by Playwright, against a real
``ordo serve`` (with a worker) on 127.0.0.1. Sign in, see the runs, trigger a job and watch
its run finish live, open its graph and log, resume it once its cause is fixed, cancel a
running one, the role rules, times in the browser's zone, both widths and both colour
schemes, sign out. Screenshots of every page at 1280 and 390 px go to tests/artifacts/ui/."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ordo.service.jobs import create_job, parse_job
from ordo.service.store import service_store
from ordo.store.base import TaskOutcome, TaskStatus
from ordo.store.queue import ServiceRunStatus
from ordo.store.tokens import Role
from tests.support.browser import ARTIFACTS, chromium_executable
from tests.support.ui import UiProject, UiServer, plant_run, ui_project

WIDTHS = {"wide": (1280, 800), "phone": (390, 844)}
SHOTS = ARTIFACTS / "ui"
# a job the worker runs: it waits ``pause`` seconds, then its last step needs a table
# ``gate`` that the test makes when it fixes the cause
FLOW = """\
name: flow
params: {pause: 2}
steps:
  - name: start
    sql: CREATE TABLE IF NOT EXISTS flow_log (n INTEGER)
  - name: wait
    depends_on: [start]
    file: wait.py
  - name: gate
    depends_on: [wait]
    sql: INSERT INTO flow_log SELECT n FROM gate
"""
WAIT = "import json, os, time\ntime.sleep(float(json.loads(os.environ['ORDO_PARAMS'])['pause']))\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> UiProject:
    made = ui_project(tmp_path_factory.mktemp("ui-browser"))
    plant_run(made.root, "tokyo", started=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    (made.root / "queue" / "flow.yaml").write_text(FLOW, encoding="utf-8")
    (made.root / "scripts" / "python" / "wait.py").write_text(WAIT, encoding="utf-8")
    with service_store(made.root, environ={}) as (store, settings):
        assert store is not None
        create_job(
            store,
            parse_job({"name": "flow", "manifest": "queue/flow.yaml"}),
            settings,
            now=datetime.now(UTC),
        )
    return made


@pytest.fixture(scope="module")
def server(project: UiProject) -> Iterator[UiServer]:
    with UiServer(project.root, workers=1) as running:
        yield running


def queue_status(project: UiProject, run_id: str) -> ServiceRunStatus:
    """The queue's status of the run whose attempt (or own) page is ``run_id``."""
    with service_store(project.root, environ={}) as (store, _):
        assert store is not None
        queued = store.run_of_attempt(run_id)
        return (queued or store.get_service_run(run_id)).status


def trigger_flow(page: Page, server: UiServer, pause: int) -> None:
    page.goto(server.url + "/jobs")
    page.fill("#job-flow textarea[name=params]", f"pause: {pause}")
    page.click("#job-flow button.trigger-button")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_executable()
    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=str(executable), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


def open_page(browser: Browser, width: str = "wide", scheme: str = "light") -> Page:
    w, h = WIDTHS[width]
    context = browser.new_context(
        viewport={"width": w, "height": h},
        color_scheme=scheme,  # type: ignore[arg-type]
        locale="en-GB",
        timezone_id="Asia/Tokyo",
    )
    return context.new_page()


def sign_in(page: Page, server: UiServer, token: str) -> None:
    page.goto(server.url + "/runs")
    expect(page).to_have_url(re.compile(r"/ui/signin$"))
    page.fill("#token", token)
    page.click("#signin")
    expect(page).to_have_url(re.compile(r"/ui/runs$"))


def shoot(page: Page, name: str, width: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def test_sign_in_see_runs_open_a_run_and_sign_out(
    browser: Browser, server: UiServer, project: UiProject
) -> None:
    page = open_page(browser)
    sign_in(page, server, project.tokens[Role.VIEWER])
    expect(page.locator("table.runs tbody tr")).to_have_count(3)
    expect(page.locator("header .me")).to_contain_text("viewer-person")
    page.click(f"a[href$='/runs/{project.runs[1]}'] >> nth=0")
    expect(page.locator("h1")).to_contain_text("failed")
    expect(page.locator("svg.graph a.node")).to_have_count(4)
    expect(page.locator("svg.graph a.node.failed")).to_contain_text("check amounts")
    expect(page.locator("#log")).to_contain_text("finished: failed")
    expect(page.locator("table.sample")).to_contain_text("-5")
    page.click("#manifest summary")
    expect(page.locator("pre.manifest")).to_contain_text("depends_on: [load]")
    page.click("#signout")
    expect(page).to_have_url(re.compile(r"/ui/signin$"))
    page.goto(server.url + "/jobs")
    expect(page).to_have_url(re.compile(r"/ui/signin$"))
    page.context.close()


def test_a_run_finishes_live_on_its_page_and_in_the_list(
    browser: Browser, server: UiServer, project: UiProject
) -> None:
    started = datetime.now(UTC)
    run_id = plant_run(project.root, "live", started=started, status=None, steps=("a", "b"))
    page = open_page(browser)
    sign_in(page, server, project.tokens[Role.OPERATOR])
    listing = page.context.new_page()
    listing.goto(server.url + "/runs?job=live")
    expect(listing.locator("table.runs .badge")).to_contain_text("running")
    page.goto(server.url + f"/runs/{run_id}")
    expect(page.locator("h1 .badge")).to_contain_text("running")
    expect(page.locator("#cancel")).to_be_visible()
    page.click("#manifest summary")  # opened while the page refreshes itself
    with service_store(project.root, environ={}) as (store, _):
        assert store is not None
        done = started + timedelta(seconds=3)
        store.task_finished(run_id, [TaskOutcome("a", TaskStatus.COMPLETED, at=done, rows=7)])
        store.task_started(run_id, "b", attempt=1, at=done)
        store.task_finished(run_id, [TaskOutcome("b", TaskStatus.COMPLETED, at=done)])
        store.finish_run(run_id, status="success", at=done)
    expect(page.locator("h1 .badge")).to_contain_text("success", timeout=15_000)
    expect(page.locator("#step-1")).to_contain_text("7")
    expect(page.locator("#cancel")).to_have_count(0)
    expect(page.locator("#again")).to_be_visible()
    expect(page.locator("pre.manifest")).to_be_visible()  # still open after the refreshes
    expect(listing.locator("table.runs .badge")).to_contain_text("success", timeout=15_000)
    listing.goto(server.url + "/runs?job=newcomer")
    expect(listing.locator("#runs .empty")).to_contain_text("No runs")
    plant_run(project.root, "newcomer", started=datetime.now(UTC))
    expect(listing.locator("table.runs tbody tr")).to_have_count(1, timeout=20_000)
    page.context.close()


def test_the_role_rules_in_the_browser(
    browser: Browser, server: UiServer, project: UiProject
) -> None:
    viewer = open_page(browser)
    sign_in(viewer, server, project.tokens[Role.VIEWER])
    viewer.goto(server.url + f"/runs/{project.runs[1]}")
    expect(viewer.locator("#resume")).to_have_count(0)
    expect(viewer.locator("#again")).to_have_count(0)
    viewer.goto(server.url + "/jobs")
    expect(viewer.locator("button.trigger-button")).to_have_count(0)
    expect(viewer.locator("button.toggle")).to_have_count(0)
    csrf = viewer.locator("form.who input[name=csrf]").get_attribute("value")
    assert csrf
    forged = viewer.request.post(  # the form a viewer is not shown, sent with its cookie
        server.url + f"/jobs/{project.job_id}/trigger", form={"csrf": csrf, "params": ""}
    )
    assert forged.status == 403
    assert "this needs operator or above" in forged.text()
    viewer.context.close()

    operator = open_page(browser)
    sign_in(operator, server, project.tokens[Role.OPERATOR])
    operator.goto(server.url + "/jobs")
    expect(operator.locator("button.toggle")).to_have_count(0)
    expect(operator.locator("button.trigger-button")).to_have_count(2)
    operator.context.close()

    admin = open_page(browser)
    sign_in(admin, server, project.tokens[Role.ADMIN])
    admin.goto(server.url + "/jobs")
    admin.click("#job-sales button.toggle")
    expect(admin.locator("#job-sales button.toggle")).to_have_text("Enable")
    expect(admin.locator("#job-sales")).to_contain_text("disabled")
    admin.click("#job-sales button.toggle")
    expect(admin.locator("#job-sales button.toggle")).to_have_text("Disable")
    admin.context.close()


def test_an_operator_triggers_a_job_watches_it_fail_live_and_resumes_it(
    browser: Browser, server: UiServer, project: UiProject
) -> None:
    page = open_page(browser)
    sign_in(page, server, project.tokens[Role.OPERATOR])
    trigger_flow(page, server, pause=2)
    expect(page).to_have_url(re.compile(r"/ui/runs/[\w-]+$"))
    expect(page.locator("h1 .badge")).to_contain_text(re.compile("queued|running"))
    expect(page.locator("h1 .badge")).to_contain_text("running", timeout=30_000)
    expect(page.locator("h1 .badge")).to_contain_text("failed", timeout=30_000)
    failed_id = page.url.rsplit("/", 1)[-1]
    assert queue_status(project, failed_id) is ServiceRunStatus.FAILED
    expect(page.locator("svg.graph a.node")).to_have_count(3)
    expect(page.locator("svg.graph a.node.failed")).to_contain_text("gate")
    expect(page.locator("#log")).to_contain_text("gate")
    expect(page.locator(".steps")).to_contain_text("no such table")
    page.goto(server.url + "/runs?job=flow")
    expect(page.locator("table.runs tbody tr").first).to_contain_text("API")
    page.goto(server.url + f"/runs/{failed_id}")
    with sqlite3.connect(project.root / "data" / "test.db") as db:  # the cause, fixed
        db.execute("CREATE TABLE IF NOT EXISTS gate (n INTEGER)")
        db.execute("INSERT INTO gate VALUES (1)")
    page.click("#resume")
    expect(page.locator("h1 .badge")).to_contain_text("success", timeout=40_000)
    resumed_id = page.url.rsplit("/", 1)[-1]
    assert resumed_id != failed_id
    assert queue_status(project, resumed_id) is ServiceRunStatus.COMPLETED
    expect(page.locator("table.steps tbody tr")).to_have_count(1)  # the step that failed
    expect(page.locator("table.steps")).to_contain_text("gate")
    page.goto(server.url + "/health")
    expect(page.locator("#workers tbody tr")).to_have_count(1)
    expect(page.locator("#queue-depth")).to_have_text("0")
    page.context.close()


def test_an_operator_cancels_a_running_run(
    browser: Browser, server: UiServer, project: UiProject
) -> None:
    page = open_page(browser)
    sign_in(page, server, project.tokens[Role.OPERATOR])
    trigger_flow(page, server, pause=120)
    expect(page.locator("h1 .badge")).to_contain_text("running", timeout=30_000)
    expect(page.locator("#cancel")).to_be_visible()
    page.click("#cancel")
    expect(page.locator("h1 .badge")).to_contain_text("cancelled", timeout=30_000)
    run_id = page.url.rsplit("/", 1)[-1]
    assert queue_status(project, run_id) is ServiceRunStatus.CANCELLED
    expect(page.locator("#cancel")).to_have_count(0)
    page.goto(server.url + "/runs?status=CANCELLED")
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    expect(page.locator("table.runs .badge")).to_contain_text("cancelled")
    page.context.close()


def test_times_are_shown_in_the_browsers_time_zone(
    browser: Browser, server: UiServer, project: UiProject
) -> None:
    page = open_page(browser)
    sign_in(page, server, project.tokens[Role.VIEWER])
    page.goto(server.url + "/runs?job=tokyo")
    shown = page.locator("table.runs time").first
    expect(shown).to_have_attribute("datetime", "2026-03-01T12:00:00+00:00")
    expect(shown).to_contain_text("21:00:00")  # 12:00 UTC is 21:00 in Tokyo
    page.context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_fits_the_screen_in_both_colour_schemes(
    browser: Browser, server: UiServer, project: UiProject, width: str
) -> None:
    paths = {
        "runs": "/runs",
        "run": f"/runs/{project.runs[1]}",
        "jobs": "/jobs",
        "health": "/health",
    }
    backgrounds = {}
    for scheme in ("light", "dark"):
        page = open_page(browser, width, scheme)
        if scheme == "light":
            page.goto(server.url + "/signin")
            shoot(page, "signin", width)
        sign_in(page, server, project.tokens[Role.ADMIN])
        for name, path in paths.items():
            page.goto(server.url + path)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} is wider than a {width} screen by {overflow} px"
            shoot(page, name if scheme == "light" else f"{name}-dark", width)
        backgrounds[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.context.close()
    light, dark = (
        sum(int(n) for n in re.findall(r"\d+", backgrounds[s])[:3]) for s in ("light", "dark")
    )
    assert light > 600  # a light page in light mode
    assert dark < 150  # and a dark one in dark mode
