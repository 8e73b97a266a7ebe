"""The public surface is deliberate: every name in ``ordo.__all__`` resolves, nothing else leaks."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ordo


def test_every_exported_name_resolves() -> None:
    for name in ordo.__all__:
        assert getattr(ordo, name) is not None, name


def test_exports_are_the_reviewed_list() -> None:
    assert sorted(ordo.__all__) == sorted(
        [
            "ConfigError",
            "DatabaseManager",
            "ExecutionError",
            "InvalidInput",
            "ManifestInvalid",
            "ManifestLocked",
            "NotConfirmed",
            "OrdoError",
            "PermanentError",
            "Plan",
            "RunOptions",
            "RunResult",
            "RunStatus",
            "StepResult",
            "StepStatus",
            "StepTimeout",
            "TransientError",
            "enable",
            "init_project",
            "plan",
            "run",
        ]
    )


def test_cli_start_does_not_import_the_heavy_parts() -> None:
    heavy = "('sqlalchemy', 'pydantic', 'jinja2')"
    code = f"import sys, ordo.cli.app; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="nope"):
        _ = ordo.nope  # type: ignore[attr-defined]


def test_functions_stay_functions_after_every_module_is_imported() -> None:
    """A submodule named like an exported function would replace it once imported."""
    import importlib
    import pkgutil

    for module in pkgutil.walk_packages(ordo.__path__, "ordo."):
        if module.name != "ordo.__main__":
            importlib.import_module(module.name)
    for name in ("enable", "init_project", "plan", "run"):
        assert callable(getattr(ordo, name)), name
