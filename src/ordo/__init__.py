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
    from ordo.api import enable, plan, run
    from ordo.db.manager import DatabaseManager
    from ordo.events import RunStatus
    from ordo.planning import Plan
    from ordo.result import RunResult, StepResult, StepStatus
    from ordo.scaffold import init_project

# Imported on first use, so `ordo --help` does not pay for SQLAlchemy and pydantic.
_LAZY = {
    "DatabaseManager": "ordo.db.manager",
    "enable": "ordo.api",
    "plan": "ordo.api",
    "run": "ordo.api",
    "RunStatus": "ordo.events",
    "Plan": "ordo.planning",
    "RunResult": "ordo.result",
    "StepResult": "ordo.result",
    "StepStatus": "ordo.result",
    "init_project": "ordo.scaffold",
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
