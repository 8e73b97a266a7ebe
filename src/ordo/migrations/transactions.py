"""Which migrations must run outside a transaction, read from their statements as Flyway does.

PostgreSQL refuses some statements inside a transaction block (``CREATE INDEX CONCURRENTLY``,
``VACUUM``, ...). Flyway recognises them by their first words and runs a file made only of
them in autocommit, so such files work without any marker; ordo does the same, so a folder
shared with Flyway applies unchanged (``-- ordo:no-transaction`` still forces autocommit).
A file that mixes them with ordinary statements cannot be run either way as written: in one
transaction PostgreSQL refuses it, in autocommit a failure halfway leaves half of it applied.
It is refused unless the user allows mixing (Flyway's ``mixed``), which runs it in autocommit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ordo.db.statements import Statement

__all__ = ["TransactionPlan", "is_non_transactional", "transaction_plan"]

_SPACE = re.compile(r"\s+")
# Flyway 7's PostgreSQLParser patterns (and PostgreSQL 12's REINDEX ... CONCURRENTLY),
# matched on the statement upper-cased with its spaces collapsed.
_ALWAYS = re.compile(
    r"^(?:"
    r"(?:CREATE|DROP)(?: UNIQUE)? INDEX CONCURRENTLY\b"
    r"|VACUUM\b"
    r"|REINDEX(?: VERBOSE| \([^)]*\))? (?:SCHEMA|DATABASE|SYSTEM)\b"
    r"|REINDEX(?: \([^)]*\))? (?:INDEX|TABLE|SCHEMA|DATABASE|SYSTEM) CONCURRENTLY\b"
    r"|(?:CREATE|DROP) (?:DATABASE|TABLESPACE|SUBSCRIPTION)\b"
    r"|ALTER SYSTEM\b"
    r"|DISCARD ALL\b"
    r")"
)
_ADD_VALUE = re.compile(r"^ALTER TYPE\b.*? ADD VALUE\b", re.S)


def _normalized(sql: str) -> str:
    return _SPACE.sub(" ", sql.strip()).upper()


def is_non_transactional(sql: str, server_version: tuple[int, ...] | None = None) -> bool:
    """Whether PostgreSQL refuses ``sql`` inside a transaction block. ``ALTER TYPE ... ADD
    VALUE`` is refused only before PostgreSQL 12 (an unknown version counts as 12 or later)."""
    text = _normalized(sql)
    if _ALWAYS.match(text):
        return True
    old = server_version is not None and server_version[:1] < (12,)
    return old and _ADD_VALUE.match(text) is not None


@dataclass(frozen=True)
class TransactionPlan:
    """How a file's statements can run: ``autocommit`` when any of them refuses a transaction;
    ``mixed_at`` is the first such statement of a file that also holds ordinary ones."""

    autocommit: bool
    mixed_at: Statement | None = None


def transaction_plan(
    statements: Sequence[Statement], server_version: tuple[int, ...] | None
) -> TransactionPlan:
    """The plan for a PostgreSQL file's ``statements`` (an empty file runs in a transaction)."""
    outside = [s for s in statements if is_non_transactional(s.sql, server_version)]
    if not outside:
        return TransactionPlan(autocommit=False)
    if len(outside) == len(statements):
        return TransactionPlan(autocommit=True)
    return TransactionPlan(autocommit=True, mixed_at=outside[0])
