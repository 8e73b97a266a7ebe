"""``--select`` and ``--exclude`` through the ``ordo`` command: repeatable, comma-separated,
and an unknown name is exit 2 with a guess (the selection rules are in
``tests/unit/test_graph_selection.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import Runner
from tests.support.manifests import SELECTION_MANIFEST
from tests.support.project import make_project


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project", SELECTION_MANIFEST)


def test_cli_select_is_repeatable_and_comma_separated(ordo_cli: Runner, root: Path) -> None:
    done = ordo_cli(
        "plan", "--select", "seeds,tag:quick", "--select", "report", "--exclude", "census", cwd=root
    )
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("[")]
    assert lines == [
        "[1] SQL: seeds",
        "[2] SQL: foundation",
        "[3] SQL: validate (after: seeds, foundation)",  # through census, config_models
        "[4] SQL: report",
    ]


def test_cli_unknown_selection_exits_2(ordo_cli: Runner, root: Path) -> None:
    done = ordo_cli("run", "--select", "sedes", "--yes", cwd=root)
    assert done.returncode == 2
    assert "no step named 'sedes'" in done.stderr
    assert "did you mean 'seeds'?" in done.stderr
