"""Errors carry context without being changed, and the boundary translates only database errors.

``database_errors`` is where ordo enters a database: a driver's error becomes an ordo error
``from`` it, and anything else (a bug) goes on unchanged, so it shows as a traceback under
``--debug`` instead of a one-line "step failed".
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

from ordo.db.dialects import ErrorKind as DialectErrorKind
from ordo.db.errors import database_errors, translate
from ordo.errors import (
    ErrorKind,
    ExecutionError,
    ManifestWriteError,
    OrdoError,
    OutputFileError,
    PermanentError,
    StepTimeout,
    TransientError,
)
from ordo.events import StepFailed
from ordo.masking import Masker


def test_a_bug_passes_the_boundary_unchanged() -> None:
    bug = AttributeError("'NoneType' object has no attribute 'execute'")
    with pytest.raises(AttributeError) as raised, database_errors(masker=Masker()):
        raise bug
    assert raised.value is bug


def test_translate_no_longer_calls_a_bug_a_permanent_error() -> None:
    with pytest.raises(TypeError, match="not a database error: AttributeError"):
        translate(AttributeError("'NoneType' object has no attribute 'execute'"))


def test_a_driver_error_becomes_a_permanent_error_from_it() -> None:
    driver = sqlite3.OperationalError("no such table: nope")
    with pytest.raises(PermanentError) as raised, database_errors(masker=Masker(), step="s"):
        raise driver
    assert raised.value.__cause__ is driver
    assert raised.value.step == "s"
    assert "no such table: nope" in raised.value.message


def test_a_socket_error_is_transient_and_the_password_is_masked() -> None:
    with (
        pytest.raises(TransientError) as raised,
        database_errors(masker=Masker(["s3cret-pw"])),
    ):
        raise ConnectionResetError("reset by peer, password s3cret-pw")
    assert "s3cret-pw" not in raised.value.message


def test_ordo_errors_pass_the_boundary_unchanged() -> None:
    original = PermanentError("already said")
    with pytest.raises(PermanentError) as raised, database_errors(masker=None):
        raise original
    assert raised.value is original


def test_sqlalchemy_errors_are_database_errors() -> None:
    with pytest.raises(TransientError), database_errors(masker=None):
        raise sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached")


def test_with_context_is_a_new_error_of_the_same_class() -> None:
    original = TransientError("deadlock detected", hint="retrying may help")
    copy = original.with_context(step="load", prefix="could not commit")
    assert type(copy) is TransientError
    assert copy is not original
    assert copy.message == copy.args[0] == "could not commit: deadlock detected"
    assert copy.step == "load"
    assert copy.hint == "retrying may help"
    assert original.message == original.args[0] == "deadlock detected"
    assert original.step is None


def test_with_context_keeps_the_innermost_step_and_masks() -> None:
    original = StepTimeout("cancelled, password hunter2", step="inner")
    copy = original.with_context(step="outer", hint="raise it", mask=Masker(["hunter2"]).mask)
    assert isinstance(copy, StepTimeout)
    assert copy.step == "inner"
    assert copy.hint == "raise it"
    assert "hunter2" not in copy.message
    assert "hunter2" not in str(copy)


def test_with_context_is_raised_from_the_original() -> None:
    original = PermanentError("boom")

    def add_context() -> None:
        try:
            raise original
        except OrdoError as exc:
            raise exc.with_context(prefix="while doing x") from exc

    with pytest.raises(PermanentError) as raised:
        add_context()
    assert raised.value.__cause__ is original


def test_the_new_file_errors_sit_in_the_tree() -> None:
    assert issubclass(OutputFileError, PermanentError)
    assert issubclass(ManifestWriteError, OrdoError)
    assert not issubclass(ManifestWriteError, ExecutionError)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (TransientError("x"), ErrorKind.TRANSIENT),
        (StepTimeout("x"), ErrorKind.TIMEOUT),
        (PermanentError("x"), ErrorKind.PERMANENT),
        (OutputFileError("x"), ErrorKind.PERMANENT),
    ],
)
def test_the_error_kind_travels_on_the_failure_event(
    error: ExecutionError, kind: ErrorKind
) -> None:
    event = StepFailed("run", "s", "sql", 1, 0.1, error.message, ErrorKind.of(error))
    assert event.error_kind is kind
    assert event.transient is (kind is ErrorKind.TRANSIENT)


def test_dialects_still_export_the_error_kind() -> None:
    assert DialectErrorKind is ErrorKind
