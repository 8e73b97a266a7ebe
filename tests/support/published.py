"""Published datasets for tests: schema files, source Parquets, and the root's consistency.

``consistency_problems`` checks a versioned root the way a seed-002 reader relies on it, from
the files alone: every path ``path_annotations.json`` lists exists and every file in
``newest/`` and ``historical_db/`` holds what the content hash in its footer says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ordo.datasets.hashing import content_hash
from ordo.datasets.parquet_files import read_hash

# A schema for two datasets, as seed 002's databaseSchemas.json has them.
SCHEMAS: dict[str, dict[str, str]] = {
    "productRecords": {"id": "int", "item": "text", "qty": "float"},
    "machineInfo": {"code": "text", "lines": "int"},
}


def write_schemas(path: Path, datasets: Mapping[str, Mapping[str, str]] = SCHEMAS) -> Path:
    body = {"datasets": {name: {"columns": dict(cols)} for name, cols in datasets.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2), encoding="utf-8")
    return path


def products(n: int, start: int = 0) -> pa.Table:
    """``n`` rows of productRecords; another ``start`` gives other content."""
    ids = list(range(start, start + n))
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "item": [f"item {i}" for i in ids],
            "qty": [i * 1.5 for i in ids],
        }
    )


def write_table(path: Path, table: pa.Table | Mapping[str, Sequence[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table if isinstance(table, pa.Table) else pa.table(dict(table)), path)
    return path


def annotations(root: Path) -> dict[str, str]:
    path = root / "newest" / "path_annotations.json"
    if not path.exists():
        return {}
    found: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return found


def consistency_problems(root: Path) -> list[str]:
    """What is wrong with ``root`` for a reader; empty when it is consistent."""
    problems = []
    for dataset, listed in annotations(root).items():
        if not Path(listed).is_file():
            problems.append(f"{dataset}: listed {listed} does not exist")
    for folder in ("newest", "historical_db"):
        for path in sorted((root / folder).glob("*.parquet")):
            stored = read_hash(path)
            try:
                table = pq.read_table(path)
            except Exception as exc:
                problems.append(f"{path} cannot be read: {exc}")
                continue
            if stored is None or content_hash(table) != stored:
                problems.append(f"{path} does not match its hash")
    return problems


def files(root: Path) -> dict[str, list[str]]:
    """The file names in ``newest/`` and ``historical_db/``, sorted, temps included."""
    return {
        folder: sorted(p.name for p in (root / folder).iterdir())
        for folder in ("newest", "historical_db")
        if (root / folder).is_dir()
    }
