"""A job's recent run durations as a small SVG line, drawn on the server.

Oldest on the left; the height is the run's share of the longest of them, so a run that took
twice as long as usual stands out at a glance. Runs still going have no duration and are
left out; a failed run's point is marked, since a fast failure is not a good run.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["sparkline_svg"]

_W, _H, _PAD = 120, 28, 3


def sparkline_svg(points: Sequence[tuple[float, bool]], *, label: str = "durations") -> str:
    """``points`` are (seconds, failed) oldest first; an empty string when there are none."""
    if not points:
        return ""
    longest = max(seconds for seconds, _ in points) or 1.0
    step = (_W - 2 * _PAD) / max(len(points) - 1, 1)
    xy = [
        (_PAD + i * step, _H - _PAD - (seconds / longest) * (_H - 2 * _PAD))
        for i, (seconds, _) in enumerate(points)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    marks = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="{"bad" if failed else "ok"}"/>'
        for (x, y), (_, failed) in zip(xy, points, strict=True)
    )
    return (
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}"'
        f' width="{_W}" height="{_H}" role="img" aria-label="{escape(label)}">'
        f'<polyline points="{line}"/>{marks}</svg>'
    )
