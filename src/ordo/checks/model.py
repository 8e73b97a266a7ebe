"""The checks a ``validate`` step holds, as a manifest writes them (pydantic, plan time).

Every check has a ``type``, an optional ``name`` (a readable one is made otherwise), a
``severity`` (what a failing check does to the step: ``error`` fails it, ``warn`` warns,
``info`` only tells), a ``where`` filter, a ``sample`` size and at most one kind of threshold:
``mostly`` (the share of rows that must pass) or ``warn_if`` / ``error_if`` on the failing-row
count, as dbt's tests have them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from ordo.checks.thresholds import Threshold, parse_age, parse_threshold
from ordo.db.dialects.names import parse_table_name

__all__ = [
    "AcceptedValues",
    "Check",
    "CheckBase",
    "ExpressionCheck",
    "Freshness",
    "NotNull",
    "Range",
    "Relationships",
    "RowCount",
    "Severity",
    "SqlCheck",
    "Unique",
]

Severity = Literal["error", "warn", "info"]
Value = bool | int | float | Decimal | dt.datetime | dt.date | str


def _table(value: Any) -> Any:
    if isinstance(value, str):
        parse_table_name(value)  # ValueError says what is wrong with it
    return value


def _threshold(value: Any) -> Any:
    return None if value is None else parse_threshold(value)


TableText = Annotated[str, BeforeValidator(_table)]
ThresholdText = Annotated[Threshold | None, BeforeValidator(_threshold)]


class CheckBase(BaseModel):
    """What every check takes."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    type: str
    name: str | None = Field(None, min_length=1)
    # another named connection than the step's: the check reads there, outside the step's
    # transaction, in one of its own that is rolled back
    connection: str | None = Field(None, min_length=1)
    severity: Severity = "error"
    where: str | None = Field(None, min_length=1)
    mostly: float | None = Field(None, gt=0, le=1)
    warn_if: ThresholdText = None
    error_if: ThresholdText = None
    sample: int = Field(5, ge=0, le=1000)

    # Checks of a whole table (its row count, its newest row) have no failing rows to count.
    counts_rows: ClassVar[bool] = True

    @model_validator(mode="after")
    def _one_threshold(self) -> CheckBase:
        if self.mostly is not None and (self.warn_if or self.error_if):
            raise ValueError("give either 'mostly' or 'warn_if'/'error_if', not both")
        return self

    def columns_named(self) -> tuple[str, ...]:
        """The columns of ``table`` the check reads, for finding them before it runs."""
        return ()

    def default_name(self) -> str:
        raise NotImplementedError


class _OnTable(CheckBase):
    table: TableText


class _OnColumns(_OnTable):
    column: str | None = Field(None, min_length=1)
    columns: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _one_of_column_or_columns(self) -> _OnColumns:
        if (self.column is None) == (self.columns is None):
            raise ValueError("give exactly one of 'column' or 'columns'")
        if self.columns is not None and (not self.columns or not all(self.columns)):
            raise ValueError("'columns' must name at least one column")
        return self

    def columns_named(self) -> tuple[str, ...]:
        return (self.column,) if self.column is not None else tuple(self.columns or ())

    def default_name(self) -> str:
        cols = ", ".join(self.columns_named())
        return (
            f"{self.type}({self.table}.{cols})"
            if self.column
            else f"{self.type}({self.table}: {cols})"
        )


class _OnColumn(_OnTable):
    column: str = Field(min_length=1)

    def columns_named(self) -> tuple[str, ...]:
        return (self.column,)

    def default_name(self) -> str:
        return f"{self.type}({self.table}.{self.column})"


class _WholeTable(_OnTable):
    counts_rows: ClassVar[bool] = False

    @model_validator(mode="after")
    def _no_row_thresholds(self) -> _WholeTable:
        if self.mostly is not None or self.warn_if or self.error_if:
            raise ValueError(
                f"a {self.type} check has no failing rows to count: its bounds are its "
                "threshold (remove mostly, warn_if and error_if)"
            )
        return self


class RowCount(_WholeTable):
    """The table's row count within ``min``/``max``, or equal to another table's."""

    type: Literal["row_count"]
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)
    equal_to: TableText | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> RowCount:
        if self.min is None and self.max is None and self.equal_to is None:
            raise ValueError("give 'min', 'max' or 'equal_to'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is more than max {self.max}")
        return self

    def default_name(self) -> str:
        if self.equal_to is not None:
            return f"row_count({self.table} = {self.equal_to})"
        return f"row_count({self.table})"


class NotNull(_OnColumns):
    """No NULL in the column (or in any of ``columns``)."""

    type: Literal["not_null"]


class Unique(_OnColumns):
    """No two rows share the column's value (or the combination of ``columns``); rows with a
    NULL in the key are not compared, as a UNIQUE constraint does."""

    type: Literal["unique"]


class AcceptedValues(_OnColumn):
    """Every non-NULL value is one of ``values``."""

    type: Literal["accepted_values"]
    values: tuple[Value, ...] = Field(min_length=1)


class Relationships(_OnColumn):
    """Every non-NULL value is found in ``to``'s ``field`` (a foreign key that is not declared)."""

    type: Literal["relationships"]
    to: TableText
    field: str = Field(min_length=1)

    def default_name(self) -> str:
        return f"relationships({self.table}.{self.column} -> {self.to}.{self.field})"


class Range(_OnColumn):
    """Every non-NULL value within ``min`` and ``max`` (inclusive): numbers or dates."""

    type: Literal["range"]
    min: Value | None = None
    max: Value | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        return self


class Freshness(_WholeTable):
    """The newest ``column`` value is at most ``max_age`` old (``24h``). A timestamp without a
    zone is read in ``timezone`` (UTC unless given)."""

    type: Literal["freshness"]
    column: str = Field(min_length=1)
    max_age: dt.timedelta
    timezone: str = "UTC"

    @field_validator("max_age", mode="before")
    @classmethod
    def _age(cls, value: Any) -> dt.timedelta:
        return value if isinstance(value, dt.timedelta) else parse_age(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (write one such as Europe/Berlin)"
            ) from exc
        return value

    def columns_named(self) -> tuple[str, ...]:
        return (self.column,)

    def default_name(self) -> str:
        return f"freshness({self.table}.{self.column})"


class ExpressionCheck(_OnTable):
    """A SQL boolean that every row must make true (a row where it is NULL passes)."""

    type: Literal["expression"]
    expression: str = Field(min_length=1)

    def default_name(self) -> str:
        return f"expression({self.table}: {self.expression})"


class SqlCheck(CheckBase):
    """A query that returns the failing rows; none means the check passes."""

    type: Literal["sql"]
    sql: str = Field(min_length=1)

    @model_validator(mode="after")
    def _no_where(self) -> SqlCheck:
        if self.where is not None:
            raise ValueError("a sql check has no 'where': put the filter in its query")
        if self.mostly is not None:
            raise ValueError("a sql check has no row total for 'mostly': use warn_if/error_if")
        return self

    def default_name(self) -> str:
        first = " ".join(self.sql.split())
        return f"sql({first[:40]}{'…' if len(first) > 40 else ''})"


Check = Annotated[
    RowCount
    | NotNull
    | Unique
    | AcceptedValues
    | Relationships
    | Range
    | Freshness
    | ExpressionCheck
    | SqlCheck,
    Field(discriminator="type"),
]
