"""``seed`` steps: CSV files loaded into tables, typed faithfully, at bulk-load speed.

Everything that can go wrong with a file is found at plan time (``prepare`` reads, checks and
types every file: ``ordo.data.seeds.read_seed``), so a bad CSV stops the run before any table
is touched. ``execute`` then empties or remakes the tables children first and loads them
parents first (``dependencies:``), all in the unit's transaction: on PostgreSQL, SQLite and
DuckDB a failure leaves every table as it was, and the step may share a ``transaction_group``
with SQL steps. On MariaDB/MySQL creating or dropping a table commits on its own; the step
says so (``implicit_commits``) and the planner treats it as it treats DDL in a SQL step.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from ordo._words import plural
from ordo.errors import ExecutionError, PermanentError, StepProblem
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ordo.data.csv_files import CsvFormat
    from ordo.data.seeds import Seed
    from ordo.data.tables import Target
    from ordo.data.typed_csv import TypedCsv
    from ordo.db.dialects import Dialect
    from ordo.project import Project

__all__ = ["PreparedSeed", "SeedKind", "SeedOptions"]


class SeedOptions(StepOptions):
    file: str | None = None
    files: str | None = None  # a glob: customers/*.csv
    table: str | None = None  # with file; default: the file's stem
    tables: dict[str, str] = Field(default_factory=dict)  # with files: {stem: table}
    schema_name: str | None = Field(None, alias="schema")
    mode: Literal["replace", "append", "truncate"] = "replace"
    cascade: bool = False  # replace may drop a table others depend on, and them with it
    # {column: type}, or with files {stem: {column: type}}
    column_types: dict[str, str | dict[str, str]] = Field(default_factory=dict)
    null_values: tuple[str, ...] | None = None  # default: an empty field is NULL
    empty_string: Literal["null", "keep"] = "null"
    delimiter: str = Field(",", min_length=1, max_length=1)
    quote: str = Field('"', min_length=1, max_length=1)
    encoding: str = "utf-8"
    dependencies: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("dependencies", mode="before")
    @classmethod
    def _one_parent_is_a_list(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r} (try utf-8, latin-1, cp1252)") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SeedOptions:
        if (self.file is None) == (self.files is None):
            raise ValueError("give exactly one of 'file' (one CSV) or 'files' (a glob)")
        if self.table is not None and self.files is not None:
            raise ValueError("'table' goes with 'file'; with 'files' use 'tables: {stem: table}'")
        if self.tables and self.file is not None:
            raise ValueError("'tables' goes with 'files'; with 'file' use 'table'")
        if self.delimiter == self.quote or "\n" in self.delimiter + self.quote:
            raise ValueError("'delimiter' and 'quote' must be two different characters")
        kinds = {isinstance(v, dict) for v in self.column_types.values()}
        if len(kinds) > 1 or (kinds == {True} and self.file is not None):
            raise ValueError(
                "'column_types' is {column: type}, or with 'files' {stem: {column: type}}"
            )
        if self.empty_string == "keep" and "" in (self.null_values or ()):
            raise ValueError("empty_string: keep and an empty null_values entry contradict")
        return self


@dataclass(frozen=True, kw_only=True)
class PreparedSeed(PreparedStep[SeedOptions]):
    seeds: tuple[Seed, ...]  # parents first, by ``dependencies``
    parents: dict[str, list[str]]  # by file stem, from ``dependencies``


class SeedKind:
    """Loads CSV files into tables in the unit's transaction."""

    name: ClassVar[str] = "seed"
    label: ClassVar[str] = "SEED"
    extensions: ClassVar[tuple[str, ...]] = (".csv",)
    folder: ClassVar[str | None] = "seeds"
    options_model: ClassVar[type[SeedOptions]] = SeedOptions
    uses_connection: ClassVar[bool] = True

    def transactional(self, dialect: Dialect | None) -> bool:
        """Always: the loads run in the unit's transaction (DDL commits on its own on some
        backends, which ``implicit_commits`` tells the planner)."""
        return True

    def read_ahead(self, options: SeedOptions, project: Project, manifest_dir: Path) -> None:
        """Start reading and typing the step's files (``ordo._read_ahead``)."""
        from ordo import _read_ahead

        format = _format(options)
        for path in _files(options, project, manifest_dir):
            _read_ahead.start(*_reading(options, path, format))

    def prepare(self, options: SeedOptions, ctx: PrepareContext) -> PreparedSeed:
        from ordo import _read_ahead
        from ordo.data.csv_files import CsvError
        from ordo.data.ordering import CycleError, parents_first
        from ordo.data.seeds import seed_of

        paths = _files(options, ctx.project, ctx.manifest_dir)
        format = _format(options)
        by_stem: dict[str, Seed] = {}
        stems = [path.stem for path in paths]
        twice = sorted({stem for stem in stems if stems.count(stem) > 1})
        if twice:
            raise StepProblem(
                f"more than one file is named {', '.join(twice)}: a seed's table is its file's "
                "name, so give each file a name of its own",
                key="files",
            )
        unknown = sorted(set(_per_file_types(options)) - set(stems))
        if unknown:
            raise StepProblem(
                f"column_types names {', '.join(map(repr, unknown))}, not a file of this step "
                f"(it loads {', '.join(stems)})",
                key="column_types",
            )
        for path in paths:
            target = _target(options, ctx.dialect, path)
            try:
                by_stem[path.stem] = seed_of(
                    _read_ahead.take(*_reading(options, path, format)), target
                )
            except CsvError as exc:
                problem = StepProblem(exc.reason, line=exc.line)
                problem.file = path
                raise problem from exc
            except OSError as exc:
                key = "file" if options.file is not None else "files"
                raise StepProblem(f"cannot read {path}: {exc}", key=key) from exc
        names = {str(seed.target): stem for stem, seed in by_stem.items()}
        parents: dict[str, list[str]] = {}
        for child, its_parents in options.dependencies.items():
            unknown = [n for n in (child, *its_parents) if n not in by_stem and n not in names]
            if unknown:
                raise StepProblem(
                    f"dependencies name {', '.join(map(repr, unknown))}, not a file or table "
                    f"of this step (it loads {', '.join(sorted(by_stem))})",
                    key="dependencies",
                )
            parents[names.get(child, child)] = [names.get(p, p) for p in its_parents]
        try:
            order = parents_first(list(by_stem), parents)
        except CycleError as exc:
            raise StepProblem(
                f"{exc} (each needs the next loaded first)", key="dependencies"
            ) from exc
        seeds = tuple(by_stem[stem] for stem in order)
        shown = ", ".join(f"{seed.path.name} -> {seed.target}" for seed in seeds)
        implicit: tuple[str, ...] = ()
        if ctx.dialect is not None and ctx.dialect.ddl_commits_implicitly:
            implicit = tuple(f"CREATE/DROP TABLE {seed.target} (seed)" for seed in seeds)
        return PreparedSeed(
            **ctx.fields(self.name, options),
            summary=f"- {plural(len(seeds), 'file')}: {shown}",
            implicit_commits=implicit,
            # as stored: quoted, so that ``ordo status`` counts exactly these tables
            writes=tuple(str(seed.target.table_name) for seed in seeds),
            seeds=seeds,
            parents=parents,
        )

    def execute(self, step: PreparedSeed, ctx: ExecutionContext) -> StepOutcome:
        from ordo.data.seeds import load_seed
        from ordo.data.tables import prepare_table
        from ordo.db.errors import database_errors  # SQLAlchemy: not for `ordo --help`

        conn, dialect = ctx.database()
        options = step.options
        doing = "reading the foreign keys between the tables"
        files: list[dict[str, Any]] = []
        try:
            with (
                database_errors(masker=ctx.masker, timeout=options.timeout),
                dialect.statement_timeout(conn, options.timeout),
            ):
                seeds = _load_order(conn, dialect, step)
                for seed in reversed(seeds):  # children emptied before parents
                    doing = f"preparing table {seed.target} for {seed.path.name}"
                    prepare_table(
                        conn,
                        dialect,
                        seed.target,
                        seed.columns,
                        options.mode,
                        cascade=options.cascade,
                    )
                for seed in seeds:  # parents loaded before children
                    doing = f"loading {seed.path.name} into {seed.target}"
                    started = time.perf_counter()
                    rows = load_seed(conn, dialect, seed, options.mode, prepared=True)
                    seconds = time.perf_counter() - started
                    files.append(_detail(seed, rows, seconds))
                    ctx.log_line(
                        f"{seed.path.name} -> {seed.target}: "
                        f"{plural(rows, 'row')} in {seconds:.2f} s"
                    )
        except ExecutionError as exc:
            raise exc.with_context(prefix=doing) from exc
        except OSError as exc:  # the file went away between plan and run
            raise PermanentError(f"{doing}: {exc}") from exc
        return StepOutcome(rows=sum(f["rows"] for f in files), details={"files": files})


