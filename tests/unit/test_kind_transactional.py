"""``Kind.transactional(dialect)``: a kind may join transaction groups on some databases only.

The coming seed kind loads in the unit's transaction where the database allows it; the plan
asks each step's kind with that step's own dialect, for the group check and for the unit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ordo
from ordo.kinds import registered
from ordo.kinds.testing import EchoKind
from tests.support.project import make_project

GROUPED = """\
    steps:
      - name: create
        sql: CREATE TABLE t (id INTEGER)
        transaction_group: 1
      - name: echo
        type: echo
        transaction_group: 1
      - name: alone
        type: echo
    """


def test_a_kind_transactional_on_this_database_joins_the_group(tmp_path: Path) -> None:
    root = make_project(tmp_path, GROUPED)
    with registered(EchoKind(transactional_on={"sqlite"})):
        plan = ordo.plan(project=root, environ={})
    grouped, alone = plan.units
    assert grouped.names == ("create", "echo")
    assert grouped.transactional
    assert alone.transactional  # its own unit, in its own transaction on SQLite


def test_a_kind_not_transactional_on_this_database_cannot_join(tmp_path: Path) -> None:
    root = make_project(tmp_path, GROUPED)
    echo = EchoKind(transactional_on={"postgresql"})
    with registered(echo), pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    [problem] = caught.value.problems
    assert problem.step == "echo"
    assert "echo step cannot be in a transaction group" in problem.message
    assert problem.line == 7


def test_a_kind_not_transactional_here_runs_in_a_unit_of_its_own(tmp_path: Path) -> None:
    root = make_project(tmp_path, "steps:\n  - name: alone\n    type: echo\n")
    with registered(EchoKind(transactional_on={"postgresql"})):
        [unit] = ordo.plan(project=root, environ={}).units
    assert not unit.transactional
