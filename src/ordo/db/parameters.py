"""A user's statement as a SQLAlchemy ``text()`` whose only bind parameters are real ones.

``text()`` finds ``:name`` with a regular expression over the whole string, so a colon in
``'a :b'``, ``"a :b"``, ``-- :c``, ``$$ :x $$`` or a JSON literal (``'{"k":1}'``) became a
parameter that needed a value. Here the dialect's scanner (``ordo.db.statements``) says which
colons are code; a ``:name`` there (after no name character, as ``text()`` itself requires) is
a parameter, and every other colon is escaped as ``\\:``, which ``text()`` sends as a plain
colon. So the database gets the statement exactly as written, parameters aside; a ``\\:name``
the user wrote in code stays ``text()``'s own escape for a literal ``:name``.
"""

from __future__ import annotations

import re

from sqlalchemy import TextClause, text

from ordo.db.dialects import ScriptSyntax
from ordo.db.statements import code_colons

__all__ = ["bound_text"]

# A bind parameter where a code colon starts one: the rule of ``text()``, minus ``$`` before.
_PARAMETER = re.compile(r"(?<![\w$:\\]):(\w+)")


def bound_text(sql: str, syntax: ScriptSyntax) -> TextClause:
    """``text(sql)`` binding only the ``:name`` parameters that are SQL code."""
    if ":" not in sql:
        return text(sql)
    keep = {
        pos
        for pos in code_colons(sql, syntax)
        if _PARAMETER.match(sql, pos) or (pos and sql[pos - 1] == "\\")
    }
    parts: list[str] = []
    start = 0
    for pos in (i for i, char in enumerate(sql) if char == ":" and i not in keep):
        parts += [sql[start:pos], "\\"]
        start = pos
    parts.append(sql[start:])
    return text("".join(parts))
