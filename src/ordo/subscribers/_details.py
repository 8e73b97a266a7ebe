"""How a step's ``details`` read to a person: one line of ``key=value`` pairs.

A kind's details are plain JSON values (rows per file, each check's outcome, each model's
result). The console and the review report show them the same way: scalars as they are,
nested values as compact JSON, the line cut at a length that fits a terminal row or two. The
log and ``ordo runs show --json`` keep the whole value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["details_line"]

_LIMIT = 160


def details_line(details: Mapping[str, Any], limit: int = _LIMIT) -> str:
    """``files=2 rows={"a.csv":10,"b.csv":3}``; ``…`` ends a line cut at ``limit``."""
    # A list of records (each check's result) is for the store and the log, not one line.
    parts = [f"{key}={_value(value)}" for key, value in details.items() if not _records(value)]
    line = " ".join(parts)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
