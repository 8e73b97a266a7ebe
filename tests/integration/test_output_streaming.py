"""Output files are streamed to a temp file in batches and renamed into place (issue 9, item 8).

Memory and speed are measured by ``bench/output.py``; these tests hold the behaviour: every
row of a result larger than a batch reaches the file in order, and a query that fails part
way through leaves the previous file exactly as it was, with no temp file beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import URL

from ordo.events import RunStatus
from ordo.runner.result import StepStatus
from tests.support.runs import backend_of, make, run

ROWS = 25_001  # more than a few batches, and not a multiple of one

_NUMBERS = {
    "postgresql": f"SELECT g AS i, g * 2 AS twice FROM generate_series(1, {ROWS}) g",
    "duckdb": f"SELECT range + 1 AS i, (range + 1) * 2 AS twice FROM range({ROWS})",
    "mariadb": f"SELECT seq AS i, seq * 2 AS twice FROM seq_1_to_{ROWS}",
}
_RECURSIVE = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) "
    "SELECT i, i * 2 AS twice FROM n"
)
# A statement that fails after many rows have been produced.
_FAILING = {
    "postgresql": "SELECT g, 1 / (5000 - g) AS boom FROM generate_series(1, 10000) g",
    "duckdb": "SELECT range, CASE WHEN range = 5000 THEN error('boom') END AS boom "
    "FROM range(10000)",
    "sqlite": _RECURSIVE.format(rows=10000).replace(
        "i * 2 AS twice", "CASE WHEN i = 5000 THEN json('not json') END AS boom"
    ),
}


def _numbers(url: URL) -> str:
    return _NUMBERS.get(backend_of(url), _RECURSIVE.format(rows=ROWS))


def _project(tmp_path: Path, url: URL, sql: str, output: str) -> Path:
    manifest = (
        "name: streamed\nsteps:\n  - name: report\n"
        f"    sql: {json.dumps(sql)}\n    output_file: results/{output}\n"
    )
    return make(tmp_path, url, manifest)


@pytest.mark.parametrize("output", ["out.csv", "out.json"])
def test_every_row_of_a_large_result_reaches_the_file(
    tmp_path: Path, db_url: URL, output: str
) -> None:
    root = _project(tmp_path, db_url, _numbers(db_url), output)
    result = run(root)
    assert result.status is RunStatus.SUCCESS, result.step("report").error
    text = (root / "results" / output).read_text(encoding="utf-8")
    if output.endswith(".csv"):
        lines = text.splitlines()
        assert lines[0] == "i,twice"
        assert lines[1:] == [f"{i},{i * 2}" for i in range(1, ROWS + 1)]
    else:
        records = json.loads(text)
        assert records == [{"i": i, "twice": i * 2} for i in range(1, ROWS + 1)]
    assert result.step("report").rows == ROWS
    assert list(root.rglob("*ordo-tmp*")) == []


@pytest.mark.parametrize("backend", sorted(_FAILING))
@pytest.mark.parametrize("output", ["out.csv", "out.json"])
def test_a_query_failing_part_way_leaves_the_previous_file(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str, output: str
) -> None:
    if backend == "postgresql":
        request.applymarker(pytest.mark.postgres)
    fixture = "postgres_url" if backend == "postgresql" else f"{backend}_url"
    url: URL = request.getfixturevalue(fixture)
    root = _project(tmp_path, url, _FAILING[backend], output)
    previous = root / "results" / output
    previous.parent.mkdir()
    previous.write_text("the previous run's rows\n", encoding="utf-8")

    result = run(root)

    assert result.status is RunStatus.FAILED
    assert result.step("report").status is StepStatus.FAILED
    assert previous.read_text(encoding="utf-8") == "the previous run's rows\n"
    assert list(root.rglob("*ordo-tmp*")) == []
