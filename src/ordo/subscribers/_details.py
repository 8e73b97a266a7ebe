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

__all__ = ["dataset_lines", "details_line"]

_LIMIT = 160


def details_line(details: Mapping[str, Any], limit: int = _LIMIT) -> str:
    """``files=2 rows={"a.csv":10,"b.csv":3}``; ``…`` ends a line cut at ``limit``."""
    # A list of records (each check's result) is for the store and the log, not one line;
    # a publish's datasets read as ``productRecords:changed,machineInfo:unchanged``.
    parts = [
        f"{key}={_statuses(value) if _datasets(value) else _value(value)}"
        for key, value in details.items()
        if not _records(value) or _datasets(value)
    ]
    line = " ".join(parts)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def dataset_lines(details: Mapping[str, Any]) -> list[str]:
    """A publish step's datasets, one line each: ``productRecords: failed, <why>``."""
    found = details.get("datasets")
    if found is None or not _datasets(found):
        return []
    lines = []
    for record in found:
        why = record.get("reason") or record.get("version")
        lines.append(f"{record['dataset']}: {record['status']}" + (f", {why}" if why else ""))
    return lines


def _datasets(value: Any) -> bool:
    return _records(value) and all("dataset" in v and "status" in v for v in value)


def _statuses(value: list[dict[str, Any]]) -> str:
    return ",".join(f"{v['dataset']}:{v['status']}" for v in value)
