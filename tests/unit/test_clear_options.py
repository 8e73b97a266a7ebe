"""A clear step's options are checked at plan time: each bad one is a problem at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

import ordo
from tests.support.project import make_project


def plan_lines(tmp_path: Path, step: str) -> list[str]:
    root = make_project(tmp_path, f"name: p\nsteps:\n  - name: wipe\n    type: clear\n{step}")
    return ordo.plan(project=root, environ={}).lines()


def problem(tmp_path: Path, step: str) -> str:
    root = make_project(tmp_path, f"name: p\nsteps:\n  - name: wipe\n    type: clear\n{step}")
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    [found] = caught.value.problems
    return str(found)


@pytest.mark.parametrize(
    ("step", "said", "line"),
    [
        ("    views: false\n", "needs prefixes, tables or both", 3),
        ("    prefixes: []\n", "prefixes is an empty list", 5),
        ("    tables: []\n", "tables is an empty list", 5),
        ("    prefixes: [stg_, '']\n", "prefix 2 of prefixes is empty (it would match every", 5),
        ("    prefixes: ['  ']\n", "prefix 1 of prefixes is empty", 5),
        ("    tables: [a, '']\n", "table 2 of tables is empty", 5),
        ("    prefixes: [stg_]\n    keep: ['']\n", "name 1 of keep is empty", 6),
        ("    tables: [a, b]\n    keep: [b]\n", "'b' is both in tables and in keep", 6),
        ("    prefixes: [stg_]\n    schema: ''\n", "schema is empty", 6),
        ("    prefixes: [stg_]\n    cascade: true\n", "cascade", 6),
        ("    prefixes: [stg_]\n    file: x.sql\n", "file", 6),
    ],
)
def test_bad_options_are_plan_problems(tmp_path: Path, step: str, said: str, line: int) -> None:
    found = problem(tmp_path, step)
    assert said in found
    assert f"manifest.yaml:{line}:" in found
    assert "step 'wipe'" in found


def test_the_plan_line_says_what_it_clears(tmp_path: Path) -> None:
    step = "    prefixes: [stg_, int_]\n    tables: old\n    keep: [stg_dates]\n    views: false\n"
    [line] = plan_lines(tmp_path, step)
    assert line == (
        "[1] CLR: wipe - Clear: prefixes stg_, int_; tables old; keep stg_dates; no views"
    )


def test_the_plan_line_names_the_schema(tmp_path: Path) -> None:
    [line] = plan_lines(tmp_path, "    prefixes: stg_\n    schema: staging\n")
    assert line == "[1] CLR: wipe - Clear in schema staging: prefixes stg_"
