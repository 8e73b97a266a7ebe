"""What a user sees when a file or a database fails under ``ordo run``: one line, no traceback."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import Runner
from tests.support.project import make_project

OUTPUT = """\
name: output
steps:
  - name: answer
    sql: SELECT 42 AS answer
    output_file: results/out.csv
"""

READ_ONLY = """\
name: reads
steps:
  - name: one
    sql: SELECT 1
"""

RAW = ("Traceback", "[SQL:", "sqlalche.me", "OperationalError", "IsADirectoryError")


def test_an_unwritable_output_file_is_one_line_with_a_hint(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", OUTPUT)
    (root / "results" / "out.csv").mkdir(parents=True)

    done = ordo_cli("run", "-y", cwd=root)

    shown = done.stdout + done.stderr
    assert done.returncode == 1, shown
    assert not [raw for raw in RAW if raw in shown], shown
    assert "could not write output file" in shown
    assert "out.csv" in shown
    assert "hint:" in shown
    assert "Done" not in (root / "queue" / "manifest.yaml").read_text(encoding="utf-8")

    (root / "results" / "out.csv").rmdir()
    again = ordo_cli("run", "-y", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (root / "results" / "out.csv").read_text(encoding="utf-8") == "answer\n42\n"


def test_read_only_steps_with_no_ledger_table_show_no_driver_text(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    """The run used to end with ``could not tidy the ledger: no such table ... [SQL: DELETE``."""
    root = make_project(tmp_path / "p", READ_ONLY)

    done = ordo_cli("run", "-y", cwd=root)

    shown = done.stdout + done.stderr
    assert done.returncode == 0, shown
    assert not [raw for raw in RAW if raw in shown], shown
    assert "could not tidy the ledger" not in shown
    assert "no such table" not in shown
