"""Split SQL text (a migration, a step's file) into the statements a database takes one at a time.

Drivers take one statement per ``execute`` (sqlite3 and psycopg refuse or mishandle several),
and an error must name the statement that failed. A ``;`` ends a statement unless it sits in
a string, a quoted name, a comment, parentheses (PostgreSQL ``CREATE RULE ... DO ALSO (a; b)``),
a PostgreSQL dollar-quoted body (``$$ ... $$``, ``$tag$ ... $tag$``) or a ``BEGIN ... END`` /
``CASE ... END`` block. BEGIN opens a block only where the dialect says so:
``BEGIN ATOMIC`` (PostgreSQL), ``BEGIN NOT ATOMIC`` (MariaDB), and on MySQL/MariaDB the
bodies of ``CREATE|ALTER PROCEDURE|FUNCTION|TRIGGER|EVENT``; a statement that starts with
BEGIN alone is transaction control, and ``begin`` as a name (``CREATE TABLE t (begin INT)``)
opens nothing. Per backend:

- SQLite decides itself: a ``;`` ends a statement when ``sqlite3.complete_statement`` says
  the text so far is complete (its rule for ``CREATE TRIGGER ... BEGIN ... END;``).
- MySQL/MariaDB: backslash escapes in strings, ``#`` comments, ``-- `` only before a space,
  ``/*! ... */`` kept as code, and the mysql client's ``DELIMITER //`` lines: the custom
  delimiter is looked for before comments (``DELIMITER #``) and ends a statement even glued
  to a word (``END$$``), as in the mysql client.
- Oracle: a PL/SQL unit (``DECLARE``, ``BEGIN``, ``CREATE [OR REPLACE] PROCEDURE|FUNCTION|
  PACKAGE|TRIGGER|TYPE``) ends at a line holding only ``/``, as in SQL*Plus and Flyway.
- SQL Server: batches separated by ``GO`` lines, each sent whole (T-SQL runs a batch).
- PostgreSQL: ``COPY ... FROM stdin;`` is followed by its rows (pg_dump's format), up to a
  line holding only ``\\.``, as psql reads them. They are data, not SQL (a ``;``, a quote or
  ``--`` in them means nothing), so they become the statement's ``copy_data``, for the
  driver's COPY; a block with no ``\\.`` line is ``CopyDataUnterminated``.

Why not ``sqlparse.split``: tried first, it splits a MySQL ``REPEAT ... END REPEAT`` inside a
procedure, an Oracle ``DECLARE`` block and a PostgreSQL string ending in a backslash
(``'C:\\'``) in the wrong place (``tests/unit/test_migrate_statements.py`` holds these cases).
The terminator (``;``, the custom delimiter, ``/`` or ``GO``) is not part of the statement
text sent; comments before a statement are left out, comments inside it are kept.

The same scan finds the colons that are SQL code (``code_colons``), for ``ordo.db.parameters``
to tell a bound ``:name`` from a colon in a string, a quoted name, a comment or a body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ordo.db.dialects import ScriptSyntax, dialect_for
from ordo.errors import InvalidInput

__all__ = ["CopyDataUnterminated", "Statement", "code_colons", "split_statements"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$#]*")
_NAME = re.compile(r"\w+")
_NAME_BEFORE = re.compile(r"[\w$:\\]")  # a colon after one of these starts no bind name
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_GO = re.compile(r"^[ \t]*GO(?:[ \t]+\d+)?[ \t]*$", re.I | re.M)
_ROUTINES = frozenset({"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"})
# A BEGIN with one of these before (after) it is a name: "t.begin", "begin = 1", "(x, begin)".
_BEFORE_NAME_CHARS = frozenset(".,=<>+|&!^%")  # not - * /: a comment may end right before
_AFTER_NAME_CHARS = frozenset(".,=<>+-*/|&!^%;)")
_SPACE_AND_COMMENTS = re.compile(r"(?:\s+|--[^\r\n]*|#[^\r\n]*|/\*.*?\*/)*", re.S)
_BEFORE_A_NAME = frozenset({"SELECT", "WHERE", "SET", "AND", "OR", "BY", "AS", "DECLARE"})
_END_OF_LOOP = frozenset({"IF", "LOOP", "WHILE", "REPEAT", "FOR"})
_PLSQL_UNITS = frozenset({"PROCEDURE", "FUNCTION", "PACKAGE", "TRIGGER", "TYPE", "LIBRARY", "JAVA"})
# The line that ends a COPY's rows: only "\." (spaces after it tolerated), at a line start.
_COPY_END = re.compile(r"(?:(?<=\n)|(?<=\r))\\\.[ \t]*(?=[\r\n]|\Z)")


@dataclass(frozen=True)
class Statement:
    """One statement: its 1-based number in the file, the line it starts on, its text, and
    for a PostgreSQL ``COPY ... FROM stdin`` the rows that followed it (``copy_data``: the
    lines before the ``\\.`` one, line breaks kept), which are sent through the driver's COPY."""

    number: int
    line: int
    sql: str
    copy_data: str | None = None

    @property
    def first_line(self) -> str:
        """The statement's first line, shortened: how an error points at it."""
        return _shortened(self.sql)


