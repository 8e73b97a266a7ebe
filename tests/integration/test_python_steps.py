"""``python`` steps through ``ordo.run``: a real subprocess, its environment, output and exit.

Every script here runs for real, with the interpreter ordo runs on, in a project on disk; the
assertions read what the script itself wrote down (a JSON report, rows in SQLite) and what ordo
wrote (the run's log file, its result).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import ordo
from ordo.events import RunStatus
from ordo.runner.result import RunResult, StepStatus
from tests.support.cli import WITHOUT_ORDO, clean_env
from tests.support.processes import alive
from tests.support.project import make_project

ENV_FILE = "DATABASE_URL=sqlite:///data/test.db\nREPORT_FROM_ENV_FILE=config-dot-env\n"


def clean_environ(**extra: str) -> dict[str, str]:
    """This environment without database, Telegram or ordo settings, plus ``extra``; and without
    PYTHONUNBUFFERED, which a user's shell seldom has: the scripts run as they would for one."""
    return clean_env(extra, drop=(*WITHOUT_ORDO, "PYTHONUNBUFFERED"))


def run(root: Path, **extra: str) -> RunResult:
    return ordo.run(
        project=root, environ=clean_environ(**extra), options=ordo.RunOptions(notify=False)
    )


def log_text(result: RunResult) -> str:
    assert result.log_file is not None
    return result.log_file.read_text(encoding="utf-8")


REPORT_SCRIPT = """\
    import json, os, sys
    keys = ("ORDO_RUN_ID", "ORDO_STEP", "ORDO_PARAMS", "DATABASE_URL", "STEP_ENV",
            "REPORT_FROM_ENV_FILE", "FROM_PROCESS")
    report = {
        "executable": sys.executable,
        "cwd": os.getcwd(),
        "argv": sys.argv[1:],
        "env": {key: os.environ.get(key) for key in keys},
    }
    with open("report.json", "w") as out:
        json.dump(report, out)
    """


def test_script_runs_with_same_interpreter_in_project_root_with_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        name: env
        params:
          day: "2024-03-01"
          region: EU
          shared: pipeline
        steps:
          - name: report env
            type: python
            file: report.py
            args: ["--day", "{{ day }}", "--region={{ region }}", "plain"]
            env:
              STEP_ENV: from-step
            params:
              region: US
              count: 3
        """,
        python={"report.py": REPORT_SCRIPT},
        env=ENV_FILE,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the script must still run in the project root

    result = run(root, FROM_PROCESS="real-env")

    assert result.status is RunStatus.SUCCESS, result.error
    report = json.loads((root / "report.json").read_text())
    assert not (elsewhere / "report.json").exists()
    assert report["executable"] == sys.executable
    assert Path(report["cwd"]) == root.resolve()
    # args are rendered with the step's params over the pipeline's
    assert report["argv"] == ["--day", "2024-03-01", "--region=US", "plain"]
    env = report["env"]
    assert env["ORDO_RUN_ID"] == result.run_id
    assert env["ORDO_STEP"] == "report env"
    assert json.loads(env["ORDO_PARAMS"]) == {
        "day": "2024-03-01",
        "region": "US",
        "shared": "pipeline",
        "count": 3,
    }
    assert env["STEP_ENV"] == "from-step"
    assert env["DATABASE_URL"] == "sqlite:///data/test.db"
    assert env["REPORT_FROM_ENV_FILE"] == "config-dot-env"
    assert env["FROM_PROCESS"] == "real-env"
    assert result.step("report env").status is StepStatus.SUCCESS


def test_cli_params_reach_the_script_over_pipeline_params(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        params:
          day: "2024-03-01"
        steps:
          - name: report env
            type: python
            file: report.py
            args: ["{{ day }}"]
        """,
        python={"report.py": REPORT_SCRIPT},
    )
    result = ordo.run(
        project=root,
        environ=clean_environ(),
        options=ordo.RunOptions(params={"day": "2025-12-31"}, notify=False),
    )
    assert result.status is RunStatus.SUCCESS, result.error
    report = json.loads((root / "report.json").read_text())
    assert report["argv"] == ["2025-12-31"]
    assert json.loads(report["env"]["ORDO_PARAMS"]) == {"day": "2025-12-31"}


