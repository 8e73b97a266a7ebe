"""Dependency graphs (issue 4, point 4): ordering, unknown names, cycles, done steps, the plan.

Plans only: nothing here touches a database (the project's SQLite file is never opened).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ordo
from ordo.planning.graph import topological_order
from ordo.planning.model import Plan
from ordo.runner.frontier import Frontier
from tests.support.project import make_project


def plan_of(tmp_path: Path, manifest: str, **kwargs: object) -> Plan:
    root = make_project(tmp_path / "project", manifest)
    return ordo.plan(project=root, environ={}, options=ordo.RunOptions(**kwargs))  # type: ignore[arg-type]


def problems_of(tmp_path: Path, manifest: str) -> list[str]:
    with pytest.raises(ordo.ManifestInvalid) as caught:
        plan_of(tmp_path, manifest)
    assert caught.value.exit_code == 2
    return [str(p) for p in caught.value.problems]


def steps(*specs: str) -> str:
    """A manifest from ``name`` or ``name: extra yaml`` specs, each step ``SELECT 1``."""
    lines = ["steps:"]
    for spec in specs:
        name, _, extra = spec.partition(":")
        lines += [f"  - name: {name}", "    sql: SELECT 1"]
        lines += [f"    {part.strip()}" for part in extra.split(";") if part.strip()]
    return "\n".join(lines) + "\n"


def order(plan: Plan) -> list[str]:
    return [step.name for step in plan.steps]


def waits(plan: Plan) -> dict[str, list[str]]:
    """Each unit (by its first step) and the first steps of the units it waits for."""
    return {unit.names[0]: [plan.units[i].names[0] for i in unit.depends_on] for unit in plan.units}


# -- ordering --------------------------------------------------------------------------------


def test_a_plain_list_keeps_its_order_each_step_after_the_one_before(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, steps("c", "a", "b", "d"))
    assert order(plan) == ["c", "a", "b", "d"]
    assert waits(plan) == {"c": [], "a": ["c"], "b": ["a"], "d": ["b"]}
    assert not any("(after" in line or "independent" in line for line in plan.lines())


def test_depends_on_reorders_and_ties_keep_the_list_order(tmp_path: Path) -> None:
    plan = plan_of(
        tmp_path,
        steps(
            "report: depends_on: [load_b, load_a]",
            "load_a: depends_on: [schema]",
            "schema: depends_on: []",
            "load_b: depends_on: [schema]",
            "audit: depends_on: []",
        ),
    )
    # Kahn's algorithm, the earliest in the file first among the ready: schema (3rd) before
    # audit (5th); then load_a (2nd) and load_b (4th); then report (1st) before audit.
    assert order(plan) == ["schema", "load_a", "load_b", "report", "audit"]
    assert waits(plan)["report"] == ["load_a", "load_b"]
    assert waits(plan)["audit"] == []


def test_order_is_stable_for_equal_inputs(tmp_path: Path) -> None:
    independent = steps(*(f"s{i}: depends_on: []" for i in range(30)))
    assert order(plan_of(tmp_path, independent)) == [f"s{i}" for i in range(30)]


def test_a_single_name_is_a_list_of_one(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, steps("b: depends_on: a", "a: depends_on: []"))
    assert order(plan) == ["a", "b"]


def test_plan_lines_show_dependencies_only_where_they_differ_from_the_line_before(
    tmp_path: Path,
) -> None:
    plan = plan_of(
        tmp_path,
        steps("a", "b: depends_on: []", "c: depends_on: [a, b]", "d", "e: depends_on: [a]"),
    )
    assert plan.lines() == [
        "[1] SQL: a",
        "[2] SQL: b (independent)",
        "[3] SQL: c (after: a, b)",
        "[4] SQL: d",
        "[5] SQL: e (after: a)",
    ]


# -- a transaction group is one unit ---------------------------------------------------------


def test_depending_on_one_step_of_a_group_depends_on_the_group(tmp_path: Path) -> None:
    plan = plan_of(
        tmp_path,
        steps(
            "g1: transaction_group: 1; depends_on: []",
            "g2: transaction_group: 1; depends_on: [x]",
            "after_g1: depends_on: [g1]",
            "x: depends_on: []",
        ),
    )
    assert [unit.names for unit in plan.units] == [("x",), ("g1", "g2"), ("after_g1",)]
    # the group waits for the union of its steps' dependencies; after_g1 for the whole group
    assert waits(plan) == {"x": [], "g1": ["x"], "after_g1": ["g1"]}


def test_a_cycle_through_a_group_is_reported(tmp_path: Path) -> None:
    found = problems_of(
        tmp_path,
        steps(
            "g1: transaction_group: 7",
            "g2: transaction_group: 7; depends_on: [y]",
            "y: depends_on: [g1]",
        ),
    )
    [problem] = found
    assert "dependency cycle: group 7 (g1, g2) -> y -> group 7 (g1, g2)" in problem
    assert "step 'g2'" in problem


# -- unknown names and cycles -----------------------------------------------------------------


def test_unknown_dependency_is_reported_with_line_and_a_guess(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, steps("load", "report: depends_on: [laod]"))
    assert "manifest.yaml:6: step 'report': depends_on names unknown step 'laod'" in problem
    assert "did you mean 'load'?" in problem


def test_cycles_are_printed_with_every_other_problem(tmp_path: Path) -> None:
    manifest = steps(
        "a: depends_on: [c]",
        "b",
        "c",
        "self: depends_on: [self]",
        "x: depends_on: [nowhere]",
        "y: file: missing.sql",
    ).replace("    sql: SELECT 1\n    file: missing.sql", "    file: missing.sql")
    found = problems_of(tmp_path, manifest)
    text = "\n".join(found)
    assert "manifest.yaml:4: step 'a': dependency cycle: a -> b -> c -> a" in text
    assert "step 'self': dependency cycle: self -> self" in text
    assert "unknown step 'nowhere'" in text
    assert "file 'missing.sql' not found" in text
    assert len(found) == 4


def test_a_cycle_among_done_steps_is_still_a_problem(tmp_path: Path) -> None:
    """The graph is checked as written: enabling a step later cannot reveal a cycle."""
    [problem] = problems_of(
        tmp_path, steps("a: depends_on: [b]; enabled: false", "b: enabled: false")
    )
    assert "dependency cycle: a -> b -> a" in problem


# -- done steps --------------------------------------------------------------------------------


def test_a_depends_on_on_a_done_step_is_satisfied(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, steps("x", "loaded: enabled: false", "report: depends_on: [loaded]"))
    assert waits(plan) == {"x": [], "report": []}
    assert plan.disabled == ("loaded",)


def test_a_plain_list_keeps_its_order_across_a_done_step(tmp_path: Path) -> None:
    """``c`` waits for ``b`` only because ``b`` is before it: with ``b`` done, ``c`` still
    waits for what ``b`` waited for, so the steps that do run keep the list's order."""
    plan = plan_of(tmp_path, steps("a", "b: enabled: false", "c"))
    assert waits(plan) == {"a": [], "c": ["a"]}
    assert plan.lines() == ["[1] SQL: a", "[2] SQL: c"]