def _load_order(conn: Connection, dialect: Dialect, step: PreparedSeed) -> list[Seed]:
    """The seeds parents first, by ``dependencies`` and by the foreign keys that already
    exist between their tables (``ordo.data.catalog``); a cycle cannot be loaded."""
    from ordo.data.catalog import dependencies
    from ordo.data.ordering import CycleError, parents_first

    seeds = {seed.path.stem: seed for seed in step.seeds}
    if len(seeds) < 2:
        return list(step.seeds)
    parents = {stem: list(step.parents.get(stem, ())) for stem in seeds}
    for schema in sorted({seed.target.schema or "" for seed in step.seeds}):
        stems = {
            seed.target.table.casefold(): stem
            for stem, seed in seeds.items()
            if (seed.target.schema or "") == schema
        }
        for found in dependencies(conn, dialect, schema or None):
            if not found.is_foreign_key or found.dependant.schema != found.dependency.schema:
                continue
            child = stems.get(found.dependant.name.casefold())
            parent = stems.get(found.dependency.name.casefold())
            if child is not None and parent is not None:
                parents[child].append(parent)
    try:
        order = parents_first(list(seeds), parents)
    except CycleError as exc:
        raise PermanentError(
            f"the seeds cannot be loaded in any order: {exc} (by dependencies: and the "
            "foreign keys between their tables)",
            hint="load one of the tables in a step of its own, or drop a foreign key first",
        ) from exc
    return [seeds[stem] for stem in order]


