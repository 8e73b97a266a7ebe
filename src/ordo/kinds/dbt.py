"""``dbt`` steps: dbt run as a subprocess, its nodes read back from ``run_results.json``.

dbt is what many of our users already have for models and tests; ordo runs it as one step
among the others, not beside the pipeline. It runs in its own process (dbt opens its own
connections, so the step is not transactional and the runner lets go of a DuckDB file before
it starts), with the project's settings in its environment so that ``profiles.yml`` can read
a connection through ``env_var()``. Its output streams to the console and the log as it
comes; a timeout (3600 s unless set) kills its process group. Afterwards each node (model,
test, seed, snapshot) is read from the ``run_results.json`` this invocation wrote, with its
status, time, rows and message; failed nodes name the step's failure, warned tests are the
step's warnings. dbt's failures are not retried unless the step sets ``retry``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, field_validator

from ordo._hints import did_you_mean
from ordo._words import plural
from ordo.errors import PermanentError, StepProblem
from ordo.kinds._subprocess import run_process, step_environment
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect

__all__ = ["DbtKind", "DbtOptions", "PreparedDbt", "find_dbt", "read_results"]

INSTALL = "pip install 'ordo[dbt]'"
SETTING = "ORDO_DBT"  # the path of a dbt installed elsewhere (pipx, a virtualenv of its own)
COMMANDS = (
    "build", "clean", "clone", "compile", "debug", "deps", "docs", "list", "ls", "parse",
    "retry", "run", "run-operation", "seed", "show", "snapshot", "source", "test",
)  # fmt: skip
_FAILED = ("error", "fail", "runtime error")
# dbt asks the internet for usage statistics and version checks: neither reaches a closed
# network, and a run must not wait on them. Colours would reach the log as escape codes.
_QUIET = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_USE_COLORS": "false",
    "DBT_VERSION_CHECK": "false",
}


class DbtOptions(StepOptions):
    command: str = "build"
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    vars: dict[str, Any] = Field(default_factory=dict)
    full_refresh: bool = False
    target: str | None = None
    project_dir: str | None = None  # default: dbt/ when it holds dbt_project.yml, else the root
    profiles_dir: str | None = None  # default: the dbt project's folder when it has profiles.yml
    threads: int | None = Field(None, ge=1)
    args: tuple[str, ...] = ()
    timeout: float | None = Field(3600.0, gt=0)

    @field_validator("select", "exclude", "args", mode="before")
    @classmethod
    def _one_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True, kw_only=True)
class PreparedDbt(PreparedStep[DbtOptions]):
    executable: Path
    command: tuple[str, ...]  # what follows the executable
    project_dir: Path


class DbtKind:
    name: ClassVar[str] = "dbt"
    label: ClassVar[str] = "DBT"
    extensions: ClassVar[tuple[str, ...]] = ()
    folder: ClassVar[str | None] = None
    options_model: ClassVar[type[DbtOptions]] = DbtOptions
    uses_connection: ClassVar[bool] = False

    def transactional(self, dialect: Dialect | None) -> bool:
        """Never: dbt opens its own connections, in another process."""
        return False

    def prepare(self, options: DbtOptions, ctx: PrepareContext) -> PreparedDbt:
        if options.command not in COMMANDS:
            hint = did_you_mean(options.command, COMMANDS, f"one of {', '.join(COMMANDS)}")
            raise StepProblem(f"'{options.command}' is not a dbt command", key="command", hint=hint)
        executable = _executable(ctx.settings.values.get(SETTING))
        root = ctx.project.root
        project_dir = _project_dir(options, root)
        argv = [options.command]
        for flag, values in (("--select", options.select), ("--exclude", options.exclude)):
            if values:
                argv += [flag, *values]
        if options.vars:
            argv += ["--vars", json.dumps(_rendered(options.vars, ctx), default=str)]
        if options.full_refresh:
            argv.append("--full-refresh")
        if options.target is not None:
            argv += ["--target", options.target]
        if options.threads is not None:
            argv += ["--threads", str(options.threads)]
        argv += ["--project-dir", str(project_dir)]
        profiles = _profiles_dir(options, root, project_dir)
        if profiles is not None:
            argv += ["--profiles-dir", str(profiles)]
        argv += list(options.args)
        return PreparedDbt(
            **ctx.fields(self.name, options),
            summary=f"- dbt {' '.join(argv[: argv.index('--project-dir')])}",
            executable=executable,
            command=tuple(argv),
            project_dir=project_dir,
        )

    def execute(self, step: PreparedDbt, ctx: ExecutionContext) -> StepOutcome:
        env = {**step_environment(ctx, step.name), **_QUIET}
        env.setdefault("PATH", os.environ.get("PATH", ""))
        started = datetime.now(UTC)
        what = f"dbt {step.options.command}"
        finished = run_process(
            [str(step.executable), *step.command],
            ctx,
            cwd=ctx.project.root,
            env=env,
            timeout=step.options.timeout,
            what=what,
            step=step.name,
        )
        nodes = read_results(step.project_dir, since=started)
        details: dict[str, Any] = {"command": step.options.command}
        if nodes is not None:
            details |= dict(Counter(n["status"] for n in nodes)) | {"nodes": nodes}
        failed = [n for n in nodes or () if n["status"] in _FAILED]
        if finished.code != 0 or failed:
            if failed:
                said = "; ".join(f"{n['node']}: {n['message'] or n['status']}" for n in failed)
                message = f"{what} failed: {plural(len(failed), 'node')} failed: {said}"
            else:
                message = f"{what} exited with code {finished.code}{finished.last_output()}"
            error = PermanentError(message, step=step.name)
            error.details = details
            raise error
        warnings = tuple(
            f"{n['node']}: {n['message'] or 'warn'}" for n in nodes or () if n["status"] == "warn"
        )
        rows = [n["rows"] for n in nodes or () if isinstance(n.get("rows"), int)]
        return StepOutcome(rows=sum(rows) if rows else None, details=details, warnings=warnings)


def find_dbt(search: str | None = None) -> Path | None:
    """The ``dbt`` beside this interpreter (``ordo[dbt]``), else the one on ``PATH``."""
    beside = Path(sys.executable).with_name("dbt")
    if search is None and beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("dbt", path=search)
    return Path(found) if found else None


def _executable(setting: str | None) -> Path:
    """The dbt to run: the ``ORDO_DBT`` setting's (dbt in a virtualenv of its own, as pipx
    installs it), else ``find_dbt``'s; a plan-time problem when there is none."""
    if setting:
        given = Path(setting).expanduser()
        if not (given.is_file() and os.access(given, os.X_OK)):
            raise StepProblem(
                f"{SETTING} is {setting}, which is not a program that can be run",
                key="type",
                hint=f"point {SETTING} at the dbt executable (such as ~/.local/bin/dbt)",
            )
        return given
    found = find_dbt()
    if found is None:
        raise StepProblem(
            "dbt is not installed where ordo runs",
            key="type",
            hint=f"install it with {INSTALL} (dbt-core below 1.12 and your adapter, such as "
            f"dbt-duckdb or dbt-postgres), or set {SETTING} to a dbt installed elsewhere",
        )
    return found


