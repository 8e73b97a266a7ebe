"""``ManifestState`` on flow steps and merge keys: marking done and enabling again, in place."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ordo.manifest.state import ManifestState

DAY = date(2026, 12, 2)


def _state(tmp_path: Path, text: str) -> tuple[Path, ManifestState]:
    path = tmp_path / "manifest.yaml"
    path.write_bytes(text.encode("utf-8"))
    return path, ManifestState.from_file(path)


def test_flow_steps_are_marked_and_enabled_again_in_place(tmp_path: Path) -> None:
    text = "steps:\n  - {name: a, sql: 'x # y'}  # mine\n  - {name: b, enabled: off, sql: z}\n"
    path, state = _state(tmp_path, text)
    state.mark_done(["a"], "run 1", today=DAY)
    marked = (
        "steps:\n  - {name: a, sql: 'x # y', enabled: false}  # Done: 2026-12-02 run 1\n"
        "  - {name: b, enabled: off, sql: z}\n"
    )
    assert path.read_text(encoding="utf-8") == marked
    assert state.enable_all() == ["a", "b"]
    assert path.read_text(encoding="utf-8") == (
        "steps:\n  - {name: a, sql: 'x # y', enabled: true}\n  - {name: b, enabled: true, sql: z}\n"
    )
    assert state.writes == 2


def test_steps_sharing_a_line_are_each_found_after_the_other_moved(tmp_path: Path) -> None:
    text = "steps: [{name: a, sql: x}, {name: b, sql: y, enabled: yes}]\n"
    path, state = _state(tmp_path, text)
    state.mark_done(["a"], "one", today=DAY)
    state.mark_done(["b"], "two", today=DAY)
    assert path.read_text(encoding="utf-8") == (
        "steps: [{name: a, sql: x, enabled: false}, {name: b, sql: y, enabled: false}]"
        "  # Done: 2026-12-02 two\n"
    )


def test_a_step_off_by_its_anchor_is_enabled_with_its_own_key(tmp_path: Path) -> None:
    text = "x-off: &off {enabled: false, sql: x}\nsteps:\n  - <<: *off\n    name: a\n"
    path, state = _state(tmp_path, text)
    assert state.enable_all() == ["a"]
    assert path.read_text(encoding="utf-8") == (
        "x-off: &off {enabled: false, sql: x}\nsteps:\n  - <<: *off\n    enabled: true\n"
        "    name: a\n"
    )
    assert state.enable_all() == []


def test_a_flow_manifest_edited_by_hand_meanwhile_is_located_again(tmp_path: Path) -> None:
    path, state = _state(tmp_path, "steps:\n  - {name: a, sql: x}\n  - {name: b, sql: y}\n")
    state.mark_done(["a"], "one", today=DAY)
    path.write_text("# edited\nsteps:\n  - {sql: y, name: b}\n  - {name: a, sql: x}\n")
    state.mark_done(["b"], "two", today=DAY)
    assert state.reparses == 1
    assert path.read_text(encoding="utf-8") == (
        "# edited\nsteps:\n  - {sql: y, name: b, enabled: false}  # Done: 2026-12-02 two\n"
        "  - {name: a, sql: x}\n"
    )
