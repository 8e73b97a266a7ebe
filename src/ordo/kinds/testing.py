"""A fake step kind for tests: ``EchoKind`` records what it was asked to do and does little.

It ships in the package, beside the real kinds (as ``ordo.store.testing`` does for stores),
so that ordo's own tests, the kind contract suite (``ordo.kinds.contract``) and a plugin
author's tests share one fake instead of each writing its own. It is not an entry point: a
test adds it for a block with ``ordo.kinds.registered``::

    echo = EchoKind()
    with registered(echo):
        run(manifest)  # steps with ``type: echo`` run here
    assert [call.step for call in echo.calls] == ["load"]

A step may say what the fake returns (``rows``, ``details``), run one statement on the unit's
connection (``sql``), and fail: ``fail: transient`` or ``fail: permanent``, on its first
``fail_attempts`` attempts (all of them when not given). ``EchoKind`` uses a connection and
joins transaction groups on the dialects named in ``transactional_on`` (all by default), as
the coming ``seed`` kind will; ``DetachedEchoKind`` (``type: echo_detached``) uses none, like
``python``. ``RestorableEchoKind`` (``type: echo_restorable``) is ``Restorable`` too, for
``rollback: {type: restore}``: its ``restore`` is recorded and succeeds, or fails when the step
says ``restore: fail``.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from ordo.errors import PermanentError, StepProblem, TransientError
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect

__all__ = [
    "DetachedEchoKind",
    "EchoCall",
    "EchoKind",
    "EchoOptions",
    "PreparedEcho",
    "RestorableEchoKind",
    "RestorableEchoOptions",
]


class EchoOptions(StepOptions):
    file: str | None = None  # read at plan time, so a missing one is a plan problem
    message: str = ""  # rendered as a template, then written to the step's log
    sql: str | None = None  # run on the unit's connection, when the step has one
    rows: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    fail: Literal["transient", "permanent"] | None = None
    fail_attempts: int | None = Field(None, ge=1)  # None: every attempt fails


@dataclass(frozen=True, kw_only=True)
class PreparedEcho(PreparedStep[EchoOptions]):
    message: str
    source: Path | None
    text: str | None  # the file's text


@dataclass(frozen=True)
class EchoCall:
    """One ``execute`` call, as the fake saw it."""

    step: str
    attempt: int
    message: str
    connection: bool  # whether the runner lent it the unit's connection
    dialect: str | None
    text: str | None


@dataclass
class _Record:
    calls: list[EchoCall] = field(default_factory=list)
    prepared: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class EchoKind:
    """A kind that echoes its step: records the call, logs ``message``, returns what it's told.

    ``transactional_on``: the dialect names (``"sqlite"``, ``"postgresql"``...) on which it may
    share a transaction group; ``None`` means everywhere.
    """

    name: ClassVar[str] = "echo"
    label: ClassVar[str] = "ECHO"
    extensions: ClassVar[tuple[str, ...]] = (".echo",)
    folder: ClassVar[str | None] = "echo"
    options_model: ClassVar[type[EchoOptions]] = EchoOptions
    uses_connection: ClassVar[bool] = True

    def __init__(self, *, transactional_on: Collection[str] | None = None) -> None:
        self._transactional_on = None if transactional_on is None else frozenset(transactional_on)
        self._record = _Record()

    @property
    def calls(self) -> list[EchoCall]:
        """Every ``execute`` so far, in the order they started."""
        with self._record.lock:
            return list(self._record.calls)

    @property
    def prepared(self) -> list[str]:
        """The names of the steps ``prepare`` was called for."""
        with self._record.lock:
            return list(self._record.prepared)

    def transactional(self, dialect: Dialect | None) -> bool:
        if not self.uses_connection or dialect is None:
            return False
        return self._transactional_on is None or dialect.name in self._transactional_on

    def prepare(self, options: EchoOptions, ctx: PrepareContext) -> PreparedEcho:
        source = text = None
        if options.file is not None:
            source = ctx.resolve_file(options.file, self.folder)
            text = source.read_text(encoding="utf-8")
        try:
            message = ctx.renderer.render(options.message, ctx.params, name="message")
        except StepProblem as exc:
            exc.key, exc.line = "message", None
            raise
        with self._record.lock:
            self._record.prepared.append(options.name)
        return PreparedEcho(
            **ctx.fields(self.name, options), message=message, source=source, text=text
        )

    def execute(self, step: PreparedEcho, ctx: ExecutionContext) -> StepOutcome:
        options = step.options
        call = EchoCall(
            step=step.name,
            attempt=ctx.attempt,
            message=step.message,
            connection=ctx.connection is not None,
            dialect=None if ctx.dialect is None else ctx.dialect.name,
            text=step.text,
        )
        with self._record.lock:
            self._record.calls.append(call)
        if step.message:
            ctx.log_line(step.message)
        if options.sql is not None and ctx.connection is not None:
            conn, dialect = ctx.database()
            dialect.execute(conn, options.sql, fetch=False)
        failing = options.fail_attempts is None or ctx.attempt <= options.fail_attempts
        if options.fail is not None and failing:
            error = TransientError if options.fail == "transient" else PermanentError
            raise error(f"echo step told to fail ({options.fail})", step=step.name)
        return StepOutcome(rows=options.rows, details=dict(options.details))


class DetachedEchoKind(EchoKind):
    """``EchoKind`` without a connection: it never joins a transaction, like ``python``."""

    name: ClassVar[str] = "echo_detached"
    label: ClassVar[str] = "ECHO-D"
    extensions: ClassVar[tuple[str, ...]] = ()
    uses_connection: ClassVar[bool] = False


class RestorableEchoOptions(EchoOptions):
    restore: Literal["ok", "fail"] = "ok"  # what ``restore`` does


class RestorableEchoKind(DetachedEchoKind):
    """``DetachedEchoKind`` with a ``restore``, like ``collect`` and ``publish``."""

    name: ClassVar[str] = "echo_restorable"
    label: ClassVar[str] = "ECHO-R"
    options_model: ClassVar[type[EchoOptions]] = RestorableEchoOptions

    @property
    def restored(self) -> list[str]:
        """The names of the steps ``restore`` was called for, in order."""
        with self._record.lock:
            return list(self._record.restored)

    def restore(self, step: PreparedEcho, ctx: ExecutionContext) -> StepOutcome:
        with self._record.lock:
            self._record.restored.append(step.name)
        options = step.options
        if isinstance(options, RestorableEchoOptions) and options.restore == "fail":
            raise PermanentError("echo restore told to fail", step=step.name)
        return StepOutcome(details={"restored": step.name})