class CopyDataUnterminated(InvalidInput):
    """A ``COPY ... FROM stdin`` whose rows never end: no line holding only ``\\.`` follows.
    ``line`` is the line the COPY starts on (the caller adds the file)."""

    def __init__(self, sql: str, line: int) -> None:
        super().__init__(
            f"the rows of {_shortened(sql)} (line {line}) have no line holding only \\. after them",
            line=line,
            hint="end the rows of a COPY ... FROM stdin with a line holding only \\., "
            "as pg_dump writes them",
        )


def _shortened(sql: str) -> str:
    line = sql.splitlines()[0].strip() if sql.strip() else ""
    return line if len(line) <= 80 else line[:77] + "..."


def split_statements(text: str, syntax: ScriptSyntax | str) -> list[Statement]:
    """The statements of ``text`` in a backend's script syntax (or its name), in order."""
    if isinstance(syntax, str):
        syntax = dialect_for(syntax).script_syntax
    if syntax.go_batches:
        return _split_batches(text)
    return _Splitter(text, syntax).run()


def code_colons(text: str, syntax: ScriptSyntax | str) -> list[int]:
    """Offsets of the ``:`` characters of ``text`` that are code, in order: not inside a
    string, a quoted name, a comment or a dollar-quoted body (``GO`` lines aside, a T-SQL
    batch is scanned like any other text)."""
    if isinstance(syntax, str):
        syntax = dialect_for(syntax).script_syntax
    splitter = _Splitter(text, syntax)
    splitter.run()
    return splitter.colons


class _Lines:
    """Line numbers of increasing offsets, each stretch of text counted once."""

    def __init__(self, text: str) -> None:
        self.text, self.offset, self.line = text, 0, 1

    def at(self, index: int) -> int:
        self.line += len(_LINE_BREAK.findall(self.text, self.offset, index))
        self.offset = index
        return self.line


def _split_batches(text: str) -> list[Statement]:
    statements: list[Statement] = []
    lines = _Lines(text)
    start = 0
    for match in [*_GO.finditer(text), None]:
        end = match.start() if match else len(text)
        chunk = text[start:end]
        if chunk.strip():
            offset = start + len(chunk) - len(chunk.lstrip())
            statements.append(Statement(len(statements) + 1, lines.at(offset), chunk.strip()))
        start = match.end() if match else end
    return statements


