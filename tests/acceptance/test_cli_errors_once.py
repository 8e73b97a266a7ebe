"""An error is shown once on the console and written once in the log.

A failing step's error used to reach the user three times: the console's line on stdout, then
the log's event lines again on stderr through the ``ordo`` logger's console handler; a python
step's traceback came three times in full (streamed, then as the error's "last output"). A real
process, so that the handler on stderr is the one a user's shell sees.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import Runner
from tests.support.project import make_project


def _log(root: Path) -> str:
    [log] = (root / "logs").glob("ordo_*.log")
    return log.read_text()


def test_a_failing_sql_step_is_reported_once_on_the_console_and_once_in_the_log(
    ordo_process: Runner, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", "steps:\n  - name: bad\n    sql: SELECT * FROM nowhere\n")
    done = ordo_process("run", "-y", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    shown = done.stdout + done.stderr
    assert shown.count("no such table: nowhere") == 1, shown
    assert _log(root).count("no such table: nowhere") == 1, _log(root)


def test_a_python_traceback_is_shown_once_and_its_last_line_ends_the_error(
    ordo_process: Runner, tmp_path: Path
) -> None:
    root = make_project(
        tmp_path / "p",
        "steps:\n  - name: boom\n    file: boom.py\n",
        python={"boom.py": "def f():\n    raise ValueError('kaboom')\n\n\nf()\n"},
    )
    done = ordo_process("run", "-y", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    shown = done.stdout + done.stderr
    assert shown.count("Traceback (most recent call last)") == 1, shown
    assert "exited with code 1: ValueError: kaboom" in shown
    log = _log(root)
    assert log.count("Traceback (most recent call last)") == 1, log
    assert "exited with code 1: ValueError: kaboom" in log
