"""The manifest's done marks after a real run: only ``enabled`` lines change (issue 2, 21-22)."""

from __future__ import annotations

import difflib
import re
from datetime import date
from pathlib import Path

from sqlalchemy import URL

import ordo
from ordo.events import RunStatus
from tests.support.runs import make, manifest_path, run

# -- 21, 22: the manifest's done marks on a real run ----------------------------------------

ODD_MANIFEST = """\
# Nightly load.  Keep this comment, the blank lines and the odd quoting.
name: "bytes"   # pipeline name
retry: {base: 0.01}

steps:
  # enabled comes first here
  - enabled: true   # this comment gives way to the Done mark
    name: 'create'
    sql: >-
      CREATE TABLE bytes_t (x INTEGER)

  - sql: "INSERT INTO bytes_t (x) VALUES (1)"
    name: insert one
    transaction_group: 7


  - name: "insert two"
    transaction_group: 7
    enabled: yes
    sql: |
      INSERT INTO bytes_t (x)
      VALUES (2)
  -   name: odd indent
      sql: SELECT count(*) FROM bytes_t
  - name: skipped
    enabled: false  # not today
    sql: SELECT 1
  - name: quoted
    enabled: "true"
    params: {who: "it's me"}
    sql: SELECT 'x'   # trailing comment
  - name: last without enabled
    sql: SELECT 3
"""


def test_a_run_changes_only_the_enabled_lines(tmp_path: Path, db_url: URL) -> None:
    root = make(tmp_path, db_url, ODD_MANIFEST)
    path = manifest_path(root)
    old = path.read_text().splitlines(keepends=True)

    days = {date.today().isoformat()}
    result = run(root)
    days.add(date.today().isoformat())  # a run may go past midnight

    assert result.status == RunStatus.SUCCESS, result.error
    new = path.read_text().splitlines(keepends=True)
    replaced: list[tuple[str, str]] = []
    inserted: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes():
        if tag == "equal":
            continue
        assert tag in ("replace", "insert"), (tag, old[i1:i2], new[j1:j2])
        if tag == "replace":
            assert i2 - i1 == j2 - j1, (old[i1:i2], new[j1:j2])
            replaced.extend(zip(old[i1:i2], new[j1:j2], strict=True))
        else:
            inserted.extend(new[j1:j2])
    [day] = set(re.findall(r"enabled: false  # Done: (\d{4}-\d{2}-\d{2}) ", "".join(new)))
    assert day in days
    done = f"false  # Done: {day}"
    assert [(o.rstrip("\n"), n.split(done)[0]) for o, n in replaced] == [
        ("  - enabled: true   # this comment gives way to the Done mark", "  - enabled: "),
        ("    enabled: yes", "    enabled: "),
        ('    enabled: "true"', "    enabled: "),
    ]
    assert all(done in n for _, n in replaced)
    assert all(n.endswith("\n") for _, n in replaced)
    # One line inserted per step without an enabled key, at its keys' indentation.
    assert [line.split(done)[0] for line in inserted] == [
        "    enabled: ",
        "      enabled: ",
        "    enabled: ",
    ]
    assert all(done in line for line in inserted)
    assert len(new) == len(old) + 3
    plan = ordo.plan(project=root, environ={})
    assert plan.units == ()
    assert set(plan.disabled) == {
        "create",
        "insert one",
        "insert two",
        "odd indent",
        "skipped",
        "quoted",
        "last without enabled",
    }
    assert "  - name: skipped\n    enabled: false  # not today\n" in path.read_text()
