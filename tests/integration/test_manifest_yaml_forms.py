"""Every form a step can take in YAML is run and recorded done in place (issue 8, items 2 and 9).

Each test runs a real project on SQLite, then compares the manifest byte for byte with what it
should be (the Done notes, which hold a timestamp, made equal first), reloads it with PyYAML to
check it holds the same steps but for ``enabled``, and runs it again to see nothing happen.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import URL

from ordo.events import RunStatus
from ordo.runner.result import StepStatus
from tests.support.runs import make, manifest_path, run

_NOTE = re.compile(r"# Done: [^\r\n]*")


def _run_and_compare(tmp_path: Path, url: URL, before: str, after: str) -> None:
    root = make(tmp_path, url, "steps: []\n")
    path = manifest_path(root)
    path.write_bytes(before.encode("utf-8"))

    result = run(root)
    assert result.status == RunStatus.SUCCESS, result.error
    written = path.read_bytes().decode("utf-8")
    assert _NOTE.sub("# Done: NOTE", written) == after
    assert _steps_but_enabled(written) == _steps_but_enabled(before)
    assert all(step.get("enabled") is False for step in _steps(written))

    again = run(root)
    assert again.status == RunStatus.SUCCESS, again.error
    assert [s.status for s in again.steps if s.status != StepStatus.NOT_RUN] == []
    assert path.read_bytes().decode("utf-8") == written


def _steps(text: str) -> list[dict[str, Any]]:
    # libyaml, as ordo reads it (pure-Python PyYAML refuses a tab before a comment)
    data = yaml.load(text, Loader=yaml.CSafeLoader)
    steps: list[dict[str, Any]] = data["steps"] if isinstance(data, dict) else data
    return steps


def _steps_but_enabled(text: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in step.items() if k != "enabled"} for step in _steps(text)]


def test_flow_mappings_get_the_mark_inside_their_braces(tmp_path: Path, sqlite_url: URL) -> None:
    before = """\
steps:
  - {name: create, sql: "CREATE TABLE t (x INTEGER)"}
  - {name: 'one', enabled: yes, sql: "INSERT INTO t VALUES (1)"}   # keep me? no: Done goes here
  - {name: two,
     sql: "INSERT INTO t VALUES (2)"
    }
  - {
      name: three, sql: 'INSERT INTO t VALUES (3)', enabled: true,
      params: {a: "}"}}  # old comment
"""
    after = """\
steps:
  - {name: create, sql: "CREATE TABLE t (x INTEGER)", enabled: false}  # Done: NOTE
  - {name: 'one', enabled: false, sql: "INSERT INTO t VALUES (1)"}  # Done: NOTE
  - {name: two,
     sql: "INSERT INTO t VALUES (2)", enabled: false
    }  # Done: NOTE
  - {
      name: three, sql: 'INSERT INTO t VALUES (3)', enabled: false,
      params: {a: "}"}}  # Done: NOTE
"""
    _run_and_compare(tmp_path, sqlite_url, before, after)


def test_a_flow_list_of_steps_on_one_line(tmp_path: Path, sqlite_url: URL) -> None:
    before = 'steps: [{name: a, sql: "SELECT 1"}, {name: b, sql: "SELECT 2"}]\n'
    after = (
        'steps: [{name: a, sql: "SELECT 1", enabled: false}, '
        '{name: b, sql: "SELECT 2", enabled: false}]  # Done: NOTE\n'
    )
    _run_and_compare(tmp_path, sqlite_url, before, after)


def test_merge_keys_add_an_own_enabled_and_leave_the_anchor(
    tmp_path: Path, sqlite_url: URL
) -> None:
    before = """\
x-defaults: &defaults
  sql: SELECT 1
  enabled: true
x-other: &other {sql: SELECT 2}
x-lone: &lone {name: f, sql: SELECT 4}
steps:
  - <<: *lone
  - <<: *defaults
    name: a
  - <<: *defaults
    name: b
    sql: SELECT 3
  - {<<: *other, name: c}
  - {name: d, <<: *other}
  - <<: [*other, *defaults]
    name: e
    enabled: on
"""
    after = """\
x-defaults: &defaults
  sql: SELECT 1
  enabled: true
x-other: &other {sql: SELECT 2}
x-lone: &lone {name: f, sql: SELECT 4}
steps:
  - <<: *lone
    enabled: false  # Done: NOTE
  - <<: *defaults
    enabled: false  # Done: NOTE
    name: a
  - <<: *defaults
    enabled: false  # Done: NOTE
    name: b
    sql: SELECT 3
  - {<<: *other, name: c, enabled: false}  # Done: NOTE
  - {enabled: false, name: d, <<: *other}  # Done: NOTE
  - <<: [*other, *defaults]
    name: e
    enabled: false  # Done: NOTE
"""
    _run_and_compare(tmp_path, sqlite_url, before, after)
    # local keys win over merged ones; of a merged list, the first
    sqls = [s["sql"] for s in _steps(after)]
    assert sqls == ["SELECT 4", "SELECT 1", "SELECT 3", "SELECT 2", "SELECT 2", "SELECT 2"]


def test_quoted_keys_tabs_and_unicode_names(tmp_path: Path, sqlite_url: URL) -> None:
    before = """\
steps:
  - "name": 'größe — 名前'\t# a tab before this comment
    'sql': "SELECT 'é'"
  - name: "zwei"
    "enabled": 'true'\t#\ttabs
    sql: SELECT 2
  - {"name": "drei ü", 'sql': 'SELECT 3'}\t# tab
"""
    after = """\
steps:
  - "name": 'größe — 名前'\t# a tab before this comment
    enabled: false  # Done: NOTE
    'sql': "SELECT 'é'"
  - name: "zwei"
    "enabled": false  # Done: NOTE
    sql: SELECT 2
  - {"name": "drei ü", 'sql': 'SELECT 3', enabled: false}  # Done: NOTE
"""
    _run_and_compare(tmp_path, sqlite_url, before, after)


@pytest.mark.parametrize("bare_list", [False, True])
def test_crlf_and_a_bom_are_kept(tmp_path: Path, sqlite_url: URL, bare_list: bool) -> None:
    head = "" if bare_list else "steps:\r\n"
    pad = "" if bare_list else "  "
    before = (
        f"\ufeff{head}{pad}- {{name: a, sql: SELECT 1}}\r\n"
        f"{pad}- name: b\r\n{pad}  sql: SELECT 2\r\n"
    )
    after = (
        f"\ufeff{head}{pad}- {{name: a, sql: SELECT 1, enabled: false}}  # Done: NOTE\r\n"
        f"{pad}- name: b\r\n{pad}  enabled: false  # Done: NOTE\r\n{pad}  sql: SELECT 2\r\n"
    )
    _run_and_compare(tmp_path, sqlite_url, before, after)
