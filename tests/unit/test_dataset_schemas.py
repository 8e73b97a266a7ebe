"""databaseSchemas.json: problems named by JSON path, and tables held to a dataset's schema."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from ordo.datasets.schemas import (
    DatasetSchema,
    SchemaFileInvalid,
    SchemaMismatch,
    conform,
    load_schemas,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "databaseSchemas.json"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> tuple[str, ...]:
    with pytest.raises(SchemaFileInvalid) as caught:
        load_schemas(path)
    assert caught.value.file == path
    return caught.value.reasons


def test_a_valid_file_gives_each_dataset_its_columns_in_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        json.dumps(
            {
                "datasets": {
                    "productRecords": {
                        "columns": {"id": "int", "price": "decimal(12,2)", "day": "date"},
                        "description": "one row a product",
                    },
                    "machineInfo": {"columns": {"code": "text"}},
                }
            }
        ),
    )
    found = load_schemas(path)
    assert list(found.datasets) == ["productRecords", "machineInfo"]
    products = found.dataset("productRecords")
    assert products.columns == (("id", "int"), ("price", "decimal(12,2)"), ("day", "date"))
    assert products.description == "one row a product"


def test_an_unknown_type_is_named_by_its_json_path_with_the_known_types(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        '{"datasets": {"productRecords": {"columns": {"id": "int", "qty": "nmber", '
        '"day": "dat"}}}}',
    )
    found = problems(path)
    assert len(found) == 2
    assert found[0].startswith(
        "datasets.productRecords.columns.qty: 'nmber' is not a column type (one of string"
    )
    assert "decimal(P,S)" in found[0]
    assert found[1].startswith("datasets.productRecords.columns.day: 'dat'")


def test_structure_problems_are_all_named_by_json_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '{"datasets": {"a": {"colums": {"x": "int"}}, "b": {"columns": {"x": 3}}, '
        '"c": {"columns": {}}, "../up": {"columns": {"x": "int"}}}, "version": 2}',
    )
    found = problems(path)
    assert "(the whole file): unknown key 'version' (allowed: datasets)" in found
    assert "datasets.a: 'columns' is missing" in found
    assert "datasets.a: unknown key 'colums' (allowed: columns, description)" in found
    assert "datasets.b.columns.x: 3 should be a text in quotes" in found
    assert "datasets.c.columns: is empty: it needs at least one entry" in found
    assert 'datasets: "../up" is not a dataset name (use letters, digits, _ . -)' in found
    assert not any("Additional properties" in p or "is not of type" in p for p in found)


def test_not_json_says_where(tmp_path: Path) -> None:
    found = problems(write(tmp_path, '{"datasets": {\n  "a": }\n}'))
    assert found[0].startswith("not valid JSON at line 2, column 8")


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope.json") == ("the schema file does not exist",)


SCHEMA = DatasetSchema("productRecords", (("id", "int"), ("item", "text"), ("qty", "float")))


def test_every_difference_is_listed_at_once() -> None:
    table = pa.table({"ID": [1], "item": [2], "qty": ["x"], "extra": [1], "more": [2]})
    with pytest.raises(SchemaMismatch) as caught:
        conform(table, SCHEMA)
    assert caught.value.differences == (
        "column 'id' is missing (there is 'ID': names must match exactly)",
        "columns 'ID', 'extra', 'more' not in the schema",
        "column 'item' is int, the schema says text",
        "column 'qty' is text, the schema says float",
    )
    assert "productRecords" in caught.value.message


def test_the_table_comes_out_in_the_schemas_order_and_types() -> None:
    table = pa.table(
        {
            "qty": pa.array([1, 2], pa.int32()),  # whole numbers read as integers
            "id": pa.array([1, 2], pa.int32()),
            "item": pa.array([None, None], pa.null()),  # an empty column
        }
    )
    out = conform(table, SCHEMA)
    assert out.column_names == ["id", "item", "qty"]
    assert out.schema.types == [pa.int64(), pa.string(), pa.float64()]
    assert out.column("qty").to_pylist() == [1.0, 2.0]


def test_dates_at_midnight_become_dates_but_times_of_day_and_text_do_not() -> None:
    schema = DatasetSchema("d", (("day", "date"),))
    midnight = pa.table({"day": [dt.datetime(2026, 1, 2), dt.datetime(2026, 1, 3)]})
    assert conform(midnight, schema).column("day").to_pylist() == [
        dt.date(2026, 1, 2),
        dt.date(2026, 1, 3),
    ]
    with pytest.raises(SchemaMismatch, match="with times of day"):
        conform(pa.table({"day": [dt.datetime(2026, 1, 2, 10, 30)]}), schema)
    with pytest.raises(SchemaMismatch, match="'day' is text, the schema says date"):
        conform(pa.table({"day": ["2026-01-02"]}), schema)


def test_a_value_too_big_for_the_schemas_type_does_not_fit() -> None:
    schema = DatasetSchema("d", (("n", "decimal(4,2)"),))
    fits = pa.table({"n": pa.array([Decimal("12.50")], pa.decimal128(10, 2))})
    assert conform(fits, schema).column("n").type == pa.decimal128(4, 2)
    big = pa.table({"n": pa.array([Decimal("12345.67")], pa.decimal128(10, 2))})
    with pytest.raises(SchemaMismatch, match=r"'n' is decimal.10,2. with values that do not fit"):
        conform(big, schema)
    huge = pa.table({"n": pa.array([2**63], pa.uint64())})
    with pytest.raises(SchemaMismatch, match=r"'n' is int .uint64. with values that do not fit"):
        conform(huge, DatasetSchema("d", (("n", "int"),)))


def test_a_column_named_twice_is_a_difference() -> None:
    table = pa.Table.from_arrays(
        [pa.array([1]), pa.array([2]), pa.array(["x"]), pa.array([1.0])],
        names=["id", "id", "item", "qty"],
    )
    with pytest.raises(SchemaMismatch) as caught:
        conform(table, SCHEMA)
    assert caught.value.differences == ("column 'id' appears 2 times",)
