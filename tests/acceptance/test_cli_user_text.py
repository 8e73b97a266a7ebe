"""User text that looks like Rich markup (``[red]``, ``[/]``, ``[0]``) is printed as written.

A file name, a description or a value is the user's, never markup: read as markup, ``[...]`` in
it vanished from the line, and an unbalanced ``[/x]`` made Rich raise instead of printing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import Runner


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "config").mkdir(parents=True)
    (root / "config" / ".env").write_text(
        "DEVELOPMENT_GLOBAL_APP_CONNECTION_STRING=sqlite:///app.db\n"
    )
    folder = root / "core" / "migrations" / "app"
    folder.mkdir(parents=True)
    (folder / "V1__create_a.sql").write_text("CREATE TABLE a (x INT);\n")
    return root


def test_a_migration_problem_naming_a_bracketed_file_is_printed_whole(
    ordo_cli: Runner, project: Path
) -> None:
    # Version 1 twice: `status` reports a problem naming both files.
    (project / "core" / "migrations" / "app" / "V001__b[bold]x.sql").write_text("SELECT 1;\n")
    done = ordo_cli("migrate", "status", "app", cwd=project)
    assert done.returncode == 1, done.stderr
    problem_lines = [line for line in done.stdout.splitlines() if line.startswith("problem:")]
    assert problem_lines, done.stdout
    assert "V001__b[bold]x.sql" in problem_lines[0]
    assert "Traceback" not in done.stderr


def test_a_migration_script_whose_name_is_markup_is_printed_whole(
    ordo_cli: Runner, project: Path
) -> None:
    (project / "core" / "migrations" / "app" / "V2__add_[bold]b.sql").write_text(
        "CREATE TABLE b (x INT);\n"
    )
    done = ordo_cli("migrate", "app", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "V2__add_[bold]b.sql" in done.stdout


def test_an_error_holding_brackets_is_printed_whole(ordo_cli: Runner, tmp_path: Path) -> None:
    missing = tmp_path / "no[red]such[/]"
    done = ordo_cli("db", "list", "--project", str(missing), cwd=tmp_path)
    assert done.returncode == 2
    assert "no[red]such[/]" in done.stderr
    assert "Traceback" not in done.stderr
