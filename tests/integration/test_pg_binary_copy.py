"""PostgreSQL's binary ``COPY`` (``ordo.db.dialects._pg_binary``): a seed read by pyarrow,
and a load's Arrow batches, store exactly what the CSV path stores; where binary would not
(a column of another type or scale than the values), the CSV path runs instead."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import Engine

from ordo.data import arrow_seeds
from ordo.data.csv_files import CsvFormat
from ordo.data.seeds import Seed, load_seed, read_seed
from ordo.data.tables import Target
from ordo.data.types import Column, ColumnType, TypeKind
from ordo.db.dialects import dialect_for
from ordo.db.dialects._pg_binary import binary_schema
from ordo.loaders._bulk import write_batches

pytestmark = pytest.mark.postgres

HEADER = "id,zip,amount,ok,day,at,at_zone,note,ÄÖ,group"


def big_csv(path: Path, rows: int = 30_000) -> Path:
    """Over a megabyte, so that pyarrow reads it: every inferred type, NULLs and markers."""
    lines = [HEADER]
    for i in range(rows):
        note = (
            '"a, ""b"""'
            if i % 7 == 0
            else ("" if i % 5 == 0 else ("NA" if i % 11 == 0 else f"n{i}"))
        )
        amount = "" if i % 13 == 0 else f"{'-' if i % 3 else ''}{i % 300}.{i % 1000:03d}"
        lines.append(
            f"{i},{i % 1000:05d},{amount},{'True' if i % 2 else 'false'},"
            f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},1999-12-31T23:59:{i % 60:02d}.{i % 7:06d},"
            f"2024-02-{i % 28 + 1:02d} 10:{i % 60:02d}:00+0{i % 9}:30,{note},é{i},x"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size > arrow_seeds.MIN_BODY
    return path


def as_text(engine: Engine, table: str) -> list[tuple[object, ...]]:
    """Every value as PostgreSQL prints it (a numeric's scale, a zone's instant, NULL)."""
    with engine.connect() as conn:
        columns = conn.exec_driver_sql(f'SELECT * FROM "{table}" LIMIT 0').keys()
        listed = ", ".join(f'"{c}"::text' for c in columns)
        query = f'SELECT {listed} FROM "{table}" ORDER BY "{table}"."{next(iter(columns))}"'
        return [tuple(r) for r in conn.exec_driver_sql(query)]


def load(engine: Engine, seed: Seed, mode: str = "replace") -> int:
    dialect = dialect_for(engine)
    with engine.begin() as conn:
        return load_seed(conn, dialect, seed, mode)  # type: ignore[arg-type]


def as_csv_path(seed: Seed) -> Seed:
    """The same seed with its text as Python strings: the CSV ``COPY`` path loads it."""
    return dataclasses.replace(seed, text=seed.values, target=Target(seed.target.table + "_csv"))


@pytest.mark.parametrize(
    "format",
    [
        CsvFormat(),
        CsvFormat(null_values=("", "NA")),  # two markers: binary, where CSV takes inserts
        CsvFormat(keep_empty=True),  # an empty field is an empty string
    ],
    ids=["empty-is-null", "two-markers", "keep-empty"],
)
def test_a_pyarrow_seed_stores_what_the_csv_path_stores(
    tmp_path: Path, pg: Engine, format: CsvFormat
) -> None:
    seed = read_seed(big_csv(tmp_path / "big.csv"), Target("big"), format)
    assert isinstance(seed.text, arrow_seeds.ArrowValues)
    typed = seed.text.typed([c.type for c in seed.columns], format.nulls)
    assert typed is not None
    assert load(pg, seed) == 30_000
    assert load(pg, as_csv_path(seed)) == 30_000
    with pg.connect() as conn:
        raw = conn.connection.dbapi_connection
        columns_sql = [f'"{n}"' for n in typed.schema.names]
        assert binary_schema(raw, '"big"', columns_sql, typed.schema) == typed.schema
    binary, text = as_text(pg, "big"), as_text(pg, "big_csv")
    assert binary == text
    row = binary[7]  # a quoted note, a negative decimal of scale 3, a zone of +07:30
    assert row[1:4] == ("00007", "-7.007", "true")
    assert row[6] == "2024-02-08 02:37:00+00"  # the instant, in the session's zone (UTC)
    assert row[7] == 'a, "b"'
    nulls = {r[0]: r[7] for r in binary if r[0] in ("5", "11")}
    assert nulls == (
        {"5": "", "11": "NA"}
        if format.keep_empty
        else {"5": None, "11": "NA" if format.null_values == ("",) else None}
    )


def test_a_column_of_another_type_or_scale_takes_the_csv_path(tmp_path: Path, pg: Engine) -> None:
    """Appending to a table the user made: ``integer`` ids, a ``numeric`` without a scale
    (binary would print ``1.500`` where the text said ``1.5``), a ``varchar``."""
    path = tmp_path / "t.csv"
    rows = [f"{i},{i % 10}.5,{'1.25' if i % 2 else '2'},n{i}" for i in range(60_000)]
    path.write_text("id,a,b,name\n" + "\n".join(rows) + "\n")
    with pg.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE t (id integer, a numeric, b numeric(9,2), name varchar(9))"
        )
    seed = read_seed(path, Target("t"))
    assert isinstance(seed.text, arrow_seeds.ArrowValues)
    typed = seed.text.typed([c.type for c in seed.columns], seed.file.format.nulls)
    assert typed is not None
    with pg.connect() as conn:
        raw = conn.connection.dbapi_connection
        columns_sql = ['"id"', '"a"', '"b"', '"name"']
        assert binary_schema(raw, '"t"', columns_sql, typed.schema) is None
    assert load(pg, seed, "append") == 60_000
    assert as_text(pg, "t")[:2] == [("0", "0.5", "2.00", "n0"), ("1", "1.5", "1.25", "n1")]


