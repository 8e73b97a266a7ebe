"""An ``OSError`` where ordo writes a file becomes an ordo error naming the file (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ordo.errors import ManifestWriteError, OrdoError, OutputFileError
from ordo.manifest import state as state_module
from ordo.manifest.state import ManifestState
from ordo.tabular import TabularResult, stage_output, write_output

MANIFEST = """\
name: p
steps:
  - name: a
    sql: SELECT 1
"""


def test_a_manifest_that_cannot_be_written_is_a_manifest_write_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(MANIFEST, encoding="utf-8")
    state = ManifestState.from_file(path)

    def refuse(target: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(state_module, "write_atomic", refuse)
    with pytest.raises(ManifestWriteError) as raised:
        state.mark_done(["a"], "2026-12-02")
    error = raised.value
    assert isinstance(error, OrdoError)
    assert error.file == path
    assert "Permission denied" in error.message
    assert error.hint is not None
    assert isinstance(error.__cause__, PermissionError)
    assert path.read_text(encoding="utf-8") == MANIFEST


def test_an_output_file_that_is_a_folder_is_an_output_file_error(tmp_path: Path) -> None:
    target = tmp_path / "results" / "out.csv"
    target.mkdir(parents=True)
    with pytest.raises(OutputFileError) as raised:
        write_output(target, TabularResult(("a",), [(1,)]))
    assert str(target) in raised.value.message
    assert "hint:" in raised.value.message
    assert "\n" not in raised.value.message
    assert list(tmp_path.rglob("*ordo-tmp*")) == []


def test_a_staged_output_is_in_place_only_after_replace(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "out.json"
    staged = stage_output(target, TabularResult(("a",), [(1,)]))
    assert not target.exists()
    staged.replace()
    assert target.read_text(encoding="utf-8") == '[\n{"a": 1}\n]\n'


def test_a_discarded_output_leaves_no_folder_it_made(tmp_path: Path) -> None:
    (tmp_path / "kept").mkdir()
    target = tmp_path / "kept" / "new" / "deeper" / "out.csv"
    staged = stage_output(target, TabularResult(("a",), [(1,)]))
    staged.discard()
    assert list((tmp_path / "kept").iterdir()) == []
