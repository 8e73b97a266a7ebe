"""Marking steps done edits only their ``enabled`` lines, keeps every other byte, and never
leaves a broken manifest (for a writer killed mid-write, see
``tests/acceptance/test_manifest_killed_writer.py``)."""

from __future__ import annotations

import os
import random
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from ordo._files import write_atomic
from ordo.errors import InvalidInput, OrdoError
from ordo.manifest import state as state_module
from ordo.manifest.locate import StepLocation, locate_step
from ordo.manifest.state import ManifestState
from ordo.manifest.yaml_source import compose, mapping_get
from tests.support.manifests import enabled_values, write

ORDO_DIR = str(Path(state_module.__file__).parents[1])
NOTE = "2026-11-21 22:05:01 run 3f2a9c"
DONE = f"enabled: false  # Done: {NOTE}"

# Comments, blank lines, odd quoting, a flow mapping value, a U+2028 inside a quoted value
# (a line break for str.splitlines, not for YAML), a block scalar first value, an anchor, an
# 'enabled: yes' with a comment, a value on the line after its key, and a one-key last step.
ORIGINAL = """\
# nightly load — ünïcødé ✓
name: nightly   # the pipeline
steps:
  # first comes staging

  - name: "Initialize Staging"      # first
    file: "01_create_staging.sql"
    type: "sql"
    enabled: true
    transaction_group: 1

  - name: Import Data
    file: '02_import_sales.sql'
    transaction_group: 1
    params: {region: "US-EAST", note: "a\u2028b"}

  -   name: 'Odd ''quoted'''
      enabled: yes   # keep me
      file: x.sql
  - name: >-
      Multi line
      name
    # comment between keys
    file: m.sql
  - name: Anchored
    enabled: &on "True"
    file: a.sql
  - name: Next line
    enabled:
      True
  - name: Lone  # only a name
"""

EXPECTED = f"""\
# nightly load — ünïcødé ✓
name: nightly   # the pipeline
steps:
  # first comes staging

  - name: "Initialize Staging"      # first
    file: "01_create_staging.sql"
    type: "sql"
    {DONE}
    transaction_group: 1

  - name: Import Data
    {DONE}
    file: '02_import_sales.sql'
    transaction_group: 1
    params: {{region: "US-EAST", note: "a\u2028b"}}

  -   name: 'Odd ''quoted'''
      {DONE}
      file: x.sql
  - name: >-
      Multi line
      name
    # comment between keys
    {DONE}
    file: m.sql
  - name: Anchored
    enabled: &on false  # Done: {NOTE}
    file: a.sql
  - name: Next line
    enabled:
      false  # Done: {NOTE}
  - name: Lone  # only a name
    {DONE}
"""

NAMES = [
    "Initialize Staging",
    "Import Data",
    "Odd 'quoted'",
    "Multi line name",
    "Anchored",
    "Next line",
    "Lone",
]


def variant(text: str, eol: str, final_newline: bool, bom: bool) -> str:
    text = text.replace("\n", eol)
    if not final_newline:
        text = text.removesuffix(eol)
    return ("\ufeff" if bom else "") + text


def step_nodes(text: str) -> list[Any]:
    """The step nodes of a manifest, parsed as the loader parses them."""
    root = compose(text)
    assert root is not None
    found = mapping_get(root, "steps")
    assert found is not None
    return list(found[1].value)


def locations(text: str) -> dict[str, StepLocation]:
    return {loc.name: loc for loc in map(locate_step, step_nodes(text))}


def bump(path: Path, text: str) -> None:
    """Edit the file as another program would, with an mtime that surely differs."""
    before = path.stat().st_mtime_ns
    write(path, text)
    os.utime(path, ns=(before + 5_000_000_000, before + 5_000_000_000))


def loaded_state(path: Path) -> ManifestState:
    """Build the state the way the loader does: one parse, one locate_step per step."""
    text = path.read_bytes().decode("utf-8")
    return ManifestState(path, text, locations(text))


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
@pytest.mark.parametrize("final_newline", [True, False])
@pytest.mark.parametrize("bom", [False, True])
def test_marking_done_changes_only_enabled_lines(
    tmp_path: Path, eol: str, final_newline: bool, bom: bool
) -> None:
    path = write(tmp_path / "manifest.yaml", variant(ORIGINAL, eol, final_newline, bom))
    state = loaded_state(path)

    state.mark_done(NAMES, NOTE)

    expected = variant(EXPECTED, eol, final_newline, bom)
    assert path.read_bytes() == expected.encode("utf-8")
    assert state.text == expected
    assert set(enabled_values(expected).values()) == {False}
    assert (state.writes, state.reparses) == (1, 0)


