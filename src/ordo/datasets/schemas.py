"""``databaseSchemas.json``: the columns and types each published dataset must have.

The file is ``{"datasets": {"<name>": {"columns": {"<column>": "<type>"}, "description":
"..."}}}``; the types are the names ``column_types`` takes everywhere in ordo
(``ordo.extractors._arrow.TYPE_NAMES``). It is checked against the JSON Schema that ships beside
this module (``databaseSchemas.schema.json``) before anything else, and every problem is named
by its JSON path (``datasets.productRecords.columns.qty``), all at once, so one edit fixes them.

A table is then held to its dataset's schema by ``conform``. Publishing checks, it does not
clean (cleaning is the collect step's work): a column is accepted when it holds exactly the
type the schema names, or one that converts without losing or inventing a value. Those casts
are: any integer to a wider or equal integer (int32 to int64; a value out of range fails),
an integer to a float or a decimal, a float32 to a float64, a decimal to a decimal that holds
it, an all-empty (null) column to any type, a timestamp to another unit, and a timestamp whose
values all fall at midnight to a date (Excel keeps dates as date-times). Text never becomes a
number or a date here: a text date column fails with "is text, the schema says date", because
parsing it means guessing a format (the collect step's ``formats:`` says which). Missing
columns, extra columns and wrong types are all reported together. Names match exactly; a name
that differs only in case says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordo._files import NotUtf8, read_utf8
from ordo.errors import InvalidInput, PermanentError
from ordo.extractors._arrow import TYPE_NAMES, arrow_type

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DatasetSchema",
    "SchemaFile",
    "SchemaFileInvalid",
    "SchemaMismatch",
    "conform",
    "load_schemas",
    "type_name",
]

_SCHEMA_RESOURCE = "databaseSchemas.schema.json"
_HINT = 'the file is {"datasets": {"NAME": {"columns": {"COLUMN": "TYPE"}}}}'


class SchemaFileInvalid(InvalidInput):
    """``databaseSchemas.json`` cannot be used: every problem, each at its JSON path."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__("; ".join(problems), file=path, hint=_HINT)
        self.path = path
        self.reasons = tuple(problems)


class SchemaMismatch(PermanentError):
    """A dataset's table differs from its schema: ``differences`` lists each way it does."""

    def __init__(self, dataset: str, differences: list[str]) -> None:
        # no hint of its own: it is one dataset's reason among others, and the publish
        # step's error says what to do once for all of them
        super().__init__(f"dataset '{dataset}' does not match its schema: {'; '.join(differences)}")
        self.dataset = dataset
        self.differences = tuple(differences)


@dataclass(frozen=True)
class DatasetSchema:
    name: str
    columns: tuple[tuple[str, str], ...]  # (column, type name as written), in file order
    description: str = ""


@dataclass(frozen=True)
class SchemaFile:
    path: Path
    datasets: Mapping[str, DatasetSchema]

    def dataset(self, name: str) -> DatasetSchema:
        """The schema of ``name``; ``KeyError`` when the file has none."""
        return self.datasets[name]


def load_schemas(path: Path) -> SchemaFile:
    """Read and check ``path``; ``SchemaFileInvalid`` names every problem by its JSON path."""
    try:
        text = read_utf8(path)
    except FileNotFoundError:
        raise SchemaFileInvalid(path, ["the schema file does not exist"]) from None
    except NotUtf8 as exc:
        raise SchemaFileInvalid(path, [str(exc)]) from None
    except OSError as exc:
        raise SchemaFileInvalid(path, [f"cannot be read ({exc.strerror or exc})"]) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaFileInvalid(
            path, [f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"]
        ) from None
    problems = _structure_problems(document)
    if problems:
        raise SchemaFileInvalid(path, problems)
    datasets: dict[str, DatasetSchema] = {}
    for name, body in document["datasets"].items():
        for column, type_text in body["columns"].items():
            try:
                arrow_type(type_text)
            except ValueError:
                problems.append(
                    f"datasets.{name}.columns.{column}: {type_text!r} is not a column type "
                    f"(one of {', '.join(TYPE_NAMES)})"
                )
        datasets[name] = DatasetSchema(
            name, tuple(body["columns"].items()), body.get("description", "")
        )
    if problems:
        raise SchemaFileInvalid(path, problems)
    return SchemaFile(path, datasets)


def _structure_problems(document: Any) -> list[str]:
    """What the shipped JSON Schema finds wrong, in ordo's words, in file order by path."""
    import jsonschema

    schema = json.loads(resources.files(__package__).joinpath(_SCHEMA_RESOURCE).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    found = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.path])
    return [f"{_json_path(e.absolute_path)}: {_said(e)}" for e in found]


def _json_path(parts: Any) -> str:
    path = ".".join(str(part) for part in parts)
    return path or "(the whole file)"


