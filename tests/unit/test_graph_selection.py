"""Selection (issue 4, point 7): ``--select``/``--exclude`` with names, tags, ``+name``, ``name+``.

Plans only, through ``ordo.plan``; nothing opens a database. The same through the ``ordo``
command is in ``tests/acceptance/test_cli_select.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ordo
from tests.support.manifests import SELECTION_MANIFEST as MANIFEST
from tests.support.project import make_project


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project", MANIFEST)


def chosen(
    root: Path, select: list[str] | None = None, exclude: list[str] | None = None
) -> list[str]:
    plan = ordo.plan(
        project=root, environ={}, options=ordo.RunOptions(select=select, exclude=exclude)
    )
    return [step.name for step in plan.steps]


def test_no_selection_is_everything(root: Path) -> None:
    assert len(chosen(root)) == 9


def test_names(root: Path) -> None:
    assert chosen(root, ["census", "seeds"]) == ["seeds", "census"]


def test_tags_are_modes(root: Path) -> None:
    assert chosen(root, ["tag:quick"]) == ["seeds", "foundation", "census", "validate"]
    assert chosen(root, ["tag:complete"]) == [
        "clear",
        "seeds",
        "foundation",
        "config_models",
        "census",
        "validate",
    ]


def test_plus_before_adds_ancestors(root: Path) -> None:
    assert chosen(root, ["+census"]) == ["clear", "seeds", "census"]


def test_plus_after_adds_descendants(root: Path) -> None:
    assert chosen(root, ["census+"]) == ["census", "validate", "report"]


def test_plus_on_both_sides(root: Path) -> None:
    assert chosen(root, ["+config_models+"]) == [
        "clear",
        "seeds",
        "foundation",
        "config_models",
        "validate",
        "report",
    ]


def test_exclude_removes_from_the_selection_or_from_everything(root: Path) -> None:
    assert chosen(root, ["tag:quick"], ["census"]) == ["seeds", "foundation", "validate"]
    assert chosen(root, exclude=["tag:complete", "report"]) == ["g_one", "g_two"]
    assert chosen(root, exclude=["validate+"]) == [
        "clear",
        "seeds",
        "foundation",
        "config_models",
        "census",
        "g_one",
        "g_two",
    ]


def test_a_group_is_taken_and_left_whole(root: Path) -> None:
    assert chosen(root, ["g_two"]) == ["g_one", "g_two"]
    assert "g_one" not in chosen(root, exclude=["g_two"])


def test_left_out_steps_keep_the_order_they_stood_in(root: Path) -> None:
    """``validate`` runs after ``seeds`` although ``census`` between them is left out (the
    transitive edge is kept, as dbt keeps it); a left-out dependency does not stop a step."""
    plan = ordo.plan(
        project=root, environ={}, options=ordo.RunOptions(select=["seeds", "validate"])
    )
    assert plan.lines() == ["[1] SQL: seeds", "[2] SQL: validate"]
    assert plan.units[1].depends_on == (0,)
    assert set(plan.unselected) == {
        "clear",
        "foundation",
        "config_models",
        "census",
        "g_one",
        "g_two",
        "report",
    }


def test_a_done_step_is_not_planned_even_when_selected(root: Path) -> None:
    done = MANIFEST.replace(
        "  - name: census\n    sql: SELECT 1\n",
        "  - name: census\n    sql: SELECT 1\n    enabled: false\n",
    )
    (root / "queue" / "manifest.yaml").write_text(done)
    assert chosen(root, ["census+"]) == ["validate", "report"]


def test_unselected_steps_are_not_prepared(root: Path) -> None:
    """A step left out cannot stop the others with its problems (a missing file here)."""
    broken = MANIFEST.replace(
        "  - name: report\n    sql: SELECT 1\n", "  - name: report\n    file: missing.sql\n"
    )
    (root / "queue" / "manifest.yaml").write_text(broken)
    assert chosen(root, exclude=["report"])[-1] == "g_two"
    with pytest.raises(ordo.ManifestInvalid):
        chosen(root)


def test_unknown_names_and_tags_are_all_reported_with_a_guess(root: Path) -> None:
    with pytest.raises(ordo.ManifestInvalid) as caught:
        chosen(root, ["sedes", "tag:quik+"], ["+nothing_like_it"])
    assert caught.value.exit_code == 2
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "--select 'sedes': no step named 'sedes' (hint: did you mean 'seeds'?)" in text
    assert "--select 'tag:quik+': no step has tag 'quik' (hint: did you mean 'quick'?)" in text
    assert "--exclude '+nothing_like_it': no step named 'nothing_like_it'" in text
