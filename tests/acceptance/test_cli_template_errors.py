"""A statement from a Jinja template fails: the error names the file and the template's line.

Issue 9: the database's "LINE 11" pointed at rendered SQL that was shown nowhere, and neither
the file nor its line was named. Now the error says the file, maps the line back to the
template, and the rendered SQL (masked) is kept in the log and in ``ordo runs show``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL

from ordo.api.run_history import list_runs, show_run
from tests.support.cli import Runner
from tests.support.project import database_env, make_project

MANIFEST = """\
name: tpl
ledger: false
params:
  cols: [a, b, c]
steps:
  - name: report
    file: report.sql
"""

# Line 7 of the template; line 11 once the loop has rendered.
TEMPLATE = """\
-- a report
SELECT
{% for c in cols %}
  1 AS {{ c }},
{% endfor %}
  2 AS last
FORM nowhere
"""


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def server_url(request: pytest.FixtureRequest) -> URL:
    fixture = {"postgresql": "postgres_url", "mariadb": "mariadb_url"}[request.param]
    url: URL = request.getfixturevalue(fixture)
    return url


def test_a_failing_template_names_its_file_and_line_and_keeps_the_rendered_sql(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    root = make_project(
        tmp_path / "p", MANIFEST, sql={"report.sql": TEMPLATE}, env=database_env(server_url)
    )

    done = ordo_cli("run", "-y", cwd=root)

    assert done.returncode == 1, done.stdout + done.stderr
    where = "(in scripts/sql/report.sql, line 7 of the template, line 11 as rendered;"
    assert where in done.stdout, done.stdout
    [log] = (root / "logs").glob("ordo_*.log")
    text = log.read_text(encoding="utf-8")
    assert where in text
    assert "report | rendered SQL:" in text
    assert "report |   11  FORM nowhere" in text
    assert "report |    6    1 AS b," in text

    [run] = list_runs(project=root)
    [task] = show_run(run.id, project=root).tasks
    assert "line 7 of the template" in (task.error or "")
    assert "1 AS b," in task.details["rendered_sql"]
    shown = ordo_cli("runs", "show", run.id, cwd=root)
    assert "rendered_sql" in shown.stdout
    assert "FORM nowhere" in shown.stdout


@pytest.mark.postgres
def test_a_failing_plain_file_names_itself_and_the_line(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    manifest = "name: plain\nledger: false\nsteps:\n  - name: report\n    file: report.sql\n"
    root = make_project(
        tmp_path / "p",
        manifest,
        sql={"report.sql": "SELECT 1\nFORM nowhere\n"},
        env=database_env(postgres_url),
    )
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "(in scripts/sql/report.sql, line 2)" in done.stdout
    [log] = (root / "logs").glob("ordo_*.log")
    assert "rendered SQL" not in log.read_text(encoding="utf-8")  # it is the file as written


def test_the_template_line_is_mapped_through_loops_and_kept_when_lines_agree() -> None:
    from ordo.kinds.templating import Renderer, template_lines

    rendered = Renderer().render(TEMPLATE, {"cols": ["a", "b", "c"]}, name="t")
    assert template_lines(TEMPLATE, rendered, 11) == (7, 7)
    assert template_lines(TEMPLATE, rendered, 1) == (1, 1)
    assert template_lines(TEMPLATE, rendered, 6) == (3, 5)  # made by the loop
    same = "SELECT {{ x }}\nFROM t\nWHERE {{ y }}\n"
    assert template_lines(same, "SELECT 1\nFROM t\nWHERE 2 = 2\n", 3) == (3, 3)
    assert template_lines(same, "SELECT 1\n", 9) is None


@pytest.mark.postgres
def test_a_failing_statement_of_a_split_step_names_its_line_in_the_file(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    # The database counts lines of the one statement it was sent: line 3 of the second
    # statement, which starts on line 5, is line 7 of the file.
    manifest = (
        "name: split\nledger: false\nsteps:\n  - name: two\n    file: two.sql\n"
        "    split_statements: true\n"
    )
    sql = "SELECT 1;\n\n-- the second one\n\nSELECT\n  1,\n  (2 2);\n"
    root = make_project(
        tmp_path / "p", manifest, sql={"two.sql": sql}, env=database_env(postgres_url)
    )
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "statement 2 of 2 (line 5)" in done.stdout
    assert "(in scripts/sql/two.sql, line 7)" in done.stdout
