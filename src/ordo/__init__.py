"""ordo runs database work in order, safely, and shows what happened.

The public surface is small on purpose: the use-case functions, their result types, and the
error tree. Everything the ``ordo`` command does is one of these calls.
"""

from ordo.api import enable, plan, run
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
from ordo.events import RunStatus
from ordo.plan import Plan
from ordo.result import RunResult, StepResult, StepStatus
from ordo.scaffold import init_project

__all__ = [
    "ConfigError",
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
