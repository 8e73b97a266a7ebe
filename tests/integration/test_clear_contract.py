"""The clear kind passes the kind contract (``ordo.kinds.contract``), on its SQLite project."""

from __future__ import annotations

from typing import Any

from ordo.kinds import get_kind
from ordo.kinds.contract import KindContract


class TestClearKind(KindContract):
    kind = get_kind("clear")

    def step(self) -> dict[str, Any]:
        return {"prefixes": ["stg_", "int_"], "tables": ["old_orders"], "keep": ["stg_dates"]}
