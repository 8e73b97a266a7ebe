"""Record done steps in the manifest by editing single lines, and replace the file atomically.

The manifest is the user's file: marking a step done must change its ``enabled`` line and
nothing else (comments, quoting, blank lines, line endings, BOM all stay byte for byte), and a
crash must never leave it half-written. A full YAML re-dump would reformat the file and costs a
parse per step, so the loader parses once and records, for each step, where its ``enabled``
value is (or where such a line would go): a ``StepLocation``. ``ManifestState`` then keeps the
text as lines and edits them by position, shifting positions as lines are inserted.

A flow step (``- {name: a, file: b}``) has no ``enabled`` line of its own: its value is edited,
or ``enabled: false`` added, inside the braces, and the Done comment goes after the line of its
closing brace. A step that merges an anchor (``<<: *defaults``) gets a key of its own; the
anchor is never edited, since other steps read it too.

Temp files are named ``.<manifest name>.ordo-tmp-<hex>`` in the manifest's folder. One can be
left behind only if the process dies between creating it and renaming it; it is never read and
can be deleted.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_right, insort
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from ordo._files import write_atomic
from ordo.errors import InvalidInput, ManifestWriteError, OrdoError
from ordo.manifest.lines import (
    EOL,
    LINE,
    after_bom,
    comment_start,
    crowded,
    eol_of,
    indent,
    split_value,
    value_start,
)
from ordo.manifest.locate import BOOLEANS, StepLocation, locate_all

__all__ = ["ManifestState"]


_DONE = re.compile(r"\s*#\s*Done:")
_LEADING_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?!\d)")


class ManifestState:
    """The manifest text as lines, edited in place by step name and written once per call.

    ``text`` must be the file's exact content decoded as UTF-8 (BOM kept) and ``locations``
    the loader's ``locate_step`` results for it, keyed by step name. If the file on disk differs
    from ``text``, or changes later (by mtime, size or inode), it is re-read and re-located
    before the next edit; ``reparses`` counts those re-reads and ``writes`` the files written.
    """

    def __init__(self, path: Path, text: str, locations: Mapping[str, StepLocation]) -> None:
        self.path = path
        self.reparses = 0
        self.writes = 0
        self._reset(text, locations)
        self._signature: tuple[int, int, int] | None = None
        try:
            if path.read_bytes() == text.encode("utf-8"):
                self._signature = _signature(path)
        except OSError:
            pass

    @classmethod
    def from_file(cls, path: Path) -> ManifestState:
        """Read and parse the manifest once, for commands that have no loaded plan (enable)."""
        text = _read(path)
        return cls(path, text, locate_all(path, text))

    @property
    def text(self) -> str:
        """The manifest as it is now in memory (and on disk after the last write)."""
        return "".join(self._lines)

    def done_note(self, name: str) -> str | None:
        """What the step's done mark says (``2026-11-21 22:05:01 run 3f2a9c1d``), or None when
        the step carries no mark (enabled, or disabled by hand)."""
        value, tail = self._value(name)
        if value is not False or not _DONE.match(tail):
            return None
        return _DONE.sub("", tail, count=1).strip() or None

    def mark_done(self, steps: Sequence[str], note: str, today: date | None = None) -> None:
        """Set ``enabled: false  # Done: <date> <note>`` on every step, in a single write.

        A transaction group commits as one, so its steps are recorded as one. Any comment
        already on an ``enabled`` line is replaced by the Done comment. A note that starts with
        a date (the runner passes a timestamp) is written as is; otherwise today's date leads.
        """
        if any(ch in note for ch in "\r\n\x85\u2028\u2029"):
            raise ValueError("a Done note must fit on one line")
        note = note.strip()
        if not _LEADING_DATE.match(note):
            note = f"{(today or date.today()).isoformat()} {note}".rstrip()
        self._edit(steps, lambda name: self._set(name, "false", f"  # Done: {note}"))

    def enable(self, steps: Sequence[str]) -> list[str]:
        """Make steps run again: ``enabled: true``, Done comment gone; return those changed."""
        return self._edit(steps, self._enable_one)

    def enable_all(self) -> list[str]:
        """Re-enable every step whose ``enabled`` is false; return their names in file order."""
        self._sync()
        names = [n for n in self._locs if self._value(n)[0] is False]
        return self._edit(names, self._enable_one)

    def _edit(self, steps: Sequence[str], change: Callable[[str], bool]) -> list[str]:
        names = list(dict.fromkeys(steps))
        if not names:
            return []
        self._sync()
        for name in names:
            if name not in self._locs:
                raise OrdoError(
                    f"no step named '{name}' in the manifest",
                    file=self.path,
                    step=name,
                    hint="the manifest may have been edited while ordo ran; check the step names",
                )
        changed = [name for name in names if change(name)]
        if changed:
            try:
                write_atomic(self.path, self.text.encode("utf-8"))
            except OSError as exc:
                self._signature = None  # memory is ahead of the disk: re-read next time
                raise ManifestWriteError(
                    f"could not mark steps done: {exc.strerror or type(exc).__name__}",
                    file=self.path,
                    hint="their work is committed: make the manifest and its folder writable, "
                    "then set those steps to enabled: false (the ledger, if on, does it next run)",
                ) from exc
            except BaseException:
                self._signature = None  # memory is ahead of the disk: re-read next time
                raise
            self.writes += 1
            self._signature = _signature(self.path)
        return changed

    def _enable_one(self, name: str) -> bool:
        value, tail = self._value(name)
        if value is True and not _DONE.match(tail):
            return False
        return self._set(name, "true", "" if _DONE.match(tail) else tail)

    def _value(self, name: str) -> tuple[bool | None, str]:
        """The step's enabled value as a bool (None if unknown) and the rest after it (for a
        flow step, the comment after its closing brace)."""
        loc = self._locs[name]
        if loc.flow:
            return self._flow_value(loc)
        where = self._where(name)
        if where is None:
            return loc.default, ""
        _, raw, tail = self._split(where)
        word = raw[1:-1] if raw[:1] in "'\"" else raw
        return BOOLEANS.get(word.lower()), tail

    def _set(self, name: str, value: str, tail: str) -> bool:
        if self._locs[name].flow:
            return self._set_flow(name, value, tail)
        where = self._where(name)
        if where is not None:
            start = self._split(where)[0]
            old = self._lines[where[0]]
            self._lines[where[0]] = old[:start] + value + tail + eol_of(old)
            return True
        loc = self._locs[name]
        at = loc.insert_at + bisect_right(self._anchors, loc.insert_at)
        new = f"{' ' * loc.indent}enabled: {value}{tail}"
        if at < len(self._lines):
            self._lines.insert(at, new + eol_of(self._lines[at - 1]))
        else:  # after the last line: keep a missing final newline missing
            last = self._lines[-1]
            eol = eol_of(last)
            if eol:
                self._lines.append(new + eol)
            else:
                self._lines[-1] = last + (eol_of(self._lines[0]) or "\n")
                self._lines.append(new)
        insort(self._anchors, loc.insert_at)
        self._inserted[name] = loc.insert_at
        return True

    def _flow_value(self, loc: StepLocation) -> tuple[bool | None, str]:
        content = self._content(loc.close_line)
        tail = content[comment_start(content, loc.close_col) :]
        if loc.value_line is None or loc.value_col is None or loc.value_end_col is None:
            return loc.default, tail
        line = self._content(loc.value_line)
        raw = line[value_start(line, loc.value_col) : loc.value_end_col]
        word = raw[1:-1] if raw[:1] in "'\"" else raw
        return BOOLEANS.get(word.lower()), tail

    def _set_flow(self, name: str, value: str, comment: str) -> bool:
        """Set the value inside the braces and the comment after the closing brace's line.

        A flow step takes no new line, so later lines keep their numbers; a step that shares a
        line with another (``steps: [{...}, {...}]``) is located again after the edit, since the
        columns of the other have moved.
        """
        loc = self._locs[name]
        at = self._shift(loc.close_line)
        content = self._content(loc.close_line)
        cut = comment_start(content, loc.close_col)
        self._lines[at] = content[:cut] + comment + eol_of(self._lines[at])
        if loc.value_line is not None and loc.value_col is not None and loc.value_end_col:
            at = self._shift(loc.value_line)
            content = self._content(loc.value_line)
            start, end = value_start(content, loc.value_col), loc.value_end_col
            self._lines[at] = content[:start] + value + content[end:] + eol_of(self._lines[at])
            moved = len(value) - (end - start)
            loc = replace(loc, value_end_col=start + len(value))
        else:
            at = self._shift(loc.insert_line)
            content = self._content(loc.insert_line)
            new = f"enabled: {value}, " if loc.insert_front else f", enabled: {value}"
            col = loc.insert_col
            self._lines[at] = content[:col] + new + content[col:] + eol_of(self._lines[at])
            moved = len(new)
            value_col = col + (9 if loc.insert_front else 11)
            loc = replace(
                loc, value_line=loc.insert_line, value_col=value_col,
                value_end_col=value_col + len(value),
            )  # fmt: skip
        if loc.value_line == loc.close_line:
            loc = replace(loc, close_col=loc.close_col + moved)
        self._locs[name] = loc
        if name in self._crowded:
            text = self.text
            self._reset(text, locate_all(self.path, text))
        return True

    def _shift(self, line: int) -> int:
        """Where a line (as located) is now, after the lines inserted above it."""
        return line + bisect_right(self._anchors, line)

    def _content(self, line: int) -> str:
        return EOL.sub("", self._lines[self._shift(line)])

    def _split(self, where: tuple[int, int]) -> tuple[int, str, str]:
        split = split_value(EOL.sub("", self._lines[where[0]]), where[1])
        assert split is not None, "checked when the text was read"
        return split

    def _where(self, name: str) -> tuple[int, int] | None:
        """Current (line, column) of the step's enabled value, after lines inserted above it."""
        loc = self._locs[name]
        if name in self._inserted:
            anchor = self._inserted[name]
            return anchor + bisect_right(self._anchors, anchor) - 1, loc.indent + 9
        if loc.value_line is None or loc.value_col is None:
            return None
        return loc.value_line + bisect_right(self._anchors, loc.value_line), loc.value_col

    def _reset(self, text: str, locations: Mapping[str, StepLocation]) -> None:
        self._lines: list[str] = LINE.findall(text)
        self._locs = dict(locations)
        if text.startswith("\ufeff"):  # the parser does not count a BOM as a column
            self._locs = {name: after_bom(loc) for name, loc in self._locs.items()}
        self._crowded = crowded(self._locs.values())
        self._anchors: list[int] = []  # lines (as located) before which a line was inserted
        self._inserted: dict[str, int] = {}
        contents = [EOL.sub("", line) for line in self._lines]
        for loc in self._locs.values():
            self._check(loc, contents)

    def _check(self, loc: StepLocation, lines: list[str]) -> None:
        """Refuse positions that do not fit the text now, not half-way through a write later."""
        problem = None
        if loc.flow:
            close = lines[loc.close_line] if loc.close_line < len(lines) else ""
            if close[loc.close_col - 1 : loc.close_col] != "}":
                problem = "its closing brace is not where the parser said"
        elif loc.value_line is not None and loc.value_col is not None:
            line = lines[loc.value_line] if loc.value_line < len(lines) else ""
            if not line[loc.value_col :].strip():
                problem = "its 'enabled' value is not where the parser said"
            elif split_value(line, loc.value_col) is None:
                problem = "its 'enabled' value goes on over several lines"
        elif loc.lone_value_col is not None:
            line = lines[loc.insert_at - 1] if loc.insert_at <= len(lines) else ""
            after = next((t for t in lines[loc.insert_at :] if t.strip()), "")
            goes_on = not after.lstrip().startswith("#") and indent(after) > loc.indent
            if split_value(line, loc.lone_value_col) is None or (after and goes_on):
                problem = "its only key's value goes on over several lines"
        elif loc.insert_at >= len(lines) or indent(lines[loc.insert_at]) != loc.indent:
            problem = "its second key is not where the parser said"
        if problem:
            raise OrdoError(
                f"cannot record this step in the manifest: {problem}",
                file=self.path,
                line=loc.line + 1,
                step=loc.name,
                hint="add 'enabled: true' on its own line to the step",
            )

    def _sync(self) -> None:
        """Re-read and re-locate if the file is not what was last read or written."""
        try:
            current = _signature(self.path)
        except FileNotFoundError as exc:
            raise OrdoError("the manifest is gone", file=self.path) from exc
        if current == self._signature:
            return
        text = _read(self.path)
        self._reset(text, locate_all(self.path, text))
        self._signature = current
        self.reparses += 1


def _signature(path: Path) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size, st.st_ino


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the manifest: {exc}", file=path) from exc