def test_a_flood_of_output_reaches_the_log_whole_each_line_stamped(tmp_path: Path) -> None:
    # Read in blocks (not an event per line): every line still becomes a log line of its own,
    # time-stamped and named by its step, in order.
    root = make_project(
        tmp_path / "p",
        "steps:\n  - name: talk\n    type: python\n    file: talk.py\n",
        python={"talk.py": "for i in range(20000):\n    print(f'said {i}')\n"},
    )
    result = run(root)
    assert result.status is RunStatus.SUCCESS, result.error
    said = [line for line in log_text(result).splitlines() if "| said " in line]
    assert [line.rsplit(" ", 1)[1] for line in said] == [str(i) for i in range(20000)]
    assert all(line[:4].isdigit() and " INFO      talk | said " in line for line in said)


def test_stdout_and_stderr_lines_stream_into_the_log_file(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        steps:
          - name: talk
            type: python
            file: talk.py
        """,
        python={
            "talk.py": """\
                import sys
                print("out line one")
                print("err line two", file=sys.stderr)
                print("out line three")
                """
        },
    )
    result = run(root)
    assert result.status is RunStatus.SUCCESS, result.error
    text = log_text(result)
    positions = [
        text.index("talk | out line one"),
        text.index("talk | err line two"),
        text.index("talk | out line three"),
    ]
    assert positions == sorted(positions)
    assert text.index("'talk' started") < positions[0]
    assert positions[-1] < text.index("'talk' finished")


def test_non_zero_exit_fails_the_run_with_code_and_last_line(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        steps:
          - name: before
            sql: CREATE TABLE t (x INTEGER)
          - name: check
            type: python
            file: check.py
          - name: after
            sql: INSERT INTO t VALUES (1)
        """,
        python={
            "check.py": """\
                import sys
                for n in range(1, 16):
                    print(f"progress {n:02d}")
                print("the totals do not add up", file=sys.stderr)
                sys.exit(7)
                """
        },
    )
    manifest = root / "queue" / "manifest.yaml"

    result = run(root)

    assert result.status is RunStatus.FAILED
    assert result.exit_code == 1
    assert result.error is not None
    assert "exited with code 7" in result.error
    assert result.error.endswith("exited with code 7: the totals do not add up")
    assert "progress" not in result.error  # the rest was streamed to the log as it came
    check = result.step("check")
    assert check.status is StepStatus.FAILED
    assert check.attempts == 1  # a script's failure is not retried
    assert result.step("after").status is StepStatus.SKIPPED
    with sqlite3.connect(root / "data" / "test.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
    text = manifest.read_text()
    assert text.count("# Done:") == 1  # only 'before'
    assert "exited with code 7" in log_text(result)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_timeout_kills_the_script_and_its_children_fast(tmp_path: Path) -> None:
    pids = tmp_path / "pids.json"
    root = make_project(
        tmp_path / "p",
        """\
        steps:
          - name: sleepy
            type: python
            file: sleepy.py
            timeout: 1
        """,
        python={
            "sleepy.py": f"""\
                import json, os, subprocess, sys, time
                child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
                with open({str(pids)!r}, "w") as out:
                    json.dump([os.getpid(), child.pid], out)
                print("sleeping", flush=True)
                time.sleep(30)
                """
        },
    )
    started = time.monotonic()
    result = run(root)
    elapsed = time.monotonic() - started

    assert elapsed < 10, f"the timeout took {elapsed:.1f}s to stop the script"
    assert result.status is RunStatus.FAILED
    assert result.error is not None
    assert "timeout" in result.error
    assert result.step("sleepy").attempts == 1
    script_pid, child_pid = json.loads(pids.read_text())
    deadline = time.monotonic() + 5
    while (alive(script_pid) or alive(child_pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(script_pid)
    assert not alive(child_pid), "the script's child outlived the timeout"
    assert "Done" not in (root / "queue" / "manifest.yaml").read_text()


def test_python_step_between_sql_steps_sees_committed_data(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        steps:
          - name: create
            sql: CREATE TABLE t (x INTEGER)
            transaction_group: load
          - name: fill
            sql: INSERT INTO t VALUES (1), (2), (3)
            transaction_group: load
          - name: count in python
            type: python
            file: count.py
          - name: copy python's work
            sql: CREATE TABLE seen AS SELECT x FROM t
        """,
        python={
            "count.py": """\
                import sqlite3
                conn = sqlite3.connect("data/test.db", timeout=1)
                (count,) = conn.execute("SELECT COUNT(*) FROM t").fetchone()
                print(f"python sees {count} rows")
                if count != 3:
                    raise SystemExit(f"expected the 3 committed rows, saw {count}")
                conn.execute("INSERT INTO t VALUES (100)")
                conn.commit()
                conn.close()
                """
        },
    )
    result = run(root)
    assert result.status is RunStatus.SUCCESS, result.error
    assert "python sees 3 rows" in log_text(result)
    with sqlite3.connect(root / "data" / "test.db") as conn:
        seen = [row[0] for row in conn.execute("SELECT x FROM seen ORDER BY x")]
    assert seen == [1, 2, 3, 100]  # the SQL step after it sees what the script committed


def _report(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "report.json").read_text())
    return data


def test_step_env_overrides_settings_and_values_are_strings(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        steps:
          - name: report env
            type: python
            file: report.py
            env:
              REPORT_FROM_ENV_FILE: overridden-by-step
              STEP_ENV: "42"
        """,
        python={"report.py": REPORT_SCRIPT},
        env=ENV_FILE,
    )
    result = run(root)
    assert result.status is RunStatus.SUCCESS, result.error
    env = _report(root)["env"]
    assert env["REPORT_FROM_ENV_FILE"] == "overridden-by-step"
    assert env["STEP_ENV"] == "42"


GATED = """\
    import os, sys, time
    print("first line, before the gate")
    print("first note on stderr", file=sys.stderr)
    deadline = time.monotonic() + 20
    while not os.path.exists(os.environ["GATE"]):
        if time.monotonic() > deadline:
            sys.exit("nobody saw the first line while the script ran")
        time.sleep(0.02)
    print("after the gate")
    """


def test_output_reaches_the_log_while_the_script_still_runs(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    root = make_project(
        tmp_path / "p",
        f"""\
        steps:
          - name: gated
            type: python
            file: gated.py
            env:
              GATE: {gate}
        """,
        python={"gated.py": GATED},
    )
    stop = threading.Event()

    def open_gate_once_logged() -> None:
        while not stop.is_set():
            for log in (root / "logs").glob("ordo_*.log"):
                text = log.read_text(encoding="utf-8")
                if "first line, before the gate" in text and "first note on stderr" in text:
                    gate.touch()
                    return
            time.sleep(0.02)

    watcher = threading.Thread(target=open_gate_once_logged, daemon=True)
    watcher.start()
    try:
        result = run(root)
    finally:
        stop.set()
        watcher.join(5)
    assert result.status is RunStatus.SUCCESS, result.error
    assert "gated | after the gate" in log_text(result)


AS_PYTHON_RUNS_IT = """\
    import atexit, json, os, pickle, sys

    class Point:
        pass

    atexit.register(lambda: print("atexit ran"))
    print("one to stdout")
    print("two to stderr", file=sys.stderr)
    print("three to stdout")
    with open("seen.json", "w") as out:
        json.dump({
            "argv": sys.argv, "file": __file__, "name": __name__, "path0": sys.path[0],
            "pickled": type(pickle.loads(pickle.dumps(Point()))).__name__,
        }, out)
    raise ValueError("the last word")
    """


def test_a_script_runs_as_python_runs_it_and_its_lines_keep_their_order(tmp_path: Path) -> None:
    """The script runs as ``python script.py`` would (its argv, ``__file__``, ``__main__``,
    ``sys.path[0]``), its stdout and stderr reach the log in the order it wrote them, and the
    traceback comes after what it printed, so the error ends with the exception."""
    root = make_project(
        tmp_path / "p",
        """\
        steps:
          - name: as python
            type: python
            file: as_python.py
            args: [first, second]
        """,
        python={"as_python.py": AS_PYTHON_RUNS_IT},
    )
    result = run(root)
    assert result.status is RunStatus.FAILED
    script = root / "scripts" / "python" / "as_python.py"
    seen = json.loads((root / "seen.json").read_text())
    assert seen == {
        "argv": [str(script), "first", "second"],
        "file": str(script),
        "name": "__main__",
        "path0": str(script.parent),
        "pickled": "Point",
    }
    log = log_text(result)
    said = "as python | "
    lines = [line.split(said, 1)[1] for line in log.splitlines() if said in line]
    assert lines[:3] == ["one to stdout", "two to stderr", "three to stdout"]
    assert lines[3] == "Traceback (most recent call last):"
    assert "_python_launcher" not in log  # ordo's own frame is not part of the script's story
    assert lines[-2:] == ["ValueError: the last word", "atexit ran"]
    assert result.error is not None
    assert "exited with code 1" in result.error