class _Splitter:
    """One pass over the text; ``pos`` only moves forward."""

    def __init__(self, text: str, syntax: ScriptSyntax) -> None:
        self.text = text
        self.syntax = syntax
        self.mysql = syntax.backslash_escapes
        self.pos = 0
        self.start: int | None = None  # first code character of the current statement
        self.depth = 0  # open BEGIN/CASE blocks
        self.parens = 0  # open parentheses
        self.words: list[str] = []  # the first words of the current statement, upper-cased
        self.delimiter = ";"
        self.statements: list[Statement] = []
        self.lines = _Lines(text)
        self.colons: list[int] = []  # offsets of the colons that are code
        self.previous = ""  # the last word read, upper-cased
        self.copy_in = False  # the statement is a COPY ... FROM STDIN: rows follow its ;

    def run(self) -> list[Statement]:
        text, n = self.text, len(self.text)
        while self.pos < n:
            char = text[self.pos]
            if char.isspace():
                space = _SPACE.match(text, self.pos)
                self.pos = space.end() if space else self.pos + 1
            elif self.delimiter != ";" and text.startswith(self.delimiter, self.pos):
                self._end(self.pos, len(self.delimiter))  # before comments: "DELIMITER #"
            elif self._comment():
                continue
            elif char == ";":
                self._semicolon()
            elif char == "/" and self.syntax.slash_lines and self._slash_line():
                continue
            else:
                self._code(char)
        if self.start is not None:
            self._end(n, 0)
        return self.statements

    # -- statement boundaries -----------------------------------------------------------

    def _end(self, end: int, skip: int) -> None:
        if self.start is not None:
            sql = self.text[self.start : end].rstrip()
            number = len(self.statements) + 1
            self.statements.append(Statement(number, self.lines.at(self.start), sql))
        self.start, self.depth, self.parens, self.words = None, 0, 0, []
        self.previous, self.copy_in = "", False
        self.pos = end + skip

    def _end_copy(self) -> None:
        """End a ``COPY ... FROM stdin`` at its ``;``: its rows start on the next line and
        run to the ``\\.`` line, whatever they hold; scanning goes on after that line."""
        assert self.start is not None
        start, sql = self.start, self.text[self.start : self.pos].rstrip()
        line = self.lines.at(start)
        after = _LINE_BREAK.search(self.text, self.pos)
        rows = after.end() if after else len(self.text)
        terminator = _COPY_END.search(self.text, rows)
        if after is None or terminator is None:
            raise CopyDataUnterminated(sql, line)
        number = len(self.statements) + 1
        data = self.text[rows : terminator.start()]
        self.statements.append(Statement(number, line, sql, data))
        self.start = None  # recorded: _end only resets the state
        self._end(terminator.end(), 0)

    def _semicolon(self) -> None:
        if self.start is None or self.delimiter != ";":
            self.pos += 1  # an empty statement, or a ; inside a DELIMITER // ... // one
        elif self.syntax.complete_statement is not None:
            if self.syntax.complete_statement(self.text[self.start : self.pos + 1]):
                self._end(self.pos, 1)
            else:
                self.pos += 1
        elif self.depth > 0 or self.parens > 0 or self._plsql():
            self.pos += 1
        elif self.copy_in:
            self._end_copy()
        else:
            self._end(self.pos, 1)

    def _plsql(self) -> bool:
        if not self.syntax.plsql_units or not self.words:
            return False
        words = [
            w for w in self.words if w not in ("OR", "REPLACE", "EDITIONABLE", "NONEDITIONABLE")
        ]
        if words[0] in ("DECLARE", "BEGIN"):
            return True
        return words[0] == "CREATE" and len(words) > 1 and words[1] in _PLSQL_UNITS

    def _slash_line(self) -> bool:
        """Oracle: a line holding only ``/`` ends a PL/SQL unit (or is a no-op)."""
        line_start = self.text.rfind("\n", 0, self.pos) + 1
        line_end = _LINE_BREAK.search(self.text, self.pos)
        end = line_end.start() if line_end else len(self.text)
        if self.text[line_start : self.pos].strip() or self.text[self.pos + 1 : end].strip():
            return False
        if self.start is not None:
            self._end(self.pos, 1)
        self.pos = end
        return True

    # -- comments, strings, words ---------------------------------------------------------

    def _comment(self) -> bool:
        text, pos = self.text, self.pos
        if text.startswith("--", pos):
            after = text[pos + 2 : pos + 3]
            if not self.mysql or after == "" or after.isspace():
                self._skip_line()
                return True
        if self.mysql and text.startswith("#", pos):
            self._skip_line()
            return True
        if text.startswith("/*", pos):
            if self.mysql and text[pos + 2 : pos + 3] in ("!", "+"):
                return False  # executable comment: code
            self.pos = self._block_comment_end(pos)
            return True
        return False

    def _skip_line(self) -> None:
        match = _LINE_BREAK.search(self.text, self.pos)
        self.pos = match.start() if match else len(self.text)

    def _block_comment_end(self, pos: int) -> int:
        depth, pos = 1, pos + 2
        while depth:
            close = self.text.find("*/", pos)
            if close == -1:
                return len(self.text)
            nested = self.text.find("/*", pos, close) if self.syntax.nested_comments else -1
            if nested != -1:
                depth, pos = depth + 1, nested + 2
            else:
                depth, pos = depth - 1, close + 2
        return pos

    def _code(self, char: str) -> None:
        if self.start is None:
            self.start = self.pos
        text, pos = self.text, self.pos
        if char == "'":
            escapes = self.mysql or (
                self.syntax.escape_strings
                and pos > 0
                and text[pos - 1] in "eE"
                and not _ident(text, pos - 2)
            )
            self.pos = _quoted_end(text, pos, "'", escapes)
        elif char == '"':
            self.pos = _quoted_end(text, pos, '"', self.mysql)
        elif char == "`" and self.syntax.backtick_quotes:
            self.pos = _quoted_end(text, pos, "`", False)
        elif char == "[" and self.syntax.bracket_quotes:
            close = text.find("]", pos + 1)
            self.pos = close + 1 if close != -1 else len(text)
        elif char == "$" and self.syntax.dollar_quotes and (tag := _DOLLAR_TAG.match(text, pos)):
            close = text.find(tag.group(), tag.end())
            self.pos = close + len(tag.group()) if close != -1 else len(text)
        elif char == "/" and self.mysql and text.startswith("/*", pos):
            close = text.find("*/", pos + 2)
            self.pos = close + 2 if close != -1 else len(text)
        elif char == ":":
            self._colon()
        elif char in "()":
            self.parens = self.parens + 1 if char == "(" else max(0, self.parens - 1)
            self.pos += 1
        elif match := _WORD.match(text, pos):
            end = match.end()
            if self.delimiter != ";" and (cut := text.find(self.delimiter, pos + 1, end)) != -1:
                end = cut  # "END$$": the word stops where the delimiter starts
            self.pos = end
            self._word(text[pos:end].upper())
        else:
            self.pos += 1

    def _colon(self) -> None:
        """A colon in code. The word right after one that follows no name is a bind
        parameter's name (``:end``, ``:case``), never a keyword that opens or closes a block."""
        self.colons.append(self.pos)
        before = self.text[self.pos - 1] if self.pos else ""
        self.pos += 1
        if not (before and _NAME_BEFORE.match(before)) and (
            name := _NAME.match(self.text, self.pos)
        ):
            self.pos = name.end()

    def _word(self, word: str) -> None:
        first = not self.words
        if len(self.words) < 8:
            self.words.append(word)
        previous, self.previous = self.previous, word
        if (
            self.syntax.copy_from_stdin
            and word == "STDIN"
            and previous == "FROM"
            and not self.parens
            and self.words[0] == "COPY"
        ):
            self.copy_in = True  # "COPY (SELECT a FROM stdin) TO ..." reads a table: parens
        if self.mysql and first and word == "DELIMITER":
            self._set_delimiter()
        elif word == "BEGIN":
            if self._opens_block(first):
                self.depth += 1
        elif word == "CASE":
            self.depth += 1
        elif word == "END":
            following = self._next_word()
            if following in _END_OF_LOOP:
                self.pos = self._after_next_word()
            else:
                if following == "CASE":
                    self.pos = self._after_next_word()
                self.depth = max(0, self.depth - 1)

    def _opens_block(self, first: bool) -> bool:
        """Whether the BEGIN just read opens a ``BEGIN ... END`` block (see the module
        docstring); ``pos`` is right after it."""
        following = self._next_words(2)
        if following[:1] == ["ATOMIC"] or following == ["NOT", "ATOMIC"]:
            return True
        if first or self.parens or not self.syntax.routine_blocks:
            return False  # transaction control, or a name in a list, or no such bodies
        if not (self.words[0] in ("CREATE", "ALTER") and _ROUTINES.intersection(self.words)):
            return False
        start = self.pos - len("BEGIN")
        before = self.text[max(0, start - 200) : start].rstrip()[-1:]
        gap = _SPACE_AND_COMMENTS.match(self.text, self.pos)
        next_char = gap.end() if gap else self.pos
        after = self.text[next_char : next_char + 1]
        if before in _BEFORE_NAME_CHARS or after in _AFTER_NAME_CHARS:
            return False
        previous = _WORD.findall(self.text, max(0, start - 80), start)
        return not (previous and previous[-1].upper() in _BEFORE_A_NAME)

    def _set_delimiter(self) -> None:
        """``DELIMITER //`` (a mysql client command, never sent) changes the terminator."""
        match = _LINE_BREAK.search(self.text, self.pos)
        end = match.start() if match else len(self.text)
        delimiter = self.text[self.pos : end].strip()
        if delimiter and " " not in delimiter:
            self.delimiter = delimiter
            self.start, self.words = None, []
            self.pos = end

    def _next_word(self) -> str:
        """The next word (upper-cased), ``;`` or ``""`` at the end; comments are not skipped."""
        rest = self.text[self.pos : self.pos + 200].lstrip()
        if not rest or rest.startswith(";"):
            return rest[:1]
        match = _WORD.match(rest)
        return match.group().upper() if match else rest[:1]

    def _next_words(self, count: int) -> list[str]:
        """Up to ``count`` next words (upper-cased), stopping at anything that is not one."""
        words: list[str] = []
        pos, n = self.pos, len(self.text)
        while len(words) < count:
            while pos < n and self.text[pos].isspace():
                pos += 1
            match = _WORD.match(self.text, pos)
            if not match:
                break
            words.append(match.group().upper())
            pos = match.end()
        return words

    def _after_next_word(self) -> int:
        match = _WORD.search(self.text, self.pos)
        return match.end() if match else len(self.text)


def _ident(text: str, index: int) -> bool:
    return index >= 0 and (text[index].isalnum() or text[index] in "_$")


def _quoted_end(text: str, pos: int, quote: str, escapes: bool) -> int:
    """Index after the closing ``quote`` (doubled quotes and, if asked, backslashes escape)."""
    pattern = (_ESCAPED if escapes else _DOUBLED)[quote]
    match = pattern.match(text, pos)
    return match.end() if match else len(text)


_DOUBLED = {q: re.compile(f"{q}(?:[^{q}]|{q}{q})*{q}") for q in "'\"`"}
_ESCAPED = {q: re.compile(f"{q}(?:[^{q}\\\\]|{q}{q}|\\\\.)*{q}", re.S) for q in "'\"`"}
