"""Thresholds on a failing-row count (``"> 10"``) and ages (``24h``), as a manifest writes them.

Parsed once at plan time, so that a typo is an error before anything runs, never a check that
silently passes.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

__all__ = ["Threshold", "parse_age", "parse_threshold"]

_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    "==": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
}
_THRESHOLD = re.compile(r"\s*(>=|<=|==|!=|<>|>|<|=)\s*(\d[\d_]*)\s*")
_AGE_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_AGE_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


@dataclass(frozen=True)
class Threshold:
    """``op count``: holds when the failing-row count compares so (``> 10``)."""

    op: str
    count: int

    def holds(self, failing: int) -> bool:
        return _OPERATORS[self.op](failing, self.count)

    def __str__(self) -> str:
        return f"{self.op} {self.count}"


def parse_threshold(text: object) -> Threshold:
    """``"> 10"``, ``">=1"``, ``"!= 0"``; a bare number ``10`` means ``> 10``."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a threshold")
    if isinstance(text, int):
        return Threshold(">", text)
    match = _THRESHOLD.fullmatch(str(text))
    if match is None:
        raise ValueError(
            f"{text!r} is not a threshold: write an operator and a row count, "
            'such as "> 10", ">= 1" or "!= 0"'
        )
    return Threshold(match.group(1), int(match.group(2).replace("_", "")))


def parse_age(text: object) -> timedelta:
    """``24h``, ``30m``, ``2d``, ``1h30m``, ``90s``; a bare number is seconds."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not an age")
    if isinstance(text, int | float):
        return timedelta(seconds=text)
    source = str(text).strip()
    parts = list(_AGE_PART.finditer(source))
    if not parts or "".join(p.group(0) for p in parts) != source.replace(" ", ""):
        raise ValueError(
            f"{text!r} is not an age: write a number and a unit (d, h, m, s), such as 24h, "
            "30m or 1h30m"
        )
    age = timedelta()
    for part in parts:
        age += timedelta(**{_AGE_UNITS[part.group(2).lower()]: float(part.group(1))})
    if age <= timedelta():
        raise ValueError(f"{text!r}: an age must be more than zero")
    return age
