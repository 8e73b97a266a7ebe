"""What extractors and loaders share: the contexts they are given, and how they are found.

A ``load`` step is a source (an extractor, ``ordo.extractors``) and a target (a loader,
``ordo.loaders``); both are plug-in points found through entry points, as step kinds are.
They sit side by side in the import layers, so what both need lives here, one layer down:

- ``PlanContext``: what a plug-in may look at when it is built from its config, at plan
  time (files and settings, never a database), and how it finds the files it names;
- ``DataContext``: what it gets when data moves: the step's connection (inside the unit's
  transaction), other named connections, the masker, the step's log;
- ``PluginRegistry``: one entry-point group's plug-ins by ``type``, built from a config
  mapping with errors that name the key path (``source.path``), and a did-you-mean for an
  unknown ``type``.
"""

from __future__ import annotations

import glob
import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from ordo._hints import did_you_mean
from ordo._plugins import plugin, plugins
from ordo.errors import StepProblem

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ordo._files import StagedFile
    from ordo.config import Settings
    from ordo.db.dialects import Dialect
    from ordo.masking import Masker

__all__ = [
    "INSTALL_DATA",
    "DataContext",
    "PlanContext",
    "PluginRegistry",
    "require_modules",
]

INSTALL_DATA = "pip install 'ordo[data]'"
"""The exact line that installs what load steps need (pyarrow, python-calamine, ADBC)."""

# The distribution a missing module comes from, for the message.
_DISTRIBUTIONS = {"python_calamine": "python-calamine", "adbc_driver_postgresql": "adbc"}

PluginT = TypeVar("PluginT")


@dataclass(frozen=True)
class PlanContext:
    """What a source or target may look at while it is built: files and settings only.

    ``key`` is where its config sits in the step (``source``, ``target``), so that problems
    name the path a user types (``source.path``).
    """

    root: Path
    manifest_dir: Path
    settings: Settings
    key: str = "source"
    connection: str | None = None  # the step's connection
    dialect: Dialect | None = None  # and its dialect, when there is one

    def problem(self, message: str, field_name: str | None = None, **kw: Any) -> StepProblem:
        """A ``StepProblem`` at this config's key, its message naming ``key.field``."""
        where = f"{self.key}.{field_name}" if field_name else self.key
        return StepProblem(f"{where}: {message}", key=self.key, **kw)

    def bases(self) -> list[Path]:
        """Where a relative path is looked up: the project folder, then beside the manifest."""
        return list(dict.fromkeys([self.root, self.manifest_dir]))

    def find_file(self, text: str, field_name: str = "path") -> Path:
        """An existing file named ``text`` (absolute, or under one of ``bases``)."""
        path = Path(text)
        candidates = [path] if path.is_absolute() else [b / path for b in self.bases()]
        for candidate in candidates:
            if candidate.is_file():
                return candidate.resolve()
        tried = ", ".join(str(c) for c in candidates)
        raise self.problem(f"file '{text}' not found (looked in {tried})", field_name)

    def find_files(self, text: str, field_name: str = "path") -> tuple[Path, ...]:
        """The files ``text`` names: one file, or a glob (``data/*.csv``, ``**`` too), sorted.

        Looked up as ``find_file`` does; the first base where the glob matches wins. No match
        is a problem at plan time, never an empty load.
        """
        if not glob.has_magic(text):
            return (self.find_file(text, field_name),)
        path = Path(text)
        patterns = [path] if path.is_absolute() else [b / path for b in self.bases()]
        for pattern in patterns:
            found = sorted(Path(p).resolve() for p in glob.glob(str(pattern), recursive=True))
            files = tuple(p for p in found if p.is_file())
            if files:
                return files
        tried = ", ".join(str(p) for p in patterns)
        raise self.problem(f"no file matches '{text}' (looked for {tried})", field_name)

    def output_path(self, text: str, field_name: str = "path") -> Path:
        """Where a file a target writes goes: relative to the project folder, inside it."""
        path = Path(text)
        resolved = (path if path.is_absolute() else self.root / path).resolve()
        try:
            resolved.relative_to(self.root.resolve())
        except ValueError:
            raise self.problem(
                f"'{text}' is outside the project",
                field_name,
                hint="give a path inside the project folder, e.g. exports/orders.parquet",
            ) from None
        return resolved

    def require_connection_name(self, name: str, field_name: str = "connection") -> str:
        """``name`` when settings define such a connection, else a problem with a hint."""
        if not self.settings.has_connection(name):
            env = self.settings.env_name.upper()
            raise self.problem(
                f"unknown connection '{name}'",
                field_name,
                hint=f"set {env}_GLOBAL_{name.upper()}_CONNECTION_STRING in config/.env",
            )
        return name


