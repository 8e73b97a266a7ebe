"""How a backend's SQL scripts are cut into statements: the lexical facts, as data.

The statement splitter (``ordo.db.statements``) is one scanner for every backend; what
differs between backends is only which quotes, comments and terminators the script language
has. Each dialect declares those facts in a ``ScriptSyntax``, so the splitter never asks which
backend it is reading and a new backend describes its scripts where the rest of it lives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ScriptSyntax"]


@dataclass(frozen=True)
class ScriptSyntax:
    """The lexical rules of one backend's scripts; the defaults are plain ANSI SQL."""

    go_batches: bool = False
    """``GO`` lines separate batches, each sent whole and never split further (T-SQL)."""
    complete_statement: Callable[[str], bool] | None = None
    """Whether the text so far is a complete statement: a ``;`` ends one only then (SQLite's
    own rule, ``sqlite3.complete_statement``, for ``CREATE TRIGGER ... BEGIN ... END;``)."""
    backslash_escapes: bool = False
    """Backslashes escape inside ``'...'`` and ``"..."``; ``#`` and ``-- `` (dash, dash,
    space) comments; ``/*! ... */`` is code; the client's ``DELIMITER`` lines (MySQL)."""
    routine_blocks: bool = False
    """``BEGIN`` opens a ``BEGIN ... END`` block in the body of ``CREATE|ALTER PROCEDURE|
    FUNCTION|TRIGGER|EVENT`` (MySQL compound statements); elsewhere only ``BEGIN ATOMIC``
    and ``BEGIN NOT ATOMIC`` do, so a ``begin`` column or a transaction's BEGIN opens none."""
    escape_strings: bool = False
    """``E'...'`` strings take backslash escapes (PostgreSQL, DuckDB)."""
    dollar_quotes: bool = False
    """``$$ ... $$`` and ``$tag$ ... $tag$`` bodies (PostgreSQL, DuckDB)."""
    nested_comments: bool = False
    """``/* /* */ */`` nests (PostgreSQL)."""
    backtick_quotes: bool = True
    """```name``` is a quoted name, so a ``;`` inside it is no terminator."""
    bracket_quotes: bool = False
    """``[name]`` is a quoted name (SQLite)."""
    slash_lines: bool = False
    """A line holding only ``/`` ends a PL/SQL unit, as in SQL*Plus (Oracle)."""
    plsql_units: bool = False
    """``DECLARE``, ``BEGIN`` and ``CREATE ... PROCEDURE|FUNCTION|...`` run to a ``/`` line,
    their own ``;`` included (Oracle)."""
    copy_from_stdin: bool = False
    """``COPY ... FROM stdin;`` is followed by its rows, up to a line holding only ``\\.``
    (psql and pg_dump scripts): data, not SQL (PostgreSQL)."""
