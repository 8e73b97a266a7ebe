"""What the extractor and loader contract suites share: a project, its contexts, its files.

Kept below both (they are independent layers) and free of pytest, which only the suites import.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ordo.config import DEFAULT_CONNECTION, Settings
from ordo.data.plugins import DataContext, PlanContext
from ordo.db.dialects import dialect_for
from ordo.db.engines import EngineRegistry
from ordo.masking import Masker

__all__ = ["DATABASE", "data_context", "plan_context", "tree", "unknown_key_errors"]

DATABASE = "data/contract.db"


def plan_context(root: Path, key: str) -> PlanContext:
    """The plan-time context of a project at ``root`` with a SQLite ``default`` connection."""
    for folder in ("config", "data"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    env = root / "config" / ".env"
    if not env.exists():
        env.write_text(f"DATABASE_URL=sqlite:///{DATABASE}\n")
    settings = Settings.load(root, environ={})
    dialect = dialect_for(settings.connection(DEFAULT_CONNECTION).url.drivername)
    return PlanContext(root, root, settings, key, DEFAULT_CONNECTION, dialect)


@contextmanager
def data_context(plan: PlanContext) -> Iterator[DataContext]:
    """A run-time context on the project's ``default`` connection, inside a transaction."""
    with EngineRegistry() as engines:
        engine = engines.for_connection(plan.settings.connection(DEFAULT_CONNECTION))
        with engine.connect() as conn, conn.begin():
            yield DataContext(
                settings=plan.settings, masker=Masker(), connection=conn, dialect=dialect_for(conn)
            )


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its content: what building must leave as it found it."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def unknown_key_errors(model: type[BaseModel], config: dict[str, object]) -> list[str]:
    """The error types of ``config`` with one unknown key added (``config`` itself valid):
    ``["extra_forbidden"]`` for a model that forbids unknown keys."""
    model.model_validate(config)
    try:
        model.model_validate({**config, "no_such_key": 1})
    except ValidationError as exc:
        return [str(e["type"]) for e in exc.errors()]
    return []
