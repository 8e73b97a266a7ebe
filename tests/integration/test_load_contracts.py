"""Every built-in extractor, loader and the load kind pass their contract suites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ordo.extractors.contract import ExtractorContract
from ordo.extractors.csv import CsvExtractor
from ordo.extractors.excel import ExcelExtractor
from ordo.extractors.json import JsonExtractor
from ordo.extractors.ndjson import NdjsonExtractor
from ordo.extractors.parquet import ParquetExtractor
from ordo.extractors.sql import SqlExtractor
from ordo.extractors.testing import RowsExtractor
from ordo.kinds import get_kind
from ordo.kinds.contract import KindContract
from ordo.loaders.contract import LoaderContract
from ordo.loaders.csv import CsvLoader
from ordo.loaders.ndjson import NdjsonLoader
from ordo.loaders.parquet import ParquetLoader
from ordo.loaders.table import TableLoader
from ordo.loaders.testing import MemoryLoader
from tests.support.xlsx import write_xlsx


class TestCsvExtractor(ExtractorContract):
    factory = CsvExtractor

    def config(self) -> dict[str, Any]:
        return {"path": "in/*.csv"}

    def write_files(self, root: Path) -> None:
        (root / "in").mkdir(exist_ok=True)
        (root / "in" / "a.csv").write_text("id,name\n1,a\n")
        (root / "in" / "b.csv").write_text("id,name\n")


class TestParquetExtractor(ExtractorContract):
    factory = ParquetExtractor

    def config(self) -> dict[str, Any]:
        return {"path": "in.parquet", "batch_rows": 2}

    def write_files(self, root: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"id": [1, 2, 3]}), root / "in.parquet")


class TestJsonExtractor(ExtractorContract):
    factory = JsonExtractor

    def config(self) -> dict[str, Any]:
        return {"path": "in.json", "records": "items", "batch_rows": 1}

    def write_files(self, root: Path) -> None:
        (root / "in.json").write_text(json.dumps({"items": [{"a": 1}, {"a": None}, {"a": 3}]}))


class TestNdjsonExtractor(ExtractorContract):
    factory = NdjsonExtractor

    def config(self) -> dict[str, Any]:
        return {"path": "in.ndjson", "batch_rows": 1}

    def write_files(self, root: Path) -> None:
        (root / "in.ndjson").write_text('{"a": null}\n{"a": "x"}\n\n{"a": "y"}\n')


class TestExcelExtractor(ExtractorContract):
    factory = ExcelExtractor

    def config(self) -> dict[str, Any]:
        return {"path": "in.xlsx", "batch_rows": 1}

    def write_files(self, root: Path) -> None:
        write_xlsx(root / "in.xlsx", {"S": [["a", "b"], [1, "x"], [2, "y"]]})


class TestSqlExtractor(ExtractorContract):
    factory = SqlExtractor

    def config(self) -> dict[str, Any]:
        return {"query": "SELECT 1 AS a UNION ALL SELECT 2", "batch_rows": 1}


class TestRowsExtractor(ExtractorContract):
    factory = RowsExtractor

    def config(self) -> dict[str, Any]:
        return {"rows": [{"a": 1}, {"a": None}], "batch_rows": 1}


class TestTableLoader(LoaderContract):
    factory = TableLoader

    def config(self) -> dict[str, Any]:
        return {"table": "contract"}


class TestTableLoaderMerge(LoaderContract):
    factory = TableLoader

    def config(self) -> dict[str, Any]:
        return {"table": "contract", "mode": "merge", "key": ["id"]}


class TestParquetLoader(LoaderContract):
    factory = ParquetLoader

    def config(self) -> dict[str, Any]:
        return {"path": "out/t.parquet"}


class TestCsvLoader(LoaderContract):
    factory = CsvLoader

    def config(self) -> dict[str, Any]:
        return {"path": "out/t.csv"}


class TestNdjsonLoader(LoaderContract):
    factory = NdjsonLoader

    def config(self) -> dict[str, Any]:
        return {"path": "t.ndjson"}


class TestMemoryLoader(LoaderContract):
    factory = MemoryLoader

    def config(self) -> dict[str, Any]:
        return {"name": "contract"}


class TestLoadKind(KindContract):
    kind = get_kind("load")

    def step(self) -> dict[str, Any]:
        return {
            "source": {"type": "csv", "path": "data/in.csv"},
            "target": {"type": "table", "table": "loaded"},
        }

    def write_files(self, project: Path) -> None:
        (project / "data" / "in.csv").write_text("id,code\n1,007\n")


class TestLoadKindToAFile(KindContract):
    kind = get_kind("load")

    def step(self) -> dict[str, Any]:
        return {
            "source": {"type": "csv", "path": "data/in.csv"},
            "target": {"type": "parquet", "path": "out/in.parquet"},
        }

    def write_files(self, project: Path) -> None:
        (project / "data" / "in.csv").write_text("id,code\n1,007\n")
