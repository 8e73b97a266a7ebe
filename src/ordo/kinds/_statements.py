"""One statement per sql step unless it says ``split_statements: true``, checked at plan time.

Drivers disagree on a text holding two statements: psycopg and DuckDB run both, sqlite3
refuses ("You can only execute one statement at a time") and MariaDB answers with a syntax
error, each only once the run is under way. So the rendered SQL is cut with the dialect's own
scanner (``ordo.db.statements``: strings, quoted names, comments, dollar quotes, ``BEGIN ...
END`` bodies, ``DELIMITER``) before anything runs. A second statement is refused with its
line; a step that asks for it has each statement sent on its own, in order, in the step's
transaction, the same on every backend. A trailing ``;`` or comment is no statement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ordo._words import plural
from ordo.errors import StepProblem

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect
    from ordo.db.statements import Statement

__all__ = ["step_statements"]

_HINT = (
    "put each statement in a step of its own, or add 'split_statements: true' to the step "
    "to run them one by one, in order, in its transaction"
)


def step_statements(
    sql: str,
    template: str,
    *,
    source: Path | None,
    split: bool,
    dialect: Dialect | None,
    mask: Callable[[str], str],
) -> tuple[Statement, ...]:
    """The statements a sql step sends one by one; ``()`` when it sends ``sql`` whole.

    With ``split``, every statement found is sent on its own, even a single one, so client
    lines such as MySQL's ``DELIMITER`` are never sent.

    ``sql`` is the rendered text of ``template`` (the file, or the inline ``sql``); a
    statement's ``line`` is the line of the file where it starts, when that is known.
    Raises ``StepProblem`` for a second statement the step did not ask to split.
    """
    if dialect is None:  # an unknown connection, reported on its own
        return ()
    from ordo.db.statements import split_statements  # the scanner: only for SQL steps

    found = split_statements(sql, dialect.script_syntax)
    if not found or (len(found) == 1 and not split):
        return ()
    # Rendering that keeps the line count keeps each line where it was in the file.
    same_lines = template.count("\n") == sql.count("\n")
    if split:  # line 0: not a line of the file (inline sql, or moved by the template)
        return tuple(s if source and same_lines else replace(s, line=0) for s in found)
    second = found[1]
    text = mask(second.first_line)
    if source is None:
        where, key, line = f"on line {second.line} of the inline sql", "sql", None
    elif same_lines:
        where, key, line = f"on line {second.line}", "file", second.line
    else:
        where, key, line = f"on line {second.line} of the rendered SQL", "file", None
    problem = StepProblem(
        f"{plural(len(found), 'statement')} in one sql step: the second starts {where}: {text}",
        key=key,
        line=line,
        hint=_HINT,
    )
    problem.file = source
    raise problem
