"""Table names as a manifest writes them: ``[schema.]table``, each part plain or quoted.

Parsing needs no backend: the ledger, the migrator and the sql kind read names before any
dialect is chosen, and a manifest means the same thing wherever it runs. Folding and quoting a
parsed name is the dialect's job (``Dialect.quote_table``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["NamePart", "TableName", "parse_table_name"]

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$#]*")


@dataclass(frozen=True)
class NamePart:
    """One part of a table name as written: plain (folded by the dialect) or quoted (exact)."""

    text: str
    quoted: bool = False

    def __str__(self) -> str:
        return '"' + self.text.replace('"', '""') + '"' if self.quoted else self.text


@dataclass(frozen=True)
class TableName:
    """``[schema.]table`` as the user wrote it; ``Dialect.quote_table`` renders it for SQL."""

    table: NamePart
    schema: NamePart | None = None

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else str(self.table)


def parse_table_name(text: str) -> TableName:
    """Parse ``[schema.]table``; each part plain (``[A-Za-z_][A-Za-z0-9_$#]*``) or ``"quoted"``.

    Inside a quoted part ``""`` stands for one ``"``. Anything else (spaces, a third part, an
    empty or unterminated quoted name, NUL) raises ``ValueError`` saying what is wrong, so a
    ``cleanup_target`` can never smuggle SQL into a ``DROP``. The same rules hold on every
    backend: a manifest means the same thing wherever it runs.
    """
    source = text.strip()
    if not source:
        raise ValueError("table name is empty")
    parts: list[NamePart] = []
    pos = 0
    while True:
        if source.startswith('"', pos):
            part, pos = _quoted_part(text, source, pos)
        else:
            match = _PLAIN.match(source, pos)
            if match is None:
                found = source[pos] if pos < len(source) else "end of text"
                raise ValueError(
                    f"table name {text!r}: unexpected {found!r} at position {pos + 1}; a name "
                    "is letters, digits, _, $ or # (not starting with a digit), or "
                    'double-quoted like "Mixed Case"'
                )
            part, pos = NamePart(match.group()), match.end()
        parts.append(part)
        if pos == len(source):
            break
        if source[pos] != ".":
            raise ValueError(
                f"table name {text!r}: unexpected {source[pos]!r} at position {pos + 1}"
            )
        pos += 1
    if len(parts) > 2:
        raise ValueError(f"table name {text!r} has {len(parts)} parts; write table or schema.table")
    return TableName(parts[-1], parts[0] if len(parts) == 2 else None)


def _quoted_part(text: str, source: str, start: int) -> tuple[NamePart, int]:
    chunks: list[str] = []
    pos = start + 1
    while True:
        end = source.find('"', pos)
        if end == -1:
            raise ValueError(f"table name {text!r}: quoted name at position {start + 1} never ends")
        chunks.append(source[pos:end])
        if source.startswith('""', end):
            chunks.append('"')
            pos = end + 2
            continue
        name = "".join(chunks)
        if not name:
            raise ValueError(f"table name {text!r}: empty quoted name at position {start + 1}")
        if "\x00" in name:
            raise ValueError(f"table name {text!r}: contains a NUL character")
        return NamePart(name, quoted=True), end + 1