def test_nothing_to_run_when_every_step_is_done(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, steps("a: enabled: false", "b: depends_on: [a]; enabled: false"))
    assert plan.units == ()


# -- options -----------------------------------------------------------------------------------


def test_pipeline_options_and_tags_are_validated(tmp_path: Path) -> None:
    manifest = "max_parallel: 0\non_failure: maybe\n" + steps("a: tags: [ok, 'not ok']")
    found = "\n".join(problems_of(tmp_path, manifest))
    assert "'max_parallel'" in found
    assert "'on_failure'" in found
    assert "tag 'not ok'" in found


def test_defaults_are_one_at_a_time_and_stop(tmp_path: Path) -> None:
    pipeline = plan_of(tmp_path, steps("a")).manifest.pipeline
    assert (pipeline.max_parallel, pipeline.on_failure) == (1, "stop")


# -- the pieces ----------------------------------------------------------------------------


def test_topological_order_breaks_ties_by_position_and_leaves_out_cycles() -> None:
    deps = {"a": ["c"], "b": [], "c": [], "d": ["e"], "e": ["d"]}
    assert topological_order(list("abcde"), deps) == ["b", "c", "a"]


def test_frontier_releases_children_and_gives_up_dependents() -> None:
    #     0   1
    #     |   |
    #     2   3
    #      \ /
    #       4
    frontier = Frontier([(), (), (0,), (1,), (2, 3)])
    assert frontier.ready == [0, 1]
    frontier.start(0)
    frontier.start(1)
    frontier.succeeded(1)
    assert frontier.ready == [3]
    assert frontier.dependents_of(0) == [2, 4]  # 0 failed
    assert frontier.ready == [3]
    frontier.start(3)
    frontier.succeeded(3)
    assert frontier.ready == []  # 4 was given up
    assert frontier.give_up_all() == []
