"""The test suite's own shape: shared helpers live in ``tests/support``, so no test module (or
conftest) imports from another one, where a rename or a new fixture would break a stranger."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parents[1]
LAYERS = ("tests.unit", "tests.integration", "tests.acceptance")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_test_module_imports_another_test_module() -> None:
    offenders = {
        str(path.relative_to(TESTS)): sorted(
            m for m in imported_modules(path) if m.startswith(LAYERS)
        )
        for path in TESTS.rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}
