"""ordo runs database work in order, safely, and shows what happened.

The public surface is small on purpose: the use-case functions, their result types, and the
error tree. Everything the ``ordo`` command does is one of these calls.
"""

from typing import TYPE_CHECKING, Any

from ordo.errors import (
    ConfigError,
    ExecutionError,
    InvalidInput,
    ManifestInvalid,
    ManifestLocked,
    NotConfirmed,
    OrdoError,
    PermanentError,
    StepTimeout,
    TransientError,
)

if TYPE_CHECKING:
    from ordo.api.database_manager import DatabaseManager
    from ordo.api.runs import RunOptions, enable, plan, run
    from ordo.events import RunStatus
    from ordo.planning.model import Plan
    from ordo.project.scaffold import init_project
    from ordo.runner.result import RunResult, StepResult, StepStatus

# Imported on first use, so `ordo --help` does not pay for SQLAlchemy and pydantic.
_LAZY = {
    "DatabaseManager": "ordo.api.database_manager",
    "enable": "ordo.api.runs",
    "plan": "ordo.api.runs",
    "run": "ordo.api.runs",
    "RunOptions": "ordo.api.runs",
    "RunStatus": "ordo.events",
    "Plan": "ordo.planning.model",
    "RunResult": "ordo.runner.result",
    "StepResult": "ordo.runner.result",
    "StepStatus": "ordo.runner.result",
    "init_project": "ordo.project.scaffold",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ordo' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
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

__version__ = "0.1.0"
