"""The run state store: every run, its steps, their attempts and outcomes.

    from ordo.store import open_store
    from ordo.subscribers.store import StoreRecorder

    store = open_store(settings, project_root)      # .ordo/state.db, or ORDO_STATE_URL
    bus.subscribe(StoreRecorder.for_plan(store, plan, masker=masker))
    ...
    store.list_runs(limit=20)                        # newest first
    store.get_run("3f2a")                            # by id or unique id prefix
    store.close()

Modules: ``base`` (the ``StateStore`` protocol, records, statuses, errors), one module per
implementation (``memory``, ``sqlite``, ``postgresql``; the last two share ``sql``, and their
schemas evolve through the files in ``migrations/``), ``factory`` (which store a project
uses). For the service: ``jobs`` and ``tokens`` (their records), ``service`` (the
``ServiceStore`` protocol: jobs, tokens, schedule fires) and ``service_sql`` (its SQL side).
Events become store writes in ``ordo.subscribers.store``; ``ordo runs`` reads the
store through ``ordo.api.run_history``.
"""

from typing import TYPE_CHECKING

from ordo.store.base import (
    PlannedTask,
    RunDetail,
    RunNotFound,
    RunRecord,
    RunState,
    StateStore,
    StoreError,
    TaskOutcome,
    TaskRecord,
    TaskStatus,
)
from ordo.store.factory import open_store

if TYPE_CHECKING:
    from ordo.store.memory import MemoryStore

__all__ = [
    "MemoryStore",
    "PlannedTask",
    "RunDetail",
    "RunNotFound",
    "RunRecord",
    "RunState",
    "StateStore",
    "StoreError",
    "TaskOutcome",
    "TaskRecord",
    "TaskStatus",
    "open_store",
]


def __getattr__(name: str) -> object:
    """``MemoryStore`` on first use: a run that records to its SQLite file does not use it,
    and its modules (the queue and pages in memory) are a few milliseconds of every start."""
    if name == "MemoryStore":
        from ordo.store.memory import MemoryStore

        return MemoryStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
