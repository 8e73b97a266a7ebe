"""What several commands print the same way: a list of records as JSON for ``--json``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any, Protocol

__all__ = ["write_json_records"]


class _Record(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


def write_json_records(records: Iterable[_Record]) -> None:
    """``records`` as one indented JSON array on standard output (``ordo ... --json``)."""
    sys.stdout.write(json.dumps([r.as_dict() for r in records], indent=2) + "\n")
