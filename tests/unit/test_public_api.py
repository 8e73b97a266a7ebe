"""The public surface is deliberate: every name in ``ordo.__all__`` resolves, nothing else leaks."""

from __future__ import annotations

import inspect
import pkgutil
import subprocess
import sys
from types import ModuleType

import pytest

import ordo


def test_every_exported_name_resolves() -> None:
    for name in ordo.__all__:
        assert getattr(ordo, name) is not None, name


def test_exports_are_the_reviewed_list() -> None:
    assert sorted(ordo.__all__) == sorted(
        [
            # errors
            "ConfigError",
            "ExecutionError",
            "InvalidInput",
            "ManifestInvalid",
            "ManifestLocked",
            "ManifestWriteError",
            "MigrationError",
            "NotConfirmed",
            "OrdoError",
            "OutputFileError",
            "PermanentError",
            "RunNotFound",
            "StepTimeout",
            "StoreError",
            "TransientError",
            # manifests and runs
            "Event",
            "Plan",
            "RunOptions",
            "RunResult",
            "RunStatus",
            "StepResult",
            "StepStatus",
            "Subscriber",
            "ProjectStatus",
            "check",
            "enable",
            "init_project",
            "plan",
            "run",
            "status",
            # migrations
            "MigrateResult",
            "MigrationStatus",
            "RepairResult",
            "baseline_migrations",
            "migrate",
            "migration_status",
            "repair_migrations",
            # connections
            "ConnectionInfo",
            "DatabaseManager",
            "TabularResult",
            "health_check",
            "list_connections",
            "pool_status",
            "query",
            # run history
            "RunDetail",
            "RunRecord",
            "RunState",
            "TaskRecord",
            "TaskStatus",
            "list_runs",
            "show_run",
            # datasets
            "DatasetSource",
            "DatasetVersion",
            "PublishResult",
            "dataset_history",
            "list_datasets",
            "publish",
            "rollback_dataset",
        ]
    )


def _public_names(module: ModuleType) -> set[str]:
    """Names a user would take for API: no underscore, and not an ordo submodule, which the
    import system binds on its own (``ordo.errors`` at once, ``ordo.api`` on first use)."""
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        if isinstance(value, ModuleType) and name in submodules:
            assert value.__name__ == f"ordo.{name}", name
            continue
        names.add(name)
    return names


def test_nothing_outside_all_is_public_after_every_export_is_loaded() -> None:
    """httpx's check: ``Any``, ``TYPE_CHECKING`` or a helper never become part of the API."""
    for name in ordo.__all__:
        getattr(ordo, name)  # load every lazy export, which binds it in vars(ordo)
    assert sorted(_public_names(ordo)) == sorted(ordo.__all__)


def test_everything_the_cli_does_is_a_public_call() -> None:
    """One convention: each use case takes the project as ``project=``, ``env_file=`` and
    ``environ=`` keywords, like ``ordo.plan`` and ``ordo.run``."""
    use_cases = [
        "plan",
        "run",
        "check",
        "status",
        "migrate",
        "migration_status",
        "repair_migrations",
        "baseline_migrations",
        "list_connections",
        "health_check",
        "pool_status",
        "query",
        "list_runs",
        "show_run",
        "list_datasets",
        "dataset_history",
        "rollback_dataset",
    ]
    for name in use_cases:
        parameters = inspect.signature(getattr(ordo, name)).parameters
        for keyword in ("project", "env_file", "environ"):
            assert keyword in parameters, f"{name} has no {keyword}="
            assert parameters[keyword].kind is inspect.Parameter.KEYWORD_ONLY, (name, keyword)
            assert parameters[keyword].default is None, (name, keyword)
    manager = inspect.signature(ordo.DatabaseManager).parameters
    assert {"project", "env_file", "environ", "settings", "engines"} <= set(manager)


def test_the_event_module_is_public_and_complete() -> None:
    import ordo.events

    assert ordo.Subscriber is ordo.events.Subscriber
    for name in ordo.events.__all__:
        assert hasattr(ordo.events, name), name
    assert {"RunStarted", "StepFailed", "RunFinished"} <= set(ordo.events.__all__)


def test_cli_start_does_not_import_the_heavy_parts() -> None:
    heavy = (
        "('sqlalchemy', 'pydantic', 'jinja2', 'cronsim', 'fastapi', 'starlette', 'uvicorn', "
        "'prometheus_client')"
    )
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
    for name in ordo.__all__:
        assert not isinstance(getattr(ordo, name), ModuleType), name
