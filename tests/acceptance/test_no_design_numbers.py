"""No text a user or a Python caller reads names the design documents ("seed 000".."seed 004").

Issue 8 found "seed 000's layout", "seed 001's dictionary" and ``RunResult.as_seed002()`` in
help texts, messages, the generated ``config/.env`` and the README: numbers of documents users
have never seen. Checked here: ``ordo --help`` and every subcommand's ``--help``, every file
``ordo init`` writes, README.md, and the docstrings of everything in ``ordo.__all__`` (and of
their public attributes). Code comments may still cite the documents for maintainers.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

import ordo
from ordo.cli.app import app
from tests.support.cli import Runner

REPO = Path(__file__).resolve().parents[2]
DESIGN_NUMBER = re.compile(r"seed[\s_-]*00\d", re.IGNORECASE)


def _commands(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path under ``command``, groups included (typer ships its own click)."""
    yield path
    children: dict[str, object] = getattr(command, "commands", {})
    for name, child in sorted(children.items()):
        yield from _commands(child, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_command_is_walked() -> None:
    assert ("run",) in COMMANDS
    assert ("db", "health") in COMMANDS
    assert ("migrate",) in COMMANDS
    assert len(COMMANDS) > 10


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "ordo")
def test_help_text_names_no_design_document(
    ordo_cli: Runner, tmp_path: Path, command: tuple[str, ...]
) -> None:
    done = ordo_cli(*command, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    assert not DESIGN_NUMBER.search(done.stdout + done.stderr), done.stdout


def test_generated_project_names_no_design_document(ordo_cli: Runner, tmp_path: Path) -> None:
    done = ordo_cli("init", "p", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not DESIGN_NUMBER.search(done.stdout + done.stderr)
    files = [path for path in (tmp_path / "p").rglob("*") if path.is_file()]
    assert (tmp_path / "p" / "config" / ".env") in files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not DESIGN_NUMBER.search(text), f"{path}: {DESIGN_NUMBER.search(text)}"


def test_readme_names_no_design_document() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert not DESIGN_NUMBER.findall(text)


def _docstrings() -> Iterator[tuple[str, str]]:
    yield "ordo", ordo.__doc__ or ""
    for name in ordo.__all__:
        value = getattr(ordo, name)
        yield name, inspect.getdoc(value) or ""
        if inspect.isclass(value):
            for attribute, member in vars(value).items():
                if not attribute.startswith("_") or attribute == "__init__":
                    yield f"{name}.{attribute}", inspect.getdoc(member) or ""


def test_public_docstrings_name_no_design_document() -> None:
    documented = dict(_docstrings())
    assert "RunResult.as_pipeline_dict" in documented
    named = {name: doc for name, doc in documented.items() if DESIGN_NUMBER.search(doc)}
    assert named == {}


def test_public_names_name_no_design_document() -> None:
    names = [name for name in ordo.__all__ if DESIGN_NUMBER.search(name)]
    names += [
        f"{name}.{attribute}"
        for name in ordo.__all__
        if inspect.isclass(getattr(ordo, name))
        for attribute in vars(getattr(ordo, name))
        if DESIGN_NUMBER.search(attribute)
    ]
    assert names == []
