"""``ordo.run`` and ``ordo.plan`` share one calling convention and one ``RunOptions``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

import ordo
from ordo.api import runs
from tests.support.project import make_project

MANIFEST = """\
    name: daily
    steps:
      - name: create
        sql: CREATE TABLE t (x INTEGER)
      - name: broken
        sql: INSERT INTO nowhere VALUES (1)
      - name: after
        sql: INSERT INTO t VALUES (2)
    """


def test_run_options_are_frozen_and_keyword_only() -> None:
    options = ordo.RunOptions(notify=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.notify = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        ordo.RunOptions(None)  # type: ignore[misc]


def test_plan_and_run_read_the_same_options(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    options = ordo.RunOptions(select=["create"], notify=False)
    assert [step.name for step in ordo.plan(project=root, environ={}, options=options).steps] == [
        "create"
    ]
    result = ordo.run(project=root, environ={}, options=options)
    assert [step.name for step in result.steps] == ["create"]


def test_a_resumed_run_reads_the_settings_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    assert ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False)).status == (
        "failed"
    )
    manifest = root / "queue" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("INTO nowhere", "INTO t"))
    loads: list[Path] = []
    real = runs.Settings.load

    def counted(*args: Any, **kwargs: Any) -> Any:
        loads.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(runs.Settings, "load", counted)
    resumed = ordo.run(project=root, environ={}, options=ordo.RunOptions(resume="last"))
    assert resumed.status == "success"
    assert [step.name for step in resumed.steps] == ["broken", "after"]
    assert len(loads) == 1