def _detail(seed: Seed, rows: int, seconds: float) -> dict[str, Any]:
    return {
        "file": seed.path.name,
        "table": str(seed.target),
        "rows": rows,
        "seconds": round(seconds, 3),
    }


def _reading(
    options: SeedOptions, path: Path, format: CsvFormat
) -> tuple[Hashable, list[Path], Callable[[], TypedCsv]]:
    """What reading ``path`` takes: its key (everything the reading depends on), the file,
    and the reading itself."""
    from ordo.data.typed_csv import read_typed_csv

    types = _types(options, path)
    key = ("seed", path, format, tuple(sorted(types.items())))
    return key, [path], partial(read_typed_csv, path, format, types)


def _files(options: SeedOptions, project: Project, manifest_dir: Path) -> list[Path]:
    """The CSV files: under ``seeds/`` in the project (or ``scripts/seeds/``), else beside
    the manifest; a glob takes the first folder where it matches anything."""
    bases = [project.seeds_dir, project.scripts_dir / "seeds", manifest_dir]
    if options.file is not None:
        path = Path(options.file)
        candidates = [path] if path.is_absolute() else [base / path for base in bases]
        for candidate in candidates:
            if candidate.is_file():
                return [candidate.resolve()]
        tried = ", ".join(str(c) for c in candidates)
        raise StepProblem(f"file '{options.file}' not found (looked in {tried})", key="file")
    pattern = options.files or ""
    for base in bases:
        found = sorted(p.resolve() for p in base.glob(pattern) if p.is_file())
        if found:
            return found
    tried = ", ".join(str(base) for base in bases)
    raise StepProblem(f"no file matches '{pattern}' (looked in {tried})", key="files")


def _format(options: SeedOptions) -> CsvFormat:
    from ordo.data.csv_files import CsvFormat

    return CsvFormat(
        delimiter=options.delimiter,
        quote=options.quote,
        encoding=options.encoding,
        null_values=options.null_values if options.null_values is not None else ("",),
        keep_empty=options.empty_string == "keep",
    )


def _per_file_types(options: SeedOptions) -> dict[str, dict[str, str]]:
    """``column_types`` by file stem, when it is written per file (with ``files``)."""
    return {k: v for k, v in options.column_types.items() if isinstance(v, dict)}


def _types(options: SeedOptions, path: Path) -> dict[str, str]:
    per_file = _per_file_types(options)
    if per_file:
        return dict(per_file.get(path.stem, {}))
    return {k: v for k, v in options.column_types.items() if isinstance(v, str)}


def _target(options: SeedOptions, dialect: Dialect | None, path: Path) -> Target:
    """The table for ``path``: ``table``/``tables`` or the stem; a plain name is folded as the
    database folds an unquoted one (``Customers`` is ``customers`` on PostgreSQL), any other
    (``Order Items``) is kept exactly."""
    from ordo.data.tables import Target

    given = options.table or options.tables.get(path.stem)
    table = _stored(given or path.stem, dialect)
    if given is not None and table is None:
        key = "table" if options.table else "tables"
        raise StepProblem(f"table '{given}': give its schema in 'schema:'", key=key)
    schema = options.schema_name
    stored_schema = _stored(schema, dialect) if schema else None
    return Target(table or path.stem, stored_schema or schema)


def _stored(text: str, dialect: Dialect | None) -> str | None:
    """``text`` as the database stores it; ``None`` for a ``schema.table`` name."""
    from ordo.db.dialects import parse_table_name

    try:
        name = parse_table_name(text)
    except ValueError:
        return text  # not a plain or quoted name: used exactly as written
    if name.schema is not None:
        return None
    return dialect.stored_name(name.table) if dialect is not None else name.table.text
