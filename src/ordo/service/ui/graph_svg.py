"""A run's dependency graph as SVG, drawn on the server: no script and no layout library.

What each step waited for is read from the manifest text the run kept (the written graph,
``ordo.planning.graph``, seen through the steps the run did not plan), so the picture is the
one the run followed even when the file has changed since. A text that no longer parses (it
cannot, as the run planned it, but a store can be edited) is drawn as the plain order of the
steps.

Layout: a step's row is one below the lowest row of what it waits for, so every arrow points
down; steps of a row keep plan order. Narrow rows suit a phone, and a plain list of steps is
a column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from ordo.errors import OrdoError
from ordo.manifest.loader import parse_manifest
from ordo.planning.graph import build_graph
from ordo.store.base import TaskRecord

__all__ = ["dependencies", "graph_svg"]

_W, _H = 184, 40  # a step's box
_GAP_X, _GAP_Y, _PAD = 24, 36, 12
_LABEL = 24  # characters of a step's name that fit in its box


def dependencies(manifest_text: str, steps: Sequence[str]) -> dict[str, list[str]]:
    """What each of ``steps`` (plan order) waited for among them."""
    chain = {name: ([steps[i - 1]] if i else []) for i, name in enumerate(steps)}
    try:
        graph, problems = build_graph(parse_manifest(manifest_text, Path("manifest.yaml")))
    except OrdoError:
        return chain
    planned = [name for name in steps if name in graph.deps]
    if problems or len(planned) != len(steps):
        return chain
    done = set(graph.order) - set(planned)
    return graph.effective(set(planned), done)


def graph_svg(tasks: Sequence[TaskRecord], deps: Mapping[str, Sequence[str]]) -> str:
    """The SVG element (text) of ``tasks`` with an arrow from each step to what waits for it;
    each box links to the step's row of the table (``#step-<position>``)."""
    rows: dict[str, int] = {}
    for task in tasks:  # plan order: what a step waits for comes before it
        rows[task.step] = 1 + max((rows.get(d, -1) for d in deps.get(task.step, ())), default=-1)
    by_row: dict[int, list[TaskRecord]] = {}
    for task in tasks:
        by_row.setdefault(rows[task.step], []).append(task)
    width = max((len(row) for row in by_row.values()), default=1)
    places: dict[str, tuple[int, int]] = {}
    for row, members in by_row.items():
        offset = (width - len(members)) * (_W + _GAP_X) // 2
        for column, task in enumerate(members):
            places[task.step] = (
                _PAD + offset + column * (_W + _GAP_X),
                _PAD + row * (_H + _GAP_Y),
            )
    full_w = 2 * _PAD + width * _W + (width - 1) * _GAP_X
    full_h = 2 * _PAD + (max(by_row, default=0) + 1) * (_H + _GAP_Y) - _GAP_Y
    parts = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full_w} {full_h}"'
        f' width="{full_w}" height="{full_h}" role="img" aria-label="dependency graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
        ' markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
        ' class="arrowhead"/></marker></defs>',
    ]
    for task in tasks:
        x, y = places[task.step]
        for dep in deps.get(task.step, ()):
            if dep not in places:
                continue
            dx, dy = places[dep]
            x1, y1, x2, y2 = dx + _W // 2, dy + _H, x + _W // 2, y
            middle = (y1 + y2) // 2
            parts.append(
                f'<path class="edge" d="M{x1},{y1} C{x1},{middle} {x2},{middle} {x2},{y2 - 2}"'
                ' marker-end="url(#arrow)"/>'
            )
    for task in tasks:
        x, y = places[task.step]
        status = task.status.value.lower()
        name = task.step if len(task.step) <= _LABEL else task.step[: _LABEL - 1] + "…"
        parts.append(
            f'<a href="#step-{task.position}" class="node {status}">'
            f"<title>{escape(task.step)}: {status}</title>"
            f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="6"/>'
            f'<text x="{x + 10}" y="{y + 17}" class="name">{escape(name)}</text>'
            f'<text x="{x + 10}" y="{y + 32}" class="state">{status}</text></a>'
        )
    parts.append("</svg>")
    return "".join(parts)
