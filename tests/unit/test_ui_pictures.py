"""The UI's server-drawn pictures: a run's dependency graph and a job's duration sparkline,
and the words of durations and statuses."""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET

from ordo.service.ui.graph_svg import dependencies, graph_svg
from ordo.service.ui.sparkline import sparkline_svg
from ordo.service.ui.views import duration_text, status_icon
from ordo.store.base import TaskRecord, TaskStatus

MANIFEST = textwrap.dedent(
    """\
    name: shop
    steps:
      - name: extract
        sql: SELECT 1
      - name: orders
        sql: SELECT 2
      - name: customers
        depends_on: [extract]
        sql: SELECT 3
      - name: report
        depends_on: [orders, customers]
        sql: SELECT 4
    """
)


def task(step: str, position: int, status: TaskStatus = TaskStatus.COMPLETED) -> TaskRecord:
    return TaskRecord(
        id=step, step=step, position=position, task_type="sql", unit_index=position,
        transaction_group=None, status=status, attempt_count=1, max_attempts=None, error=None,
        rows_affected=None, duration_ms=None, started_at=None, completed_at=None,
    )  # fmt: skip


def test_dependencies_are_read_from_the_manifest_text_the_run_kept() -> None:
    steps = ["extract", "orders", "customers", "report"]
    assert dependencies(MANIFEST, steps) == {
        "extract": [],
        "orders": ["extract"],
        "customers": ["extract"],
        "report": ["orders", "customers"],
    }


def test_a_step_left_out_of_the_run_passes_its_dependencies_on() -> None:
    assert dependencies(MANIFEST, ["extract", "customers", "report"]) == {
        "extract": [],
        "customers": ["extract"],
        "report": ["customers"],
    }


def test_a_text_that_does_not_parse_is_drawn_as_the_order_of_the_steps() -> None:
    assert dependencies("steps: [: nope", ["a", "b", "c"]) == {"a": [], "b": ["a"], "c": ["b"]}


def test_the_graph_is_valid_svg_with_a_box_per_step_and_an_arrow_per_dependency() -> None:
    tasks = [
        task("extract", 1),
        task("orders", 2),
        task("customers", 3, TaskStatus.FAILED),
        task("report", 4, TaskStatus.SKIPPED),
    ]
    drawn = graph_svg(tasks, dependencies(MANIFEST, [t.step for t in tasks]))
    root = ET.fromstring(drawn)
    svg = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f".//{svg}rect")) == 4
    assert len(root.findall(f".//{svg}path[@class='edge']")) == 4
    links = [(a.get("href"), a.get("class")) for a in root.findall(f"{svg}a")]
    assert links == [
        ("#step-1", "node completed"),
        ("#step-2", "node completed"),
        ("#step-3", "node failed"),
        ("#step-4", "node skipped"),
    ]
    rows = {
        a.findtext(f"{svg}title"): a.find(f"{svg}rect").get("y") for a in root.findall(f"{svg}a")
    }  # type: ignore[union-attr]
    assert rows["orders: completed"] == rows["customers: failed"]  # side by side, one row
    assert int(rows["report: skipped"]) > int(rows["orders: completed"])  # arrows point down


def test_names_are_escaped_and_long_ones_shortened() -> None:
    long = "<script>" + "x" * 40
    drawn = graph_svg([task(long, 1)], {long: []})
    assert "<script>" not in drawn
    ET.fromstring(drawn)
    assert re.search(r'class="name">&lt;script&gt;x+…</text>', drawn)


def test_the_sparkline_marks_failed_runs_and_scales_to_the_longest() -> None:
    drawn = sparkline_svg([(1.0, False), (4.0, True), (2.0, False)])
    root = ET.fromstring(drawn)
    svg = "{http://www.w3.org/2000/svg}"
    circles = root.findall(f"{svg}circle")
    assert [c.get("class") for c in circles] == ["ok", "bad", "ok"]
    heights = [float(c.get("cy") or 0) for c in circles]
    assert heights[1] < heights[2] < heights[0]  # the longest is highest
    assert sparkline_svg([]) == ""


def test_durations_and_statuses_in_words() -> None:
    assert duration_text(None) == ""
    assert duration_text(0.42) == "0.4 s"
    assert duration_text(42) == "42 s"
    assert duration_text(185) == "3 min 5 s"
    assert duration_text(7440) == "2 h 4 min"
    assert status_icon("partial_success") == ("partial_success", "◐", "partial success")
    assert status_icon("FAILED") == ("failed", "✗", "failed")