def _said(error: Any) -> str:
    """A jsonschema error as a person would say it."""
    validator, value = error.validator, error.instance
    if validator == "required":
        missing = [name for name in error.validator_value if name not in (value or {})]
        return f"'{missing[0] if missing else error.validator_value[0]}' is missing"
    if validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
        return f"unknown key {', '.join(map(repr, extra))} (allowed: {', '.join(allowed)})"
    if validator == "type":
        expected = {"object": "an object {...}", "string": "a text in quotes"}
        wanted = expected.get(error.validator_value, error.validator_value)
        return f"{json.dumps(value)} should be {wanted}"
    if validator == "minProperties":
        return "is empty: it needs at least one entry"
    if validator == "minLength":
        return "is empty: write a type name"
    if validator == "pattern":  # a dataset's name, which names its files
        return f"{json.dumps(value)} is not a dataset name (use letters, digits, _ . -)"
    return str(error.message)


def type_name(data_type: pa.DataType) -> str:
    """An Arrow type in the schema file's words: ``int``, ``text``, ``decimal(12,2)``."""
    import pyarrow as pa
    import pyarrow.types as t

    if t.is_integer(data_type):
        return "int" if data_type == pa.int64() else f"int ({data_type})"
    if t.is_floating(data_type):
        return "float" if data_type == pa.float64() else f"float ({data_type})"
    if t.is_string(data_type) or t.is_large_string(data_type):
        return "text"
    if t.is_boolean(data_type):
        return "bool"
    if t.is_date(data_type):
        return "date"
    if t.is_timestamp(data_type):
        return "timestamptz" if data_type.tz else "timestamp"
    if t.is_decimal(data_type):
        return f"decimal({data_type.precision},{data_type.scale})"
    if t.is_null(data_type):
        return "empty (no values)"
    return str(data_type)


def conform(table: pa.Table, schema: DatasetSchema) -> pa.Table:
    """``table`` with the schema's columns, in its order and types; ``SchemaMismatch`` lists
    every missing column, every extra one and every column of another type."""
    wanted = {column: arrow_type(text) for column, text in schema.columns}
    have = {field.name: field for field in table.schema}
    folded = {name.casefold(): name for name in have}
    differences: list[str] = []
    names = table.column_names
    twice = sorted({name for name in names if names.count(name) > 1})
    for name in twice:
        differences.append(f"column '{name}' appears {names.count(name)} times")
    missing = [c for c in wanted if c not in have]
    for column in missing:
        near = folded.get(column.casefold())
        also = f" (there is '{near}': names must match exactly)" if near else ""
        differences.append(f"column '{column}' is missing{also}")
    extra = [c for c in have if c not in wanted]
    if extra:
        differences.append(
            f"{'columns' if len(extra) > 1 else 'column'} "
            f"{', '.join(repr(c) for c in extra)} not in the schema"
        )
    columns = []
    for column, target in wanted.items():
        if column not in have or column in twice:
            continue
        cast, problem = _cast(table.column(column), target)
        if problem is not None:
            text = dict(schema.columns)[column]
            differences.append(f"column '{column}' {problem}, the schema says {text}")
        columns.append(cast)
    if differences:
        raise SchemaMismatch(schema.name, differences)
    import pyarrow as pa

    return pa.Table.from_arrays(columns, names=list(wanted))


def _cast(values: pa.ChunkedArray, target: pa.DataType) -> tuple[pa.ChunkedArray, str | None]:
    """``values`` as ``target`` when that loses nothing; else the problem in words."""
    import pyarrow as pa
    import pyarrow.types as t

    source = values.type
    if source == target:
        return values, None
    is_text = f"is {type_name(source)}"
    allowed = (
        t.is_null(source)
        or (t.is_integer(source) and (t.is_integer(target) or t.is_floating(target)))
        or (t.is_integer(source) and t.is_decimal(target))
        or (t.is_floating(source) and t.is_floating(target) and target.bit_width >= 64)
        or (t.is_decimal(source) and t.is_decimal(target))
        or (t.is_timestamp(source) and (t.is_timestamp(target) or t.is_date(target)))
        or ((t.is_string(source) or t.is_large_string(source)) and t.is_string(target))
    )
    if t.is_timestamp(source) and t.is_timestamp(target) and bool(source.tz) != bool(target.tz):
        allowed = False  # a time zone cannot be made up, nor thrown away
    if not allowed:
        return values, is_text
    try:
        cast = values.cast(target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return values, f"{is_text} with values that do not fit"
    if t.is_date(target) and not _same(cast.cast(source), values):
        return values, f"{is_text} with times of day (not only dates)"
    return cast, None


def _same(a: pa.ChunkedArray, b: pa.ChunkedArray) -> bool:
    """Whether two columns hold equal values (nulls in the same places)."""
    import pyarrow.compute as pc

    if a.null_count != b.null_count:
        return False
    return pc.all(pc.equal(a, b)).as_py() is not False  # all-null columns are the same
