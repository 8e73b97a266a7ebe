"""ordo runs database work in order, safely, and shows what happened.

The public surface is small on purpose: the use-case functions, their result types, and the
error tree. Everything the ``ordo`` command does is one of these calls, and every call takes
``project=``, ``env_file=`` and ``environ=`` the same way:

- manifests: ``plan``, ``run``, ``check`` (only the validate steps, changing nothing),
  ``status`` (where the project stands), ``enable``, ``init_project``;
- migrations: ``migrate``, ``migration_status``, ``repair_migrations``, ``baseline_migrations``;
- connections: ``list_connections``, ``health_check``, ``pool_status``, ``query``, and
  ``DatabaseManager`` for a program's own queries;
- run history: ``list_runs``, ``show_run``;
- datasets: ``publish`` (with ``DatasetSource``, giving a ``PublishResult``), and for a
  versioned root ``list_datasets``, ``dataset_history``, ``rollback_dataset`` (each giving
  ``DatasetVersion``).

``run(subscribers=...)`` takes any ``Subscriber``; the events it receives are the classes of the
``ordo.events`` module, which is public as a whole. The other submodules are internal.
"""

from typing import TYPE_CHECKING

from ordo.errors import (
    ConfigError,
    ExecutionError,
    InvalidInput,
    ManifestInvalid,
    ManifestLocked,
    ManifestWriteError,
    NotConfirmed,
    OrdoError,
    OutputFileError,
    PermanentError,
    StepTimeout,
    TransientError,
)

if TYPE_CHECKING:
    from ordo.api.checks import check
    from ordo.api.database_manager import DatabaseManager
    from ordo.api.databases import (
        ConnectionInfo,
        health_check,
        list_connections,
        pool_status,
        query,
    )
    from ordo.api.datasets import dataset_history, list_datasets, rollback_dataset
    from ordo.api.migrations import (
        baseline_migrations,
        migrate,
        migration_status,
        repair_migrations,
    )
    from ordo.api.run_history import list_runs, show_run
    from ordo.api.runs import RunOptions, enable, plan, run
    from ordo.api.status import ProjectStatus, status
    from ordo.datasets.publishing import DatasetSource, PublishResult, publish
    from ordo.datasets.versions import DatasetVersion
    from ordo.events import Event, RunStatus, Subscriber
    from ordo.migrations.errors import MigrationError
    from ordo.migrations.results import MigrateResult, MigrationStatus, RepairResult
    from ordo.planning.model import Plan
    from ordo.project.scaffold import init_project
    from ordo.runner.result import RunResult, StepResult, StepStatus
    from ordo.store.base import (
        RunDetail,
        RunNotFound,
        RunRecord,
        RunState,
        StoreError,
        TaskRecord,
        TaskStatus,
    )
    from ordo.tabular import TabularResult

del TYPE_CHECKING  # not part of the public surface (tests/unit/test_public_api.py)

# Imported on first use, so `ordo --help` does not pay for SQLAlchemy and pydantic.
_LAZY = {
    "DatabaseManager": "ordo.api.database_manager",
    "ConnectionInfo": "ordo.api.databases",
    "health_check": "ordo.api.databases",
    "list_connections": "ordo.api.databases",
    "pool_status": "ordo.api.databases",
    "query": "ordo.api.databases",
    "list_runs": "ordo.api.run_history",
    "list_datasets": "ordo.api.datasets",
    "dataset_history": "ordo.api.datasets",
    "rollback_dataset": "ordo.api.datasets",
    "publish": "ordo.datasets.publishing",
    "DatasetSource": "ordo.datasets.publishing",
    "PublishResult": "ordo.datasets.publishing",
    "DatasetVersion": "ordo.datasets.versions",
    "show_run": "ordo.api.run_history",
    "baseline_migrations": "ordo.api.migrations",
    "migrate": "ordo.api.migrations",
    "migration_status": "ordo.api.migrations",
    "repair_migrations": "ordo.api.migrations",
    "enable": "ordo.api.runs",
    "plan": "ordo.api.runs",
    "run": "ordo.api.runs",
    "check": "ordo.api.checks",
    "status": "ordo.api.status",
    "ProjectStatus": "ordo.api.status",
    "Event": "ordo.events",
    "RunOptions": "ordo.api.runs",
    "RunStatus": "ordo.events",
    "Subscriber": "ordo.events",
    "MigrationError": "ordo.migrations.errors",
    "MigrateResult": "ordo.migrations.results",
    "MigrationStatus": "ordo.migrations.results",
    "RepairResult": "ordo.migrations.results",
    "Plan": "ordo.planning.model",
    "init_project": "ordo.project.scaffold",
    "RunResult": "ordo.runner.result",
    "StepResult": "ordo.runner.result",
    "StepStatus": "ordo.runner.result",
    "RunDetail": "ordo.store.base",
    "RunNotFound": "ordo.store.base",
    "RunRecord": "ordo.store.base",
    "RunState": "ordo.store.base",
    "StoreError": "ordo.store.base",
    "TaskRecord": "ordo.store.base",
    "TaskStatus": "ordo.store.base",
    "TabularResult": "ordo.tabular",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ordo' has no attribute {name!r}")
    import importlib  # here, not at the top: the name stays out of vars(ordo)

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ConfigError",
    "ConnectionInfo",
    "DatabaseManager",
    "DatasetSource",
    "DatasetVersion",
    "Event",
    "ExecutionError",
    "InvalidInput",
    "ManifestInvalid",
    "ManifestLocked",
    "ManifestWriteError",
    "MigrateResult",
    "MigrationError",
    "MigrationStatus",
    "NotConfirmed",
    "OrdoError",
    "OutputFileError",
    "PermanentError",
    "Plan",
    "ProjectStatus",
    "PublishResult",
    "RepairResult",
    "RunDetail",
    "RunNotFound",
    "RunOptions",
    "RunRecord",
    "RunResult",
    "RunState",
    "RunStatus",
    "StepResult",
    "StepStatus",
    "StepTimeout",
    "StoreError",
    "Subscriber",
    "TabularResult",
    "TaskRecord",
    "TaskStatus",
    "TransientError",
    "baseline_migrations",
    "check",
    "dataset_history",
    "enable",
    "health_check",
    "init_project",
    "list_connections",
    "list_datasets",
    "list_runs",
    "migrate",
    "migration_status",
    "plan",
    "pool_status",
    "publish",
    "query",
    "repair_migrations",
    "rollback_dataset",
    "run",
    "show_run",
    "status",
]

__version__ = "0.1.0"
