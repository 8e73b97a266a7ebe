"""``python`` steps: a script run by the same interpreter, in its own process.

Python steps are not transactional (seed 000 §4.4): the runner has committed everything before
one starts, the script makes its own connection, and its exit code is its verdict.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from ordo.errors import PermanentError, StepProblem, StepTimeout
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOptions, StepOutcome

__all__ = ["PythonKind", "PythonOptions"]

_TAIL_LINES = 10


class PythonOptions(StepOptions):
    file: str
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class PreparedPython(PreparedStep):
    script: Path = Path()
    argv: tuple[str, ...] = ()
    params_json: str = "{}"


class PythonKind:
    name: ClassVar[str] = "python"
    label: ClassVar[str] = "PY"
    options_model: ClassVar[type[StepOptions]] = PythonOptions
    transactional: ClassVar[bool] = False
    uses_connection: ClassVar[bool] = False

    def prepare(self, options: StepOptions, ctx: PrepareContext) -> PreparedStep:
        assert isinstance(options, PythonOptions)
        script = ctx.resolve_file(options.file, ctx.project.python_dir)
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
            name=options.name,
            kind=self.name,
            options=options,
            connection=None,
            group=ctx.group,
            line=ctx.line,
            script=script,
            argv=tuple(argv),
            params_json=params_json,
        )

    def execute(self, step: PreparedStep, ctx: ExecutionContext) -> StepOutcome:
        assert isinstance(step, PreparedPython)
        assert isinstance(step.options, PythonOptions)
        env = {
            **ctx.settings.child_environment(),
            "ORDO_RUN_ID": ctx.run_id,
            "ORDO_STEP": step.name,
            "ORDO_PARAMS": step.params_json,
            "ORDO_PROJECT": str(ctx.project.root),
            "PYTHONUNBUFFERED": "1",
            **step.options.env,
        }
        command = [sys.executable, str(step.script), *step.argv]
        timeout = step.options.timeout
        tail: deque[str] = deque(maxlen=_TAIL_LINES)
        process = subprocess.Popen(
            command,
            cwd=ctx.project.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # its own process group, so a timeout kills its children too
        )
        timed_out = threading.Event()
        ctx.on_cancel(lambda: _kill_group(process, threading.Event()))  # an aborted run kills it
        timer = None
        if timeout is not None:
            timer = threading.Timer(timeout, _kill_group, (process, timed_out))
            timer.daemon = True
            timer.start()
        started = time.monotonic()
        try:
            assert process.stdout is not None
            with process.stdout:  # closed however the loop ends: no leaked pipe
                for raw in process.stdout:
                    line = ctx.masker.mask(raw.rstrip("\n"))
                    tail.append(line)
                    ctx.log_line(line)
            code = process.wait()
        except BaseException:
            _kill_group(process, timed_out)
            process.wait()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if timed_out.is_set():
            raise StepTimeout(
                f"python script {step.script.name} ran past its timeout of {timeout:g} s "
                f"and was killed after {time.monotonic() - started:.1f} s",
                step=step.name,
            )
        if code != 0:
            last = "\n".join(tail)
            detail = f"; last output:\n{last}" if last else ""
            raise PermanentError(
                f"python script {step.script.name} exited with code {code}{detail}", step=step.name
            )
        return StepOutcome()


def _kill_group(process: subprocess.Popen[str], flag: threading.Event) -> None:
    if process.poll() is None:
        flag.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
