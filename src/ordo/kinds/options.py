"""The step keys every kind accepts, validated once at the manifest edge (pydantic).

A kind's own options model subclasses ``StepOptions``; ``RetryPolicy`` and ``RollbackOptions``
are the nested ``retry:`` and ``rollback:`` blocks. Kept apart from ``kinds.base`` so the
manifest and the plan can name the models without the execution side of a kind.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["RetryPolicy", "RollbackOptions", "StepOptions"]

_TAG = re.compile(r"[\w][\w.-]*")


class RetryPolicy(BaseModel):
    """How a unit is retried after a transient failure: waits ``base * 2**(n-1)``, capped.

    Only the numbers live here; the runner hands them to tenacity, which computes each wait.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_retries: int = Field(3, ge=0, le=100)
    base: float = Field(2.0, ge=0)
    cap: float = Field(60.0, ge=0)


class RollbackOptions(BaseModel):
    """What undoes a step that failed for good: SQL inline or in a file, a script, or
    ``restore``: the step's own kind puts back the last good version of what it writes (a
    ``Restorable`` kind, such as ``publish``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["sql", "plsql", "python", "restore"] = "sql"
    sql: str | None = None
    file: str | None = None
    timeout: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_body(self) -> RollbackOptions:
        if self.type == "restore":
            if self.file is not None or self.sql is not None:
                raise ValueError("a restore rollback takes no 'file' or 'sql'")
            return self
        if self.type == "python" and (self.file is None or self.sql is not None):
            raise ValueError("a python rollback needs 'file' (and no 'sql')")
        if self.type != "python" and (self.file is None) == (self.sql is None):
            raise ValueError("give exactly one of 'file' or 'sql'")
        return self


class StepOptions(BaseModel):
    """The keys every step accepts; a kind's model adds its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    type: str
    enabled: bool = True
    connection: str | None = None
    transaction_group: int | str | None = None
    # on a database whose DDL commits on its own (MySQL, MariaDB, Oracle): this step's group
    # may hold DDL, and a failure then keeps what the DDL committed (``ordo.planning.build``)
    allow_implicit_commit: bool = False
    notify: bool = False
    params: dict[str, Any] = Field(default_factory=dict)
    retry: RetryPolicy | None = None
    timeout: float | None = Field(None, gt=0)
    # None: after the step before it in the file, as numbered scripts run; () : no dependencies
    depends_on: tuple[str, ...] | None = None
    tags: tuple[str, ...] = ()
    rollback: RollbackOptions | None = None
    continue_on_rollback: bool = False  # a successful rollback lets dependent steps run

    @field_validator("depends_on", "tags", mode="before")
    @classmethod
    def _one_name_is_a_list(cls, value: Any) -> Any:
        """``depends_on: load`` means ``[load]``, as a user would expect."""
        return [value] if isinstance(value, str) else value

    @field_validator("tags")
    @classmethod
    def _tag_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for tag in value:
            if not _TAG.fullmatch(tag):
                raise ValueError(
                    f"tag {tag!r} must be letters, digits, '_', '.' or '-' "
                    "(it is selected as tag:NAME)"
                )
        return tuple(dict.fromkeys(value))
