"""``ordo run`` and ``ordo enable`` on a manifest written in flow style with merge keys, as a
user runs them: marked done in place, nothing on the second run, back as it was after enable."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import Runner
from tests.support.project import make_project

MANIFEST = """\
x-defaults: &defaults {type: sql}
steps:
  - {<<: *defaults, name: create, sql: "CREATE TABLE t (x INTEGER)"}
  - {name: fill,
     sql: "INSERT INTO t VALUES (1)"}   # a comment the Done note replaces
  - <<: *defaults
    name: count
    sql: SELECT count(*) FROM t
"""


def test_flow_and_merged_steps_through_the_command(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    path = root / "queue" / "manifest.yaml"

    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    after = path.read_text(encoding="utf-8")
    assert after.count(", enabled: false}  # Done: ") == 2
    assert "  - <<: *defaults\n    enabled: false  # Done: " in after
    assert after.startswith("x-defaults: &defaults {type: sql}\n")

    again = ordo_cli("run", "-y", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Nothing to run" in again.stdout
    assert path.read_text(encoding="utf-8") == after

    enabled = ordo_cli("enable", "--all", cwd=root)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    text = path.read_text(encoding="utf-8")
    assert "Done" not in text
    assert text.replace(", enabled: true}", "}").replace("    enabled: true\n", "") == (
        MANIFEST.replace("   # a comment the Done note replaces", "")
    )
