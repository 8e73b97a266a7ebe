"""What planning says about YAML forms (issue 8, items 2 and 3): the syntax error's first line,
merge keys, ``x-`` keys, and the one form that cannot be recorded in place."""

from __future__ import annotations

from pathlib import Path

import pytest

import ordo
from tests.support.project import make_project


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    return [str(p) for p in caught.value.problems]


def test_an_unclosed_quote_names_the_line_it_opens_on(tmp_path: Path) -> None:
    root = make_project(tmp_path, 'steps:\n  - name: "a\n    sql: SELECT 1\n\n')
    [problem] = problems_of(root)
    assert "manifest.yaml:2" in problem
    assert "while scanning a quoted scalar" in problem


def test_the_line_where_the_parser_noticed_is_named_too(tmp_path: Path) -> None:
    root = make_project(tmp_path, "steps:\n  - name: a\n   sql: b\n")
    [problem] = problems_of(root)
    assert "manifest.yaml:2" in problem
    assert "while parsing a block collection" in problem
    assert "(noticed on line 3)" in problem


def test_an_error_without_context_names_its_line(tmp_path: Path) -> None:
    root = make_project(tmp_path, "steps:\n  - name: a\n    sql: b: c\n")
    [problem] = problems_of(root)
    assert "manifest.yaml:3" in problem, problem
    assert "YAML syntax error" in problem


def test_local_keys_override_merged_ones(tmp_path: Path) -> None:
    manifest = """\
x-defaults: &defaults
  name: a
  sql: SELECT 1
steps:
  - <<: *defaults
  - <<: *defaults
    name: b
  - {<<: *defaults, name: c, sql: SELECT 2}
"""
    plan = ordo.plan(project=make_project(tmp_path, manifest), environ={})
    assert [u.steps[0].name for u in plan.units] == ["a", "b", "c"]


def test_x_keys_are_free_and_others_are_still_errors(tmp_path: Path) -> None:
    manifest = "x-anything: {a: 1}\nretyr: 3\nsteps:\n  - {name: a, sql: SELECT 1}\n"
    [problem] = problems_of(make_project(tmp_path, manifest))
    assert "unknown key 'retyr'" in problem
    assert "retry" in problem


def test_a_step_that_is_an_alias_is_refused_at_plan_time_with_its_line(tmp_path: Path) -> None:
    manifest = """\
x-step: &step {name: a, sql: SELECT 1}
steps:
  - {name: b, sql: SELECT 2}
  - *step
"""
    [problem] = problems_of(make_project(tmp_path, manifest))
    assert "manifest.yaml:4" in problem
    assert "alias" in problem
    assert "<<: *" in problem


def test_a_step_merging_another_step_needs_its_own_enabled(tmp_path: Path) -> None:
    manifest = """\
steps:
  - &base {name: a, sql: SELECT 1}
  - {<<: *base, name: b}
  - {<<: *base, name: c, enabled: true}
"""
    [problem] = problems_of(make_project(tmp_path, manifest))
    assert "manifest.yaml:3" in problem
    assert "enabled: true" in problem
