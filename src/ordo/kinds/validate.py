"""``validate`` steps: checks on the data, with severities, thresholds and failing-row samples.

The checks run on the unit's connection inside its transaction, so a validate step in a
``transaction_group`` sees the group's uncommitted work, and a check that fails at severity
``error`` fails the step and rolls the whole group back: bad data is never committed (write,
audit, publish). A warning does not stop the run: it is shown, recorded and sent as a notice,
and ``--fail-on warn`` makes it a failure too (the runner decides that, for every kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import field_validator

from ordo._words import plural
from ordo.checks.model import Check, CheckBase
from ordo.errors import PermanentError, StepProblem
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions

if TYPE_CHECKING:
    from ordo.checks.judging import CheckResult
    from ordo.checks.running import NamedCheck
    from ordo.db.dialects import Dialect

__all__ = ["PreparedValidate", "ValidateKind", "ValidateOptions", "summary"]

# By what the finding does to the step, so a failure at severity warn reads as a warning.
_MARKS = {None: "✓", "failure": "✗", "warning": "⚠", "info": "ℹ"}


class ValidateOptions(StepOptions):
    checks: tuple[Check, ...]

    @field_validator("checks", mode="before")
    @classmethod
    def _some_checks(cls, value: Any) -> Any:
        # before the items are validated: pydantic's own length check would also fire when
        # every item is wrong, on top of the items' own messages
        if isinstance(value, list | tuple) and not value:
            raise ValueError("a validate step needs at least one check")
        return value


@dataclass(frozen=True, kw_only=True)
class PreparedValidate(PreparedStep[ValidateOptions]):
    checks: tuple[NamedCheck, ...]


class ValidateKind:
    """Runs the step's checks in the unit's transaction; never writes."""

    name: ClassVar[str] = "validate"
    label: ClassVar[str] = "CHECK"
    extensions: ClassVar[tuple[str, ...]] = ()
    folder: ClassVar[str | None] = None
    options_model: ClassVar[type[ValidateOptions]] = ValidateOptions
    uses_connection: ClassVar[bool] = True

    def transactional(self, dialect: Dialect | None) -> bool:
        """Always: checks read inside the unit's transaction, which a group may share."""
        return True

    def prepare(self, options: ValidateOptions, ctx: PrepareContext) -> PreparedValidate:
        from ordo.checks.running import NamedCheck

        named: list[NamedCheck] = []
        taken: dict[str, int] = {}
        for number, check in enumerate(options.checks, 1):
            rendered = _rendered(check, ctx, number)
            name = check.name or check.default_name()
            if name in taken:
                if check.name is not None:
                    raise StepProblem(
                        f"checks {taken[name]} and {number} are both named '{name}'",
                        key="checks",
                        hint="give each check its own name",
                    )
                name = f"{name} #{number}"
            taken[name] = number
            if check.connection is not None:
                _known_connection(check.connection, ctx)
            named.append(NamedCheck(name, rendered))
        return PreparedValidate(
            **ctx.fields(self.name, options),
            summary=f"- {plural(len(named), 'check')}",
            checks=tuple(named),
        )

    def execute(self, step: PreparedValidate, ctx: ExecutionContext) -> StepOutcome:
        from ordo.checks.running import run_checks

        conn, dialect = ctx.database()
        timeout = step.options.timeout
        # checks on the step's connection, in its transaction; the others where they read
        by_connection: dict[str | None, list[int]] = {}
        for index, named in enumerate(step.checks):
            other = named.check.connection
            by_connection.setdefault(None if other == step.connection else other, []).append(index)
        found: dict[int, CheckResult] = {}
        for name, indexes in by_connection.items():
            checks = [step.checks[i] for i in indexes]
            if name is None:
                ran = run_checks(conn, dialect, checks, masker=ctx.masker, timeout=timeout)
            else:
                ran = _elsewhere(name, checks, ctx, timeout)
            found |= dict(zip(indexes, ran, strict=True))
        results = [found[i] for i in range(len(step.checks))]
        here = [found[i] for i in by_connection.get(None, [])]
        broken = not dialect.supports_savepoints and any(r.outcome == "error" for r in here)
        for result in results:
            ctx.log_line(_line(result))
        details = {**summary(results), "checks": [r.as_json() for r in results]}
        failures = [r for r in results if r.effect == "failure"]
        if failures or broken:
            failed = failures or [r for r in results if r.outcome == "error"]
            error = PermanentError(
                f"{_counted(failed)} failed: "
                + "; ".join(f"{r.name}: {r.message}" for r in failed),
                hint="the failing rows are in the log and in `ordo runs show`",
            )
            error.details = details
            raise error
        warnings = tuple(f"{r.name}: {r.message}" for r in results if r.effect == "warning")
        return StepOutcome(details=details, warnings=warnings)


def _elsewhere(
    name: str, checks: list[NamedCheck], ctx: ExecutionContext, timeout: float | None
) -> list[CheckResult]:
    """``checks`` on connection ``name``, in a transaction of their own that is rolled back."""
    from ordo.checks.running import run_checks
    from ordo.db.connect import connect
    from ordo.db.dialects import dialect_for
    from ordo.db.engines import EngineRegistry

    settings = ctx.settings.connection(name)
    with EngineRegistry() as engines:
        conn = connect(engines.for_connection(settings), settings, ctx.masker)
        try:
            with conn.begin() as transaction:
                found = run_checks(
                    conn, dialect_for(conn), checks, masker=ctx.masker, timeout=timeout
                )
                transaction.rollback()
        finally:
            conn.close()
    return found


def _known_connection(name: str, ctx: PrepareContext) -> None:
    from ordo.errors import ConfigError

    try:
        ctx.settings.connection(name)
    except ConfigError as exc:
        raise StepProblem(
            f"a check's connection '{name}': {exc.message}", key="checks", hint=exc.hint
        ) from exc


def summary(results: list[CheckResult]) -> dict[str, int]:
    """How many checks passed, warned, failed and could not run."""
    outcomes = [r.outcome for r in results]
    return {
        "passed": outcomes.count("pass"),
        "warned": outcomes.count("warn"),
        "failed": outcomes.count("fail"),
        "errored": outcomes.count("error"),
    }


def _counted(results: list[CheckResult]) -> str:
    return plural(len(results), "check")


def _line(result: CheckResult) -> str:
    severity = "" if result.severity == "error" else f" [{result.severity}]"
    line = f"{_MARKS[result.effect]} {result.name}: {result.outcome}{severity}, {result.message}"
    for row in result.sample:
        line += "\n    " + ", ".join(f"{k}={v}" for k, v in row.items())
    return line


def _rendered(check: CheckBase, ctx: PrepareContext, number: int) -> CheckBase:
    """The check with its SQL (``where``, ``expression``, ``sql``) rendered like a sql step's."""
    update: dict[str, Any] = {}
    for key in ("where", "expression", "sql"):
        text = getattr(check, key, None)
        if isinstance(text, str):
            try:
                update[key] = ctx.renderer.render(text, ctx.params, name=f"check {number} {key}")
            except StepProblem as exc:
                exc.key, exc.line = "checks", None
                raise
    return check.model_copy(update=update) if update else check
