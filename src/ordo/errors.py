"""One error tree for everything ordo reports to a user.

Every error a user can cause or meet carries what they need to act on it: where (file, line,
step) and what to do (hint). The CLI catches only ``OrdoError`` and prints one line per problem;
anything else is a bug and prints a traceback.

    OrdoError                       exit code 1 unless a subclass says otherwise
    ├── InvalidInput                2: manifest, configuration or command line is wrong
    │   ├── ManifestInvalid         2: all problems found in one manifest, reported at once
    │   ├── ConfigError             2: a missing or malformed setting
    │   └── RunNotFound             2: no recorded run (or several) has the id asked for
    ├── NotConfirmed                3: the user did not confirm the plan
    ├── ManifestLocked              4: another run holds the manifest
    ├── ManifestWriteError          1: the manifest's done marks could not be written
    ├── StoreError                  1: the state store could not be opened, read or written
    ├── NotificationError           a notice could not be delivered (never stops a run)
    └── ExecutionError              1: a step failed while running
        ├── CannotConnect           a connection could not be opened (its two kinds below
        │                           are also a TransientError or a PermanentError)
        ├── TransientError          retrying may help (lost connection, deadlock, lock timeout)
        │   └── TransientCannotConnect  refused: the server may be restarting
        ├── PermanentError          retrying will not help (syntax, missing table, constraint)
        │   ├── PermanentCannotConnect  wrong password, no such database or host
        │   ├── StepTimeout         the step ran past its ``timeout``
        │   └── OutputFileError     a step's ``output_file`` could not be written
        └── MigrationError          1: a migration command could not do its work; its
                                    subclasses (files invalid, validation, failed, lock
                                    timeout, read-only, baseline refused) are listed in
                                    ``ordo.migrations.errors``

``RunNotFound`` and ``StoreError`` live with the store (``ordo.store.base``),
``NotificationError`` with the notifiers (``ordo.notify.base``); all are exported from ``ordo``
except ``NotificationError``, which a caller never meets (notifiers catch their own).

Driver exceptions are translated into ``TransientError`` or ``PermanentError`` where they enter
(``ordo.db.errors.database_errors``), always with ``raise ... from`` so the original stays
available; an ``OSError`` at a file ordo writes becomes ``OutputFileError`` or
``ManifestWriteError`` naming the file. Which of the three an execution error is travels as
an ``ErrorKind`` on the failure event, so readers need not guess from its message.

Errors are not changed once raised: a caller that knows more (the step, what it was doing)
raises ``exc.with_context(...)`` ``from exc``, a copy with the context added.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Self

__all__ = [
    "CannotConnect",
    "ConfigError",
    "ErrorKind",
    "ExecutionError",
    "InvalidInput",
    "ManifestInvalid",
    "ManifestLocked",
    "ManifestWriteError",
    "NotConfirmed",
    "OrdoError",
    "OutputFileError",
    "PermanentCannotConnect",
    "PermanentError",
    "Problem",
    "StepProblem",
    "StepTimeout",
    "TransientCannotConnect",
    "TransientError",
]


class ErrorKind(Enum):
    """How a failure should be handled: retried, given up on, or reported as a timeout."""

    TRANSIENT = "transient"  # retrying the unit may succeed
    PERMANENT = "permanent"  # retrying will fail the same way
    TIMEOUT = "timeout"  # the statement was cancelled (by our timeout if one was set)

    @classmethod
    def of(cls, error: BaseException) -> ErrorKind:
        """The kind of an ordo error by its type; anything not transient is permanent."""
        if isinstance(error, StepTimeout):
            return cls.TIMEOUT
        if isinstance(error, TransientError):
            return cls.TRANSIENT
        return cls.PERMANENT


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, with where it is and what to do about it."""

    message: str
    file: Path | None = None
    line: int | None = None
    step: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        step = f"step '{self.step}': " if self.step else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}{step}{self.message}{hint}"


class OrdoError(Exception):
    """Root of every error ordo reports to a user."""

    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        file: Path | None = None,
        line: int | None = None,
        step: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.step = step
        self.hint = hint

    def with_context(
        self,
        *,
        step: str | None = None,
        prefix: str | None = None,
        hint: str | None = None,
        mask: Callable[[str], str] | None = None,
    ) -> Self:
        """A copy of this error (same class) that says more; raise it ``from`` this one.

        ``step`` names the step when the error does not already (the innermost knows best),
        ``prefix`` says what was being done (``"could not commit"`` gives ``"could not commit:
        <message>"``), ``hint`` replaces the hint, and ``mask`` hides secrets in the message.
        The original is left as it was, so ``message`` always equals ``args[0]``.
        """
        message = f"{prefix}: {self.message}" if prefix else self.message
        if mask is not None:
            message = mask(message)
        new = type(self).__new__(type(self), message)
        new.__dict__.update(self.__dict__)
        new.args = (message,)
        new.message = message
        new.step = self.step or step
        new.hint = hint if hint is not None else self.hint
        return new

    @property
    def problems(self) -> list[Problem]:
        """The problems this error stands for; one unless it gathers several."""
        return [Problem(self.message, self.file, self.line, self.step, self.hint)]

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class InvalidInput(OrdoError):
    """The manifest, the configuration or the command line is wrong; nothing ran."""

    exit_code = 2


class ConfigError(InvalidInput):
    """A setting is missing or malformed; the message names the variable to set."""


class ManifestInvalid(InvalidInput):
    """Every problem found in a manifest, gathered so the user can fix them in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0] if problems else Problem("manifest is invalid")
        super().__init__(first.message, file=first.file, line=first.line, step=first.step)
        self._problems = list(problems)

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)


class NotConfirmed(OrdoError):
    """The user answered anything but yes at the confirmation prompt."""

    exit_code = 3


class ManifestLocked(OrdoError):
    """Another run of the same manifest is in progress."""

    exit_code = 4


class ManifestWriteError(OrdoError):
    """The manifest could not be rewritten to mark steps done; their work is committed."""


class ExecutionError(OrdoError):
    """A step failed while it ran.

    ``details`` is what the failing kind adds for the record (the rendered SQL of a template
    that failed): plain JSON values, kept in the log and in ``ordo runs show``.
    """

    exit_code = 1
    details: Mapping[str, Any] = MappingProxyType({})


class TransientError(ExecutionError):
    """A failure that may pass if the unit is tried again (lost connection, deadlock...)."""


class PermanentError(ExecutionError):
    """A failure that will happen again if the unit is tried again."""


class CannotConnect(ExecutionError):
    """A connection could not be opened: nothing of the unit ran, nothing rolled back.

    Raised as one of its two kinds, so that retrying stays an ``isinstance`` check; catch
    this class to tell "never connected" from "failed while working".
    """


class TransientCannotConnect(CannotConnect, TransientError):
    """Refused or reset: the server may be starting or restarting, so retrying may help."""


class PermanentCannotConnect(CannotConnect, PermanentError):
    """Wrong credentials, a missing database, an unknown host: the settings need fixing."""


class StepTimeout(PermanentError):
    """The step ran longer than its ``timeout``; it was cancelled."""


class OutputFileError(PermanentError):
    """A step's ``output_file`` could not be written; the step failed and rolled back."""


class StepProblem(Exception):
    """Something wrong with one step found while preparing it; ``key`` points at the line."""

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        hint: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.hint = hint
        self.line = line  # an exact 1-based line in ``file`` when known (a template's)
        self.file: Path | None = None
