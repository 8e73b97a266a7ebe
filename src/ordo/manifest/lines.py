"""The manifest's text as lines, and where things are on a line, for ``ManifestState``.

Pure functions on strings and ``StepLocation``: splitting where the parser splits lines,
finding the end of a scalar, the comment after a flow step's closing brace, and the BOM's
column shift the parser does not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ordo.manifest.locate import StepLocation
from ordo.manifest.yaml_source import LINE_BREAKS

__all__ = [
    "EOL",
    "LINE",
    "after_bom",
    "comment_start",
    "crowded",
    "eol_of",
    "indent",
    "split_value",
    "value_start",
]

# The lines must be split exactly where the parser counts line breaks, or its line numbers point
# at the wrong line: libyaml counts "\r\n", "\n", "\r", NEL, LS and PS (str.splitlines also
# splits on \x0c and others that may sit inside a quoted value).
LINE = re.compile(f"[^{LINE_BREAKS}]*(?:\r\n|[{LINE_BREAKS}])|[^{LINE_BREAKS}]+\\Z")
EOL = re.compile(f"(\r\n|[{LINE_BREAKS}])\\Z")
QUOTED = re.compile(r"'(?:[^']|'')*'" + r'|"(?:[^"\\]|\\.)*"')
PROPERTIES = re.compile(r"(?:[&!]\S*[ \t]+)*")  # an anchor and/or a tag before a value


def after_bom(loc: StepLocation) -> StepLocation:
    """Columns on the first line moved one to the right, past the BOM."""
    changes: dict[str, Any] = {}
    if loc.value_line == 0 and loc.value_col is not None:
        changes["value_col"] = loc.value_col + 1
        if loc.value_end_col is not None:
            changes["value_end_col"] = loc.value_end_col + 1
    if loc.lone_value_col is not None and loc.insert_at == 1:
        changes["lone_value_col"] = loc.lone_value_col + 1
    if loc.flow and loc.insert_line == 0:
        changes["insert_col"] = loc.insert_col + 1
    if loc.flow and loc.close_line == 0:
        changes["close_col"] = loc.close_col + 1
    return replace(loc, **changes) if changes else loc


def crowded(locations: Iterable[StepLocation]) -> set[str]:
    """Flow steps that share a line with another flow step."""
    seen: dict[int, str] = {}
    crowded: set[str] = set()
    for loc in locations:
        if not loc.flow:
            continue
        first = min(loc.line, loc.insert_line, loc.close_line)
        for line in range(first, loc.close_line + 1):
            other = seen.setdefault(line, loc.name)
            if other != loc.name:
                crowded.update((other, loc.name))
    return crowded


def value_start(content: str, col: int) -> int:
    """Where the scalar starts: after the anchor or tag the parser's column may point at."""
    properties = PROPERTIES.match(content, col)
    return properties.end() if properties else col


def comment_start(content: str, col: int) -> int:
    """Where the comment after ``col`` starts (with the blanks before it), or the line's end.

    Quoted scalars after ``col`` (more flow items on the line) are skipped: a ``#`` inside one
    is text.
    """
    i = col
    while i < len(content):
        ch = content[i]
        if ch in "'\"":
            quoted = QUOTED.match(content, i)
            i = quoted.end() if quoted else len(content)
            continue
        if ch == "#" and i > col and content[i - 1] in " \t":
            break
        i += 1
    return len(content[:i].rstrip(" \t"))


def indent(content: str) -> int:
    return len(content) - len(content.lstrip(" "))


def eol_of(line: str) -> str:
    match = EOL.search(line)
    return match.group(1) if match else ""


def split_value(content: str, col: int) -> tuple[int, str, str] | None:
    """Split a line at ``col`` into where the scalar starts, the scalar, and what follows it.

    The parser's value column is that of the node's anchor or tag when it has one; those stay put.
    None when a quoted scalar does not close on this line: it goes on over several lines.
    """
    properties = PROPERTIES.match(content, col)
    start = properties.end() if properties else col
    rest = content[start:]
    if rest[:1] in ("'", '"'):
        quoted = QUOTED.match(rest)
        return (start, quoted.group(), rest[quoted.end() :]) if quoted else None
    comment = re.search(r"[ \t]#", rest)
    raw = rest[: comment.start() if comment else len(rest)].rstrip()
    return start, raw, rest[len(raw) :]