def read_results(project_dir: Path, *, since: datetime) -> list[dict[str, Any]] | None:
    """Each node of the ``run_results.json`` written after ``since``; None when dbt wrote
    none (it failed before running anything, or the command runs no nodes): an older file is
    another invocation's, never this one's."""
    path = project_dir / "target" / "run_results.json"
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        generated = datetime.fromisoformat(found["metadata"]["generated_at"].replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if generated.tzinfo is None:
        generated = generated.replace(tzinfo=UTC)
    if generated < since:
        return None
    nodes = []
    for result in found.get("results", ()):
        response = result.get("adapter_response") or {}
        nodes.append(
            {
                "node": result.get("unique_id"),
                "status": str(result.get("status")),
                "time": round(float(result.get("execution_time") or 0.0), 3),
                "rows": response.get("rows_affected"),
                "failures": result.get("failures"),
                "message": _first_line(result.get("message")),
            }
        )
    return nodes


def _first_line(text: object) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    return text.strip().splitlines()[0]


def _project_dir(options: DbtOptions, root: Path) -> Path:
    if options.project_dir is not None:
        folder = (root / options.project_dir).resolve()
        if not (folder / "dbt_project.yml").is_file():
            raise StepProblem(
                f"no dbt_project.yml in {options.project_dir}",
                key="project_dir",
                hint="give the folder of the dbt project, relative to the ordo project",
            )
        return folder
    for folder in (root / "dbt", root):
        if (folder / "dbt_project.yml").is_file():
            return folder.resolve()
    raise StepProblem(
        "no dbt project found (no dbt_project.yml in dbt/ or in the project folder)",
        key="project_dir",
        hint="set project_dir to the dbt project's folder",
    )


def _profiles_dir(options: DbtOptions, root: Path, project_dir: Path) -> Path | None:
    if options.profiles_dir is not None:
        folder = (root / options.profiles_dir).resolve()
        if not (folder / "profiles.yml").is_file():
            raise StepProblem(
                f"no profiles.yml in {options.profiles_dir}",
                key="profiles_dir",
                hint="give the folder that holds profiles.yml, relative to the ordo project",
            )
        return folder
    return project_dir if (project_dir / "profiles.yml").is_file() else None


def _rendered(values: dict[str, Any], ctx: PrepareContext) -> dict[str, Any]:
    """``vars`` rendered as params are: a string value may be a template."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        out[key] = value
        if isinstance(value, str):
            try:
                out[key] = ctx.renderer.render(value, ctx.params, name=f"vars.{key}")
            except StepProblem as exc:
                exc.key, exc.line = "vars", None
                raise
    return out
