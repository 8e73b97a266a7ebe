"""``ordo NAME ...`` builds only the command it names, and means what the whole app means."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ordo.cli.app import app, command_app

ARGVS = [
    ["run", "--help"],
    ["runs", "--help"],
    ["datasets", "list", "--help"],
    ["check", "--nonsense"],
    ["run", "a.yaml", "b.yaml", "c.yaml"],
    ["migrate"],
]


@pytest.mark.parametrize("argv", ARGVS, ids=" ".join)
def test_the_narrowed_app_says_what_the_whole_app_says(argv: list[str]) -> None:
    runner = CliRunner()
    whole = runner.invoke(app, argv, prog_name="ordo")
    narrowed = runner.invoke(command_app(argv), argv, prog_name="ordo")
    assert (narrowed.exit_code, narrowed.output) == (whole.exit_code, whole.output)


def test_it_holds_only_the_named_command_or_group() -> None:
    run_only = command_app(["run", "--force"])
    assert [info.name for info in run_only.registered_commands] == ["run"]
    assert run_only.registered_groups == []
    runs_only = command_app(["runs", "list"])
    assert run_only is not app
    assert runs_only.registered_commands == []
    assert [info.name for info in runs_only.registered_groups] == ["runs"]
    assert len(app.registered_commands) > 5  # the whole app is left as it was


@pytest.mark.parametrize("argv", [[], ["--help"], ["--version"], ["rnu"]], ids=repr)
def test_anything_but_a_command_name_sees_the_whole_app(argv: list[str]) -> None:
    assert command_app(argv) is app