def test_marking_done_one_at_a_time_gives_the_same_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", variant(ORIGINAL, "\r\n", False, True))
    state = ManifestState.from_file(path)
    for name in random.Random(7).sample(NAMES, len(NAMES)):
        state.mark_done([name], NOTE)
    assert path.read_bytes() == variant(EXPECTED, "\r\n", False, True).encode("utf-8")
    assert (state.writes, state.reparses) == (len(NAMES), 0)


def test_a_note_without_a_date_is_led_by_today(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", ORIGINAL)
    state = ManifestState.from_file(path)
    state.mark_done(["Import Data"], "run 3f2a9c", today=date(2026, 1, 2))
    state.mark_done(["Lone"], "", today=date(2026, 1, 3))
    assert "    enabled: false  # Done: 2026-01-02 run 3f2a9c\n" in state.text
    assert state.text.endswith(
        "  - name: Lone  # only a name\n    enabled: false  # Done: 2026-01-03\n"
    )
    with pytest.raises(ValueError, match="one line"):
        state.mark_done(["Lone"], "two\nlines")


def test_enable_makes_steps_run_again_and_keeps_other_comments(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", ORIGINAL)
    state = ManifestState.from_file(path)
    state.mark_done(["Import Data", "Anchored"], NOTE)

    assert state.enable(["Import Data", "Anchored", "Initialize Staging"]) == [
        "Import Data",
        "Anchored",
    ]
    # An inserted line stays, now true; a non-Done comment survives enabling.
    assert (
        "  - name: Import Data\n    enabled: true\n    file: '02_import_sales.sql'\n"
        in path.read_text(encoding="utf-8")
    )
    assert "    enabled: &on true\n" in state.text
    bump(path, state.text.replace("enabled: yes   # keep me", "enabled: off   # keep me"))
    assert state.enable(["Odd 'quoted'"]) == ["Odd 'quoted'"]
    assert "      enabled: true   # keep me\n" in state.text
    assert state.enable(["Odd 'quoted'", "Lone"]) == []
    assert enabled_values(path.read_text(encoding="utf-8"))["Anchored"] is True


def test_enable_all_flips_only_false_steps(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", ORIGINAL)
    state = ManifestState.from_file(path)
    state.mark_done(NAMES, NOTE)
    writes = state.writes

    assert state.enable_all() == NAMES
    assert state.writes == writes + 1
    values = enabled_values(path.read_text(encoding="utf-8"))
    assert set(values.values()) == {True}
    assert "Done" not in state.text
    assert state.enable_all() == []
    assert state.writes == writes + 1


def test_a_transaction_group_is_written_once(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", ORIGINAL)
    state = ManifestState.from_file(path)
    inode = path.stat().st_ino
    state.mark_done(["Initialize Staging", "Import Data"], NOTE)
    assert state.writes == 1
    assert path.stat().st_ino != inode  # replaced, not rewritten in place
    state.mark_done([], NOTE)
    assert state.writes == 1


def many_steps(count: int) -> str:
    """Steps without 'enabled', some with a multi-line first value, some with one key."""
    parts = ["name: many\nsteps:\n"]
    for i in range(count):
        if i % 3 == 0:
            parts.append(f"  - name: |-\n      step {i}\n    # about it\n    file: s{i}.sql\n")
        elif i % 3 == 1:
            parts.append(f"  - name: step {i}\n    file: s{i}.sql\n    params: {{n: {i}}}\n\n")
        else:
            parts.append(f"  - name: 'step {i}'   # one key\n")
    return "".join(parts)


def test_inserting_in_random_order_keeps_every_position_right(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", many_steps(150))
    state = loaded_state(path)
    all_names = [f"step {i}" for i in range(150)]
    files = [s.get("file") for s in yaml.safe_load(many_steps(150))["steps"]]
    names = list(all_names)
    rng = random.Random(42)
    rng.shuffle(names)
    done: set[str] = set()
    while names:
        size = rng.randint(1, 5)
        batch, names = names[:size], names[size:]
        state.mark_done(batch, NOTE)
        done.update(batch)
        text = path.read_text(encoding="utf-8")
        steps = yaml.safe_load(text)["steps"]
        assert {s["name"]: s.get("enabled", "missing") for s in steps} == {
            n: (False if n in done else "missing") for n in all_names
        }
        assert [s.get("file") for s in steps] == files
    assert state.reparses == 0
    # Removing the inserted lines gives back the original bytes.
    kept = [line for line in state.text.splitlines(keepends=True) if "# Done:" not in line]
    assert "".join(kept) == many_steps(150)


def test_a_thousand_steps_one_at_a_time_never_reparse(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", many_steps(1000))
    state = ManifestState.from_file(path)
    for i in range(1000):
        state.mark_done([f"step {i}"], NOTE)
    assert (state.reparses, state.writes) == (0, 1000)
    assert set(enabled_values(path.read_text(encoding="utf-8")).values()) == {False}


def test_an_external_edit_is_reread_and_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", ORIGINAL)
    state = loaded_state(path)
    state.mark_done(["Initialize Staging"], NOTE)
    edited = "# added by a person\n\n" + path.read_text(encoding="utf-8").replace(
        "  - name: Import Data\n", "  - name: Import Data\n    # why: it is needed\n"
    )
    bump(path, edited)

    state.mark_done(["Import Data", "Lone"], NOTE)

    assert state.reparses == 1
    assert (
        path.read_text(encoding="utf-8")
        == edited.replace("    # why: it is needed\n", f"    # why: it is needed\n    {DONE}\n")
        + f"    {DONE}\n"
    )
    state.mark_done(["Anchored"], NOTE)
    assert state.reparses == 1


def test_a_step_gone_from_the_edited_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", ORIGINAL)
    state = ManifestState.from_file(path)
    edited = ORIGINAL.replace("Import Data", "Import Sales")
    bump(path, edited)
    with pytest.raises(OrdoError, match="no step named 'Import Data'") as caught:
        state.mark_done(["Import Data"], NOTE)
    assert caught.value.hint
    assert caught.value.step == "Import Data"
    assert path.read_text(encoding="utf-8") == edited


def test_text_that_differs_from_the_disk_is_reread_before_writing(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", "\ufeff" + ORIGINAL)
    text = ORIGINAL  # a loader that dropped the BOM
    state = ManifestState(path, text, locations(text))
    state.mark_done(NAMES, NOTE)
    assert state.reparses == 1
    assert path.read_text(encoding="utf-8") == "\ufeff" + EXPECTED


def test_unknown_steps_change_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", ORIGINAL)
    state = ManifestState.from_file(path)
    with pytest.raises(OrdoError, match="no step named 'Nope'"):
        state.mark_done(["Import Data", "Nope"], NOTE)
    assert state.text == ORIGINAL
    assert state.writes == 0
    assert path.read_text(encoding="utf-8") == ORIGINAL


def test_flow_style_steps_are_located_inside_their_braces() -> None:
    [node] = step_nodes("steps:\n  - {name: a, file: b}\n")
    loc = locate_step(node)
    assert (loc.flow, loc.value_line, loc.insert_line, loc.insert_col) == (True, None, 1, 21)
    assert (loc.close_line, loc.close_col) == (1, 22)


def test_from_file_reports_unusable_manifests(tmp_path: Path) -> None:
    cases = {
        "x-s: &s {name: b, file: c}\nsteps:\n  - name: a\n  - *s\n": ("alias", 4),
        "steps:\n  - name: a\n    enabled:\n  - name: b\n": ("one-line value", 2),
        "steps:\n  - name: a\n    enabled: |-\n      true\n": ("one-line value", 2),
        "steps:\n  - name: a\n    x: 1\n  - name: a\n    x: 2\n": ("two steps", 4),
        "steps: [1]\n": ("mapping", 1),
        "other: 1\n": ("no 'steps' list", None),
    }
    for text, (message, line) in cases.items():
        with pytest.raises(InvalidInput, match=message) as caught:
            ManifestState.from_file(write(tmp_path / "m.yaml", text))
        assert caught.value.line == line, text


@pytest.mark.parametrize(
    "text",
    [
        'steps:\n  - name: "a\n      b"\n',
        "steps:\n  - name: a\n      b\n",
        'steps:\n  - name: x\n    enabled: "tr\\\n      ue"\n',
    ],
)
def test_values_going_over_several_lines_are_refused_before_any_run(
    tmp_path: Path, text: str
) -> None:
    with pytest.raises(OrdoError, match="several lines"):
        ManifestState.from_file(write(tmp_path / "m.yaml", text))


def test_a_one_key_step_at_the_end_without_newline(tmp_path: Path) -> None:
    path = write(tmp_path / "m.yaml", "steps:\r\n  - name: a\r\n  - name: b")
    state = ManifestState.from_file(path)
    state.mark_done(["b", "a"], "x", today=date(2026, 5, 6))
    assert path.read_bytes() == (
        b"steps:\r\n  - name: a\r\n    enabled: false  # Done: 2026-05-06 x\r\n"
        b"  - name: b\r\n    enabled: false  # Done: 2026-05-06 x"
    )


def test_locations_are_frozen_records() -> None:
    [loc] = locations("steps:\n  - name: a\n    file: b\n").values()
    assert loc == StepLocation("a", 1, 4, None, None, 2)
    with pytest.raises(AttributeError):
        loc.line = 3  # type: ignore[misc]


def test_permission_bits_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.yaml", ORIGINAL)
    path.chmod(0o640)
    ManifestState.from_file(path).mark_done(["Lone"], NOTE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_write_atomic_creates_and_replaces_without_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    write_atomic(target, b"a,b\n")
    write_atomic(target, b"c,d\n")
    assert target.read_bytes() == b"c,d\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_write_atomic_follows_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_bytes(b"old")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"
