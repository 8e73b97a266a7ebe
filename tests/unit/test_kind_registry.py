"""One registry of step kinds: the ``ordo.kinds`` entry points, plus ``registered`` for tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import ordo
from ordo import kinds
from ordo._plugins import plugins
from ordo.kinds import available_kinds, get_kind, kind_for_file, registered
from ordo.kinds.testing import EchoKind
from tests.support.project import make_project


def test_the_kinds_are_the_entry_points_and_nothing_else() -> None:
    assert available_kinds() == sorted(plugins("ordo.kinds"))
    assert {"sql", "plsql", "python", "migrate"} <= set(available_kinds())
    assert not hasattr(kinds, "_BUILTIN")
    for name in available_kinds():
        assert get_kind(name).name == name


def test_registered_adds_a_kind_for_the_block_only() -> None:
    echo = EchoKind()
    with registered(echo) as added:
        assert added is echo
        assert get_kind("echo") is echo
        assert "echo" in available_kinds()
    assert "echo" not in available_kinds()
    with pytest.raises(KeyError):
        get_kind("echo")


def test_registered_can_stand_in_for_a_kind_and_gives_it_back() -> None:
    class FakeSql(EchoKind):
        name = "sql"

    real = get_kind("sql")
    with registered(FakeSql()) as fake:
        assert get_kind("sql") is fake
    assert get_kind("sql") is real


@pytest.mark.parametrize(
    ("file", "kind"),
    [
        ("load.sql", "sql"),
        ("LOAD.SQL", "sql"),
        ("sub/dir/x.sql", "sql"),
        ("job.py", "python"),
        ("customers.csv", "seed"),
        ("notes.txt", None),
        ("Makefile", None),
        (".sql", None),  # a hidden file named ".sql" has no extension
    ],
)
def test_a_file_belongs_to_the_kind_claiming_its_extension(file: str, kind: str | None) -> None:
    found = kind_for_file(file)
    assert (found.name if found else None) == kind


def test_a_registered_kind_claims_its_extensions(tmp_path: Path) -> None:
    root = make_project(tmp_path, "steps:\n  - name: hello\n    file: hello.echo\n")
    (root / "scripts" / "echo").mkdir()
    (root / "scripts" / "echo" / "hello.echo").write_text("hi\n")
    echo = EchoKind()
    with registered(echo):
        plan = ordo.plan(project=root, environ={})
    [step] = plan.steps
    assert step.kind == "echo"
    assert echo.prepared == ["hello"]
    assert echo.calls == []  # planned, not run


def test_the_own_extensions_are_what_the_kinds_claim() -> None:
    """``kind_for_file`` answers ordo's own extensions without asking every kind: the map
    must say what asking every kind in name order would."""
    from ordo.kinds import OWN_EXTENSIONS

    claims: dict[str, str] = {}
    for name in available_kinds():
        for extension in get_kind(name).extensions:
            claims.setdefault(extension, name)
    assert claims == OWN_EXTENSIONS
