"""Jinja2 rendering of SQL and arguments: sandboxed, strict, and dialect-aware.

Undefined variables are errors at plan time, never an empty string in a statement. Values meant
as data should be bound or quoted: the ``literal`` filter quotes a value for the connection's
dialect and ``ident`` quotes an identifier (``{{ table | ident }}``), so nothing is pasted raw.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ordo.errors import StepProblem

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

    from ordo.db.dialects import Dialect

__all__ = ["Renderer"]


class Renderer:
    """Renders templates for one dialect (the filters need to know how to quote).

    The Jinja environment is built on the first template that needs it: most statements have
    no template syntax, and the planner makes a renderer for every step (issue 8, point 4).
    """

    def __init__(self, dialect: Dialect | None = None, used: set[str] | None = None) -> None:
        self._dialect = dialect
        self._jinja: SandboxedEnvironment | None = None
        # every variable a template rendered so far refers to, shared with for_dialect's
        # renderers: a --param none of them uses is a typo the planner warns about
        self.used: set[str] = used if used is not None else set()

    def _env(self) -> SandboxedEnvironment:
        if self._jinja is None:
            # Imported here: Jinja costs 15 ms of start-up, paid only when a template is used.
            from jinja2 import StrictUndefined
            from jinja2.sandbox import SandboxedEnvironment

            env = SandboxedEnvironment(
                undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False
            )
            env.filters["ident"] = self._ident
            env.filters["literal"] = self._literal
            self._jinja = env
        return self._jinja

    def for_dialect(self, dialect: Dialect | None) -> Renderer:
        return self if dialect is self._dialect else Renderer(dialect, self.used)

    def _need_dialect(self, filter_name: str) -> Dialect:
        if self._dialect is None:
            raise ValueError(f"the '{filter_name}' filter needs a database connection")
        return self._dialect

    def _ident(self, value: object) -> str:
        dialect = self._need_dialect("ident")
        return dialect.quote_table(dialect.parse_table_name(str(value)))

    def _literal(self, value: object) -> str:
        return self._need_dialect("literal").quote_literal(value)

    def render(self, source: str, context: Mapping[str, Any], *, name: str) -> str:
        """Render ``source``; errors become ``StepProblem`` with the template's line."""
        if "{" not in source:  # no template syntax: nothing to compile (a quarter of a ms saved)
            return source
        env = self._env()
        # Imported here, after the environment: see _env.
        from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError, meta

        try:
            parsed = env.parse(source)
            self.used |= meta.find_undeclared_variables(parsed)
            return env.from_string(parsed).render(dict(context))
        except TemplateSyntaxError as exc:
            raise StepProblem(f"template syntax error: {exc.message}", line=exc.lineno) from exc
        except UndefinedError as exc:
            raise StepProblem(
                f"undefined template variable: {exc.message}",
                line=_template_line(exc),
                hint="define it under params (step or pipeline) or pass --param NAME=VALUE",
            ) from exc
        except (TemplateError, ValueError, TypeError) as exc:
            raise StepProblem(f"template error: {exc}", line=_template_line(exc)) from exc


def _template_line(exc: BaseException) -> int | None:
    """Jinja rewrites tracebacks so template frames carry the template's own line numbers."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "<template>":
            line = frame.lineno
    return line


def template_lines(template: str, rendered: str, line: int) -> tuple[int, int] | None:
    """The template's lines that made line ``line`` (1-based) of ``rendered``: ``(n, n)`` when
    one line of the template gave it, a range when a block did (a loop, an ``if``).

    Jinja keeps no map from output to source, so the two texts are aligned line by line
    (``difflib``): text outside template tags comes through unchanged and anchors the rest.
    None when ``line`` is not in ``rendered``.
    """
    import difflib  # only when a statement failed

    ours, theirs = template.splitlines(), rendered.splitlines()
    if not 1 <= line <= len(theirs):
        return None
    if len(ours) == len(theirs):
        return line, line  # tags that rendered within their lines: the same line
    at = line - 1
    matcher = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if not j1 <= at < j2:
            continue
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            return i1 + at - j1 + 1, i1 + at - j1 + 1
        if i2 > i1:
            return i1 + 1, i2
        return (i1, i1) if i1 else None  # only inserted: the line before is where it came from
    return None