def test_a_declared_type_has_no_arrow_form_and_the_database_reads_the_text(
    tmp_path: Path, pg: Engine
) -> None:
    seed = read_seed(big_csv(tmp_path / "big.csv"), Target("big"), None, {"zip": "char(5)"})
    assert isinstance(seed.text, arrow_seeds.ArrowValues)
    assert seed.text.typed([c.type for c in seed.columns], seed.file.format.nulls) is None
    assert load(pg, seed) == 30_000
    assert as_text(pg, "big")[3][1] == "00003"


def test_without_pgpq_the_csv_path_loads(
    tmp_path: Path, pg: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pgpq", None)  # import pgpq raises ImportError
    seed = read_seed(big_csv(tmp_path / "big.csv"), Target("big"))
    assert isinstance(seed.text, arrow_seeds.ArrowValues)
    typed = seed.text.typed([c.type for c in seed.columns], seed.file.format.nulls)
    assert typed is not None
    with pg.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert binary_schema(raw, "pg_class", ['"relname"'], typed.select(["note"]).schema) is None
    assert load(pg, seed) == 30_000
    assert len(as_text(pg, "big")) == 30_000


def test_load_batches_of_every_binary_type_store_as_sent(pg: Engine) -> None:
    """A load's batches: bytea (which CSV cannot carry), int32, doubles, timestamps."""
    batch = pa.record_batch(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "blob": pa.array([b"\x00\xff", b"", None], pa.binary()),
            "x": pa.array([1.5, float("inf"), None], pa.float64()),
            "at": pa.array(
                [dt.datetime(2024, 1, 1, 12), None, dt.datetime(1, 1, 1)], pa.timestamp("us")
            ),
            "price": pa.array([Decimal("1.20"), None, Decimal("-0.05")], pa.decimal128(9, 2)),
        }
    )
    with pg.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE b (id integer, blob bytea, x double precision, at timestamp, "
            "price numeric(9,2))"
        )
    columns = [Column(n, ColumnType(TypeKind.TEXT)) for n in batch.schema.names]
    dialect = dialect_for(pg)
    with pg.begin() as conn:
        assert write_batches(conn, dialect, Target("b"), columns, iter([batch, batch])) == 6
        raw = conn.connection.dbapi_connection
        columns_sql = [f'"{n}"' for n in batch.schema.names]
        assert binary_schema(raw, '"b"', columns_sql, batch.schema) == batch.schema
    with pg.connect() as conn:
        got = conn.exec_driver_sql("SELECT DISTINCT * FROM b ORDER BY id").all()
    assert [tuple(r) for r in got] == [
        (1, b"\x00\xff", 1.5, dt.datetime(2024, 1, 1, 12), Decimal("1.20")),
        (2, b"", float("inf"), None, None),
        (3, None, None, dt.datetime(1, 1, 1), Decimal("-0.05")),
    ]


def test_narrow_integers_are_widened_to_their_columns_and_the_rest_goes_as_csv(
    pg: Engine,
) -> None:
    """A table ordo makes from an ``int32`` column has ``bigint``: the batch is widened and
    sent in binary. A ``uint64`` fits no PostgreSQL integer: the batch goes as CSV."""
    narrow = pa.record_batch(
        {
            "a": pa.array([2**31 - 1, -(2**31), None], pa.int32()),
            "b": pa.array([2**16 - 1, 0, 7], pa.uint16()),
            "c": pa.array([-128, 127, 0], pa.int8()),
        }
    )
    wide = pa.record_batch({"a": [1], "b": [2], "c": [3]}).cast(
        pa.schema([("a", pa.int64()), ("b", pa.uint64()), ("c", pa.int64())])
    )
    with pg.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE w (a bigint, b integer, c smallint)")
    columns_sql = ['"a"', '"b"', '"c"']
    with pg.begin() as conn:
        raw = conn.connection.dbapi_connection
        sent = binary_schema(raw, '"w"', columns_sql, narrow.schema)
        assert sent == pa.schema([("a", pa.int64()), ("b", pa.int32()), ("c", pa.int16())])
        assert binary_schema(raw, '"w"', columns_sql, wide.schema) is None
        columns = [Column(n, ColumnType(TypeKind.INTEGER)) for n in "abc"]
        assert write_batches(conn, dialect_for(pg), Target("w"), columns, iter([narrow, wide])) == 4
    with pg.connect() as conn:
        got = conn.exec_driver_sql("SELECT a, b, c FROM w ORDER BY a NULLS LAST").all()
    assert [tuple(r) for r in got] == [
        (-(2**31), 0, 127),
        (1, 2, 3),
        (2**31 - 1, 2**16 - 1, -128),
        (None, 7, 0),
    ]
