"""``kinds._subprocess``: what python steps use and dbt will - streamed, masked, stoppable."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from ordo.config import Settings
from ordo.errors import StepTimeout
from ordo.kinds._subprocess import TAIL_LINES, run_process
from ordo.kinds.base import ExecutionContext
from ordo.masking import Masker
from ordo.project import Project

SECRET = "S3cret-Value"
UNBUFFERED = {"PYTHONUNBUFFERED": "1"}  # stdout and stderr reach the pipe in print order


def context(
    tmp_path: Path, lines: list[str], cancels: list[Callable[[], None]]
) -> ExecutionContext:
    return ExecutionContext(
        run_id="r",
        project=Project(tmp_path),
        settings=Settings(values={}, root=tmp_path),
        masker=Masker([SECRET]),
        attempt=1,
        log_line=lines.append,
        on_cancel=cancels.append,
    )


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_output_is_streamed_masked_and_its_tail_kept(tmp_path: Path) -> None:
    lines: list[str] = []
    cancels: list[Callable[[], None]] = []
    code = (
        "import sys\n"
        "for i in range(15): print('line', i)\n"
        f"print('{SECRET}', file=sys.stderr)\n"
        "sys.exit(3)"
    )
    finished = run_process(
        python(code),
        context(tmp_path, lines, cancels),
        cwd=tmp_path,
        env=UNBUFFERED,
        timeout=None,
        what="the test process",
        step="s",
    )
    assert finished.code == 3
    assert "\n".join(lines).split("\n") == [f"line {i}" for i in range(15)] + ["***"]
    assert len(finished.tail) == TAIL_LINES
    assert finished.tail[-1] == "***"
    assert finished.last_output() == ": ***"  # its last line; the others were streamed
    assert len(cancels) == 1  # it told the runner how to stop it


def test_a_flood_of_output_arrives_in_blocks_of_whole_lines(tmp_path: Path) -> None:
    # A line at a time cost an event, a console write and a log write per line; what the pipe
    # holds is taken in one go, so 50,000 lines come in far fewer blocks, none cut mid-line.
    blocks: list[str] = []
    code = "for i in range(50000): print(f'line {i} of many')"
    finished = run_process(
        python(code),
        context(tmp_path, blocks, []),
        cwd=tmp_path,
        env={},
        timeout=None,
        what="the test process",
        step="s",
    )
    assert finished.code == 0
    assert "\n".join(blocks).split("\n") == [f"line {i} of many" for i in range(50000)]
    assert len(blocks) < 5000
    assert all(block.startswith("line ") and block.endswith(" of many") for block in blocks)
    assert finished.last_output() == ": line 49999 of many"


def test_line_breaks_are_read_as_text_mode_reads_them(tmp_path: Path) -> None:
    # \r\n, a lone \r (a progress bar's) and \n all end a line, also when a read ends
    # between the \r and its \n; the last line needs no line break.
    lines: list[str] = []
    code = (
        "import sys, time\n"
        "out = sys.stdout.buffer\n"
        "out.write(b'one\\r'); out.flush(); time.sleep(0.2)\n"
        "out.write(b'\\ntwo\\rthree\\nfour'); out.flush()\n"
    )
    finished = run_process(
        python(code),
        context(tmp_path, lines, []),
        cwd=tmp_path,
        env={},
        timeout=None,
        what="the test process",
        step="s",
    )
    assert finished.code == 0
    assert "\n".join(lines).split("\n") == ["one", "two", "three", "four"]


def test_a_timeout_kills_the_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "child-still-ran"
    child = tmp_path / "child.py"
    child.write_text(f"import time\ntime.sleep(3)\nopen({str(marker)!r}, 'w').close()\n")
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, {str(child)!r}])\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    with pytest.raises(StepTimeout) as caught:
        run_process(
            python(code),
            context(tmp_path, [], []),
            cwd=tmp_path,
            env=UNBUFFERED,
            timeout=0.5,
            what="the test process",
            step="s",
        )
    assert "the test process ran past its timeout of 0.5 s" in caught.value.message
    assert caught.value.step == "s"
    threading.Event().wait(3.5)  # the grandchild would have written its file by now
    assert not marker.exists()


def test_cancel_on_abort_stops_it(tmp_path: Path) -> None:
    cancels: list[Callable[[], None]] = []
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        cancels[0]()  # the run is aborted as soon as the process says anything

    ctx = context(tmp_path, lines, cancels)
    ctx.log_line = log
    finished = run_process(
        python("import time\nprint('working', flush=True)\ntime.sleep(60)\nprint('never')"),
        ctx,
        cwd=tmp_path,
        env=UNBUFFERED,
        timeout=None,
        what="the test process",
        step="s",
    )
    assert finished.code != 0  # killed
    assert lines == ["working"]
