"""``clear`` steps: drop the tables and views a project rebuilds, in the database's own order.

The options say what matches (``prefixes``, ``tables``, ``keep``, ``views``, ``schema``) and are
checked here, at plan time; the catalog is read and the drops done at run time by
``ordo.data.clearing``, in the unit's transaction, so a clear may share a transaction group
with SQL steps and a rehearsal drops nothing for good. The step's details list what it
dropped, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, field_validator

from ordo.data.clearing import Selection, clear
from ordo.errors import StepProblem
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect

__all__ = ["ClearKind", "ClearOptions", "PreparedClear"]

_EXAMPLE = "prefixes: [stg_, int_] or tables: [old_orders]"


class ClearOptions(StepOptions):
    prefixes: tuple[str, ...] | None = None  # names starting with one of these, as stored
    tables: tuple[str, ...] | None = None  # these names exactly (tables or views)
    # ``schema:`` in the manifest (a pydantic model has a ``schema`` of its own)
    in_schema: str | None = Field(None, alias="schema")  # None: the connection's current one
    keep: tuple[str, ...] = ()  # never dropped, though matched
    views: bool = True  # false: views are never dropped

    @field_validator("prefixes", "tables", "keep", mode="before")
    @classmethod
    def _one_name_is_a_list(cls, value: Any) -> Any:
        """``prefixes: stg_`` means ``[stg_]``."""
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True, kw_only=True)
class PreparedClear(PreparedStep[ClearOptions]):
    selection: Selection


class ClearKind:
    """Drops the matching tables and views, dependants first, in the unit's transaction."""

    name: ClassVar[str] = "clear"
    label: ClassVar[str] = "CLR"
    extensions: ClassVar[tuple[str, ...]] = ()
    folder: ClassVar[str | None] = None
    options_model: ClassVar[type[ClearOptions]] = ClearOptions
    uses_connection: ClassVar[bool] = True

    def transactional(self, dialect: Dialect | None) -> bool:
        """Always: the drops run in the unit's transaction (on MariaDB each commits on its
        own, which ``implicit_commits`` tells the planner)."""
        return True

    def prepare(self, options: ClearOptions, ctx: PrepareContext) -> PreparedClear:
        prefixes = _names(options.prefixes, "prefixes", "prefix")
        tables = _names(options.tables, "tables", "table")
        if not prefixes and not tables:
            raise StepProblem(
                "a clear step needs prefixes, tables or both: what should it drop?",
                hint=_EXAMPLE,
            )
        selection = Selection(
            prefixes=prefixes,
            tables=tables,
            keep=_names(options.keep, "keep", "name", empty_ok=True),
            views=options.views,
            schema=_schema(options.in_schema),
        )
        both = sorted(set(selection.tables) & set(selection.keep))
        if both:
            raise StepProblem(
                f"'{both[0]}' is both in tables and in keep",
                key="keep",
                hint="remove it from one of the two",
            )
        implicit: tuple[str, ...] = ()
        if ctx.dialect is not None and ctx.dialect.ddl_commits_implicitly:
            implicit = ("DROP TABLE and DROP VIEW of what it clears (a clear step)",)
        return PreparedClear(
            **ctx.fields(self.name, options),
            summary=_summary(selection),
            implicit_commits=implicit,
            selection=selection,
        )

    def execute(self, step: PreparedClear, ctx: ExecutionContext) -> StepOutcome:
        from ordo.db.errors import database_errors  # SQLAlchemy: not imported for `ordo --help`

        conn, dialect = ctx.database()
        with (
            database_errors(masker=ctx.masker, timeout=step.options.timeout),
            dialect.statement_timeout(conn, step.options.timeout),
        ):
            cleared = clear(conn, dialect, step.selection, on_drop=ctx.log_line)
        if not cleared.dropped:
            ctx.log_line("nothing to drop: no table or view matches")
        details: dict[str, Any] = {"dropped": [r.name for r in cleared.dropped]}
        if cleared.cycle_keys:
            details["cycle_keys"] = [
                f"{k.dependant.name}.{k.constraint}" if k.constraint else k.dependant.name
                for k in cleared.cycle_keys
            ]
        if cleared.absent:
            details["not_there"] = list(cleared.absent)
        return StepOutcome(details=details)


def _names(
    values: tuple[str, ...] | None, key: str, what: str, *, empty_ok: bool = False
) -> tuple[str, ...]:
    """The names of one option, each as written; an empty list or name is a plan problem."""
    if values is None:
        return ()
    if not values and not empty_ok:
        raise StepProblem(f"{key} is an empty list: it matches nothing", key=key, hint=_EXAMPLE)
    for number, value in enumerate(values, 1):
        if not value.strip():
            matches = " (it would match every table)" if key == "prefixes" else ""
            raise StepProblem(f"{what} {number} of {key} is empty{matches}", key=key)
        if "\x00" in value:
            raise StepProblem(f"{what} {number} of {key} holds a NUL character", key=key)
    return tuple(dict.fromkeys(values))


def _schema(value: str | None) -> str | None:
    if value is not None and (not value.strip() or "\x00" in value):
        raise StepProblem(
            "schema is empty or holds a NUL character",
            key="schema",
            hint="leave it out for the connection's current schema",
        )
    return value


def _summary(selection: Selection) -> str:
    """The plan line's words: ``- Clear: prefixes stg_, int_; keep stg_dates; no views``."""
    parts = []
    if selection.prefixes:
        parts.append("prefixes " + ", ".join(selection.prefixes))
    if selection.tables:
        parts.append("tables " + ", ".join(selection.tables))
    if selection.keep:
        parts.append("keep " + ", ".join(selection.keep))
    if not selection.views:
        parts.append("no views")
    where = f" in schema {selection.schema}" if selection.schema else ""
    return f"- Clear{where}: " + "; ".join(parts)
