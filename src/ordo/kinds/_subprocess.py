"""Running a step's work as a child process: the handling every such kind needs, written once.

``python`` steps use it and ``dbt`` will. The child gets its own process group, so a timeout or
an aborted run (Ctrl-C, through ``ExecutionContext.on_cancel``) kills the tools it started too;
its output (stdout and stderr, merged) is masked and streamed line by line to the step's log,
and the last lines are kept so a failure can say what the process said before it died.
"""

from __future__ import annotations

import codecs
import contextlib
import locale
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ordo.errors import StepTimeout

if TYPE_CHECKING:
    from ordo.kinds.base import ExecutionContext

__all__ = ["Finished", "run_process", "step_environment"]

TAIL_LINES = 10


@dataclass(frozen=True)
class Finished:
    """How a process ended: its exit code and its last (masked) output lines."""

    code: int
    tail: tuple[str, ...]

    def last_output(self) -> str:
        """``": <its last line>"`` to end an error message with, or ``""`` if it said nothing.

        Only the last line (a traceback's exception): every line was already streamed to the
        console and the log as it came, and repeating the tail there showed a traceback twice.
        """
        last = next((line for line in reversed(self.tail) if line.strip()), "")
        return f": {last.strip()}" if last else ""


def step_environment(ctx: ExecutionContext, step: str) -> dict[str, str]:
    """What a child process of a step sees: every setting (so its own connections match
    ordo's), and which run, step and project it belongs to."""
    return {
        **ctx.settings.child_environment(),
        "ORDO_RUN_ID": ctx.run_id,
        "ORDO_STEP": step,
        "ORDO_PROJECT": str(ctx.project.root),
    }


def run_process(
    command: Sequence[str],
    ctx: ExecutionContext,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float | None,
    what: str,
    step: str,
) -> Finished:
    """Run ``command`` to its end; ``StepTimeout`` (naming ``what``) if it outlives ``timeout``.

    Any exception while it runs (an interrupt included) kills its process group first, so no
    child outlives the step.
    """
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
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
        stdout = process.stdout
        if stdout is None:  # pragma: no cover - stdout=PIPE always gives one
            raise RuntimeError("subprocess started without its output pipe")
        with stdout:  # closed however the loop ends: no leaked pipe
            for read in _blocks(stdout):
                block = ctx.masker.mask(read)
                tail.extend(block.rsplit("\n", TAIL_LINES)[-TAIL_LINES:])
                ctx.log_line(block)
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
            f"{what} ran past its timeout of {timeout:g} s "
            f"and was killed after {time.monotonic() - started:.1f} s",
            step=step,
        )
    return Finished(code, tuple(tail))


def _blocks(stdout: IO[bytes]) -> Iterator[str]:
    """The process's output as blocks of whole lines (joined by ``\n``), as it comes.

    Each read takes what the pipe holds (up to 64 KiB): a process printing slowly is shown line
    by line, one printing a million lines in blocks of many lines. A line at a time cost an
    event, a console write and a log write per line: a million lines took minutes where the
    script alone took a second. Line breaks are read as Python's text mode reads them (``\n``,
    ``\r\n`` or a lone ``\r``), in the locale's encoding with bad bytes replaced.
    """
    decoder = codecs.getincrementaldecoder(locale.getpreferredencoding(False))(errors="replace")
    pending = ""
    while chunk := stdout.read1(1 << 16):  # type: ignore[attr-defined]
        text = pending + decoder.decode(chunk)
        held = text.endswith("\r")  # its "\n" may be the next read's first byte
        if held:
            text = text[:-1]
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        head, newline, pending = text.rpartition("\n")
        pending += "\r" if held else ""
        if newline:
            yield head
    pending += decoder.decode(b"", final=True)
    pending = pending.rstrip("\r").replace("\r\n", "\n").replace("\r", "\n")
    if pending:
        yield pending


def _kill_group(process: subprocess.Popen[bytes], flag: threading.Event) -> None:
    if process.poll() is None:
        flag.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
