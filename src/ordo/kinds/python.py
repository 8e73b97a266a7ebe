"""``python`` steps: a script run by the same interpreter, in its own process.

Python steps are not transactional: the runner has committed everything before
one starts, the script makes its own connection, and its exit code is its verdict.
"""

from __future__ import annotations

import json
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from ordo.errors import PermanentError, StepProblem
from ordo.kinds._subprocess import run_process, step_environment
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect

__all__ = ["PreparedPython", "PythonKind", "PythonOptions"]

# Runs the script as ``python script.py`` does, its output buffered and flushed every 0.1 s:
# live in the log, at the speed of a buffered script (see the module itself).
_LAUNCHER = Path(__file__).with_name("_python_launcher.py")


class PythonOptions(StepOptions):
    file: str
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PreparedPython(PreparedStep[PythonOptions]):
    script: Path
    argv: tuple[str, ...]
    params_json: str


class PythonKind:
    name: ClassVar[str] = "python"
    label: ClassVar[str] = "PY"
    extensions: ClassVar[tuple[str, ...]] = (".py",)
    folder: ClassVar[str | None] = "python"
    options_model: ClassVar[type[PythonOptions]] = PythonOptions
    uses_connection: ClassVar[bool] = False

    def transactional(self, dialect: Dialect | None) -> bool:
        """Never: the script makes its own connection, in another process."""
        return False

    def prepare(self, options: PythonOptions, ctx: PrepareContext) -> PreparedPython:
        script = ctx.resolve_file(options.file, self.folder)
        argv = []
        for arg in options.args:
            try:
                argv.append(ctx.renderer.render(arg, ctx.params, name="args"))
            except StepProblem as exc:
                exc.key, exc.line = "args", None
                raise
        try:
            params_json = json.dumps(dict(ctx.params), default=str)
        except (TypeError, ValueError) as exc:
            raise StepProblem(f"params cannot be passed as JSON: {exc}", key="params") from exc
        return PreparedPython(
            **ctx.fields(self.name, options),
            script=script,
            argv=tuple(argv),
            params_json=params_json,
        )

    def execute(self, step: PreparedPython, ctx: ExecutionContext) -> StepOutcome:
        env = {
            **step_environment(ctx, step.name),
            "ORDO_PARAMS": step.params_json,
            **step.options.env,
        }
        finished = run_process(
            [sys.executable, str(_LAUNCHER), str(step.script), *step.argv],
            ctx,
            cwd=ctx.project.root,
            env=env,
            timeout=step.options.timeout,
            what=f"python script {step.script.name}",
            step=step.name,
        )
        if finished.code != 0:
            raise PermanentError(
                f"python script {step.script.name} {_ended(finished.code)}{finished.last_output()}",
                step=step.name,
            )
        return StepOutcome()


def _ended(code: int) -> str:
    """``exited with code 3``, or ``was killed by SIGKILL`` for a process a signal ended (its
    code is then minus the signal's number, which says nothing to most readers)."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"