@dataclass
class DataContext:
    """What a source or target gets while data moves.

    ``connection`` is the step's own, inside the unit's transaction (a table target writes
    through it, so the load commits or rolls back with the unit); ``open_connection`` opens
    another named connection for the block (a ``sql`` source reading elsewhere). A target
    that writes a file stages it (``stage``): the runner renames it into place once the unit
    has committed.
    """

    settings: Settings
    masker: Masker
    log_line: Callable[[str], None] = field(default=lambda line: None)
    connection: Connection | None = None
    dialect: Dialect | None = None
    staged: list[StagedFile] = field(default_factory=list)

    def database(self) -> tuple[Connection, Dialect]:
        """The step's connection and dialect; a load step always has them."""
        if self.connection is None or self.dialect is None:  # a runner bug, not a user's
            raise RuntimeError("a load step was run without its connection")
        return self.connection, self.dialect

    def stage(self, staged: StagedFile) -> None:
        """Hand over a file written to its temp name, to be put in place after the commit."""
        self.staged.append(staged)

    @contextmanager
    def open_connection(self, name: str) -> Iterator[tuple[Connection, Dialect]]:
        """Another named connection for the block, closed after it (errors as ``CannotConnect``)."""
        from ordo.db.connect import connect
        from ordo.db.dialects import dialect_for
        from ordo.db.engines import EngineRegistry

        settings = self.settings.connection(name)
        with EngineRegistry() as engines:
            conn = connect(engines.for_connection(settings), settings, self.masker)
            try:
                yield conn, dialect_for(conn)
            finally:
                conn.close()


def require_modules(modules: tuple[str, ...], what: str, key: str) -> None:
    """Fail at plan time, with the install line, when a module a plug-in needs is missing."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            name = _DISTRIBUTIONS.get(module, module)
            raise StepProblem(
                f"{what} needs {name}, which is not installed",
                key=key,
                hint=f"install the data extra: {INSTALL_DATA}",
            ) from None


class PluginRegistry(Generic[PluginT]):
    """One entry-point group's plug-ins by ``type`` (``csv``, ``table``...).

    A registered class has ``config_model`` (a pydantic model of its keys besides ``type``),
    ``requires`` (modules it imports when it runs; missing ones fail at plan time with the
    install line) and is called as ``cls(config, plan)`` to build it. ``registered`` adds
    one for a block, for tests, as ``ordo.kinds.registered`` does for kinds.
    """

    def __init__(self, group: str, what: str) -> None:
        self.group, self.what = group, what  # what: "source" or "target", as messages say
        self._added: dict[str, Any] = {}

    def available(self) -> list[str]:
        return sorted({*plugins(self.group), *self._added})

    def get(self, name: str) -> Any:
        """The class registered as ``name``; ``KeyError`` for an unknown one."""
        if name in self._added:
            return self._added[name]
        return plugin(self.group, name)

    def build(self, spec: Mapping[str, Any], plan: PlanContext) -> PluginT:
        """The plug-in ``spec`` describes (``{type: csv, path: ...}``), validated and built."""
        if not isinstance(spec, Mapping) or not isinstance(spec.get("type"), str):
            raise plan.problem(
                f"give the {self.what}'s type, one of: {', '.join(self.available())}", "type"
            )
        name = spec["type"]
        try:
            factory = self.get(name)
        except KeyError:
            choices = self.available()
            raise plan.problem(
                f"unknown {self.what} type '{name}'",
                "type",
                hint=did_you_mean(name, choices, f"{self.what} types: {', '.join(choices)}"),
            ) from None
        require_modules(tuple(getattr(factory, "requires", ())), f"a {name} {self.what}", plan.key)
        model: type[BaseModel] = factory.config_model
        try:
            config = model.model_validate({k: v for k, v in spec.items() if k != "type"})
        except ValidationError as exc:
            raise _config_problem(exc, plan, model) from None
        built: PluginT = factory(config, plan)
        return built

    @contextmanager
    def registered(self, name: str, factory: Any) -> Iterator[None]:
        """Make ``factory`` the plug-in called ``name`` for the block (tests)."""
        previous = self._added.get(name)
        self._added[name] = factory
        try:
            yield
        finally:
            if previous is None:
                del self._added[name]
            else:
                self._added[name] = previous


def _config_problem(exc: ValidationError, plan: PlanContext, model: type[BaseModel]) -> StepProblem:
    """The first pydantic error as a problem at ``key.path``, in the manifest's own words."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    fields = [field.alias or name for name, field in model.model_fields.items()]
    if error["type"] == "extra_forbidden":
        return plan.problem(
            "unknown key",
            where,
            hint=did_you_mean(where, fields, "allowed keys: " + ", ".join(fields)),
        )
    if error["type"] == "missing":
        return plan.problem("missing required key", where)
    got = error.get("input")
    shown = f" (got {got!r})" if isinstance(got, str | int | float | bool) else ""
    return plan.problem(error["msg"].removeprefix("Value error, ") + shown, where or None)
