"""Every bad input of issue point 7 is reported before anything runs, all at once, with lines."""

from __future__ import annotations

from pathlib import Path

import pytest

import ordo
from tests.support.project import make_project


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    assert caught.value.exit_code == 2
    return [str(p) for p in caught.value.problems]


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    root = make_project(tmp_path, "steps:\n  - name: a\n    sql: [unclosed\n")
    [problem] = problems_of(root)
    assert "manifest.yaml:" in problem
    assert "YAML syntax error" in problem


def test_all_problems_reported_at_once_with_lines_and_steps(tmp_path: Path) -> None:
    manifest = """\
        name: bad
        retyr: 3
        steps:
          - name: one
            file: missing.sql
          - name: two
            sql: SELECT 1
            enabeld: true
          - name: three
            type: sqll
            sql: SELECT 1
          - name: one
            sql: SELECT 2
          - name: five
            sql: SELECT 1
            timeout: soon
          - name: six
            sql: SELECT 1
            connection: warehouse
          - name: seven
            sql: SELECT {{ missing_var }}
          - name: eight
            sql: SELECT 1
            cleanup_target: "bad name; DROP TABLE x"
          - name: nine
            sql: SELECT 1
            output_file: ../outside.csv
        """
    root = make_project(tmp_path, manifest)
    found = problems_of(root)
    text = "\n".join(found)
    expected = [
        ("manifest.yaml:2:", "unknown key 'retyr'", "did you mean 'retry'"),
        ("manifest.yaml:5:", "step 'one'", "file 'missing.sql' not found"),
        ("manifest.yaml:8:", "step 'two'", "unknown key 'enabeld'"),
        ("manifest.yaml:10:", "step 'three'", "unknown step type 'sqll'"),
        ("manifest.yaml:12:", "duplicate step name 'one'", "first used on line 4"),
        ("manifest.yaml:16:", "step 'five'", "'timeout'"),
        ("manifest.yaml:19:", "step 'six'", "unknown connection 'warehouse'"),
        ("step 'seven'", "undefined template variable", "missing_var"),
        ("manifest.yaml:24:", "step 'eight'", "cleanup_target"),
        ("manifest.yaml:27:", "step 'nine'", "outside the project"),
    ]
    for parts in expected:
        assert any(all(p in line for p in parts) for line in found), (parts, text)


def test_missing_sql_and_file_and_both(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        """\
        steps:
          - name: neither
            type: sql
          - name: both
            sql: SELECT 1
            file: a.sql
        """,
        sql={"a.sql": "SELECT 1"},
    )
    found = problems_of(root)
    assert any("neither" in p and "exactly one of 'file' or 'sql'" in p for p in found)
    assert any("both" in p and "exactly one of 'file' or 'sql'" in p for p in found)


def test_group_rules(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        """\
        steps:
          - name: a
            sql: SELECT 1
            transaction_group: 1
          - name: b
            sql: SELECT 1
          - name: c
            sql: SELECT 1
            transaction_group: 1
          - name: d
            file: job.py
            transaction_group: 2
          - name: e
            sql: SELECT 1
            transaction_group: 3
          - name: f
            sql: SELECT 1
            transaction_group: 3
            connection: other
        """,
        python={"job.py": "print('hi')\n"},
        env="DATABASE_URL=sqlite:///data/a.db\nDEVELOPMENT_GLOBAL_OTHER_CONNECTION_STRING=sqlite:///data/b.db\n",
    )
    found = problems_of(root)
    assert any("'c'" in p and "not contiguous" in p and "'b'" in p for p in found), found
    assert any("'d'" in p and "python step cannot be in a transaction group" in p for p in found)
    assert any("'f'" in p and "spans connections" in p for p in found), found


def test_template_error_in_file_points_at_the_file_line(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        "steps:\n  - name: t\n    file: t.sql\n",
        sql={"t.sql": "SELECT 1\nFROM x\nWHERE y = {{ nope }}\n"},
    )
    [problem] = problems_of(root)
    assert "t.sql:3:" in problem
    assert "nope" in problem


def test_params_reach_templates_with_step_over_pipeline(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        """\
        params: {a: pipeline, b: pipeline}
        steps:
          - name: t
            sql: "SELECT {{ a | literal }}, {{ b | literal }}"
            params: {b: step}
        """,
    )
    the_plan = ordo.plan(project=root, environ={})
    step = the_plan.steps[0]
    assert step.statement == "SELECT 'pipeline', 'step'"  # type: ignore[attr-defined]


def test_plan_lines_follow_seed_000(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        """\
        steps:
          - name: Create Table
            sql: CREATE TABLE st_sales (x INT)
            transaction_group: 1
            cleanup_target: ST_SALES
          - name: Insert Data
            sql: INSERT INTO st_sales VALUES (1)
            transaction_group: 1
            params: {region: US}
          - name: Clean Data
            file: clean.py
          - name: Old
            sql: SELECT 1
            enabled: false
        """,
        python={"clean.py": ""},
    )
    assert ordo.plan(project=root, environ={}).lines() == [
        "[1] SQL: Create Table (Group 1) - Cleanup: ST_SALES",
        "[2] SQL: Insert Data (Group 1) - Params: region=US",
        "[3] PY:  Clean Data",
    ]


def test_disabled_steps_are_not_checked_for_files(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        "steps:\n  - name: old\n    file: gone.sql\n    enabled: false  # Done: 2026-01-01\n",
    )
    assert ordo.plan(project=root, environ={}).units == ()


def test_command_line_params_win_over_step_and_pipeline_params(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        """\
        params: {a: pipeline}
        steps:
          - name: t
            sql: "SELECT {{ a | literal }}"
            params: {a: step}
        """,
    )
    the_plan = ordo.plan(project=root, environ={}, options=ordo.RunOptions(params={"a": "cli"}))
    assert the_plan.steps[0].statement == "SELECT 'cli'"  # type: ignore[attr-defined]


def test_an_unknown_key_that_leaves_the_step_incomplete_is_two_problems(tmp_path: Path) -> None:
    """``python: write.py`` (meant as ``file:``) printed a pydantic traceback, exit 0."""
    root = make_project(tmp_path, "steps:\n  - name: a\n    python: write.py\n")
    found = problems_of(root)
    assert any("unknown key 'python'" in p and "manifest.yaml:3" in p for p in found), found
    assert any("exactly one of 'file' or 'sql'" in p for p in found), found


def test_a_step_that_depends_on_a_refused_step_adds_no_second_problem(tmp_path: Path) -> None:
    """The refused step's own problem says what is wrong; 'depends_on names unknown step'
    with a did-you-mean pointing at another step would only mislead."""
    manifest = """\
        steps:
          - name: load orders
            sql: SELECT 1
            timeout: soon
          - name: load order lines
            sql: SELECT 1
          - name: report
            sql: SELECT 1
            depends_on: [load orders, load order linez]
        """
    found = problems_of(make_project(tmp_path, manifest))
    assert len(found) == 2, found
    assert "step 'load orders'" in found[0]
    assert "timeout" in found[0]
    assert "unknown step 'load order linez'" in found[1]  # a real typo is still reported
