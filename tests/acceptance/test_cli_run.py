"""The ``ordo`` command end to end on SQLite: plan, prompt, exit codes, state, lock.

A few answers to the prompt (``PIPED``: a refusal, an empty stdin, a yes) and one test per exit
code 1 and 2 run ``ordo`` as a real process, with a real pipe on stdin and the exit code a shell
sees; the rest run it in this process.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.cli import Runner, spawn_ordo, wait_until
from tests.support.project import make_project

MANIFEST = """\
# a comment that must survive
name: accept
steps:
  - name: create
    sql: CREATE TABLE t (x INTEGER)
    transaction_group: g
    cleanup_target: t
  - name: fill
    sql: INSERT INTO t VALUES (1), (2)
    transaction_group: g
  - name: report
    sql: SELECT x FROM t ORDER BY x
    output_file: results/out.json
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "p", MANIFEST)


def rows(root: Path) -> list[tuple[int]]:
    with sqlite3.connect(root / "data" / "test.db") as conn:
        return conn.execute("SELECT x FROM t ORDER BY x").fetchall()


def test_dry_run_prints_plan_and_touches_nothing(ordo_cli: Runner, project: Path) -> None:
    before = (project / "queue" / "manifest.yaml").read_bytes()
    done = ordo_cli("run", "--dry-run", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "[1] SQL: create (Group g) - Cleanup: t" in done.stdout
    assert "[3] SQL: report - Output: results/out.json" in done.stdout
    assert "Dry Run Complete" in done.stdout
    assert not (project / "data" / "test.db").exists()
    assert (project / "queue" / "manifest.yaml").read_bytes() == before


# Answers that go through a real pipe into a real process; the others are read in-process.
PIPED = {"n\n", "", "y\n"}


@pytest.mark.parametrize("answer", ["n\n", "\n", "", "nope\n", "no\n"])
def test_anything_but_yes_aborts_with_exit_3(
    ordo_cli: Runner, ordo_process: Runner, project: Path, answer: str
) -> None:
    before = (project / "queue" / "manifest.yaml").read_bytes()
    done = (ordo_process if answer in PIPED else ordo_cli)("run", cwd=project, input=answer)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Plan loaded with 3 tasks. Are you sure you want to execute? [y/N]: " in done.stdout
    assert "Execution aborted by user" in done.stderr
    assert not (project / "data" / "test.db").exists()
    assert (project / "queue" / "manifest.yaml").read_bytes() == before


@pytest.mark.parametrize("answer", ["y\n", "YES\n", "Yes"])
def test_yes_from_a_pipe_runs_and_marks_done(
    ordo_cli: Runner, ordo_process: Runner, project: Path, answer: str
) -> None:
    done = (ordo_process if answer in PIPED else ordo_cli)("run", cwd=project, input=answer)
    assert done.returncode == 0, done.stdout + done.stderr
    assert rows(project) == [(1,), (2,)]
    text = (project / "queue" / "manifest.yaml").read_text()
    assert text.count("enabled: false  # Done: ") == 3
    assert text.startswith("# a comment that must survive\n")
    assert (project / "results" / "out.json").read_text().startswith("[")
    again = ordo_cli("run", cwd=project, input="")
    assert again.returncode == 0
    assert "Nothing to run" in again.stdout


def test_force_skips_the_prompt_and_log_file_is_written(ordo_cli: Runner, project: Path) -> None:
    done = ordo_cli("run", "-y", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "Are you sure" not in done.stdout
    [log] = list((project / "logs").glob("ordo_*.log"))
    text = log.read_text()
    assert "'fill' finished" in text
    assert "committed: create, fill" in text


def test_invalid_manifest_exits_2_and_changes_nothing(ordo_process: Runner, project: Path) -> None:
    path = project / "queue" / "manifest.yaml"
    path.write_text(MANIFEST + "  - name: bad\n    sql: SELECT {{ nope }}\n    colour: red\n")
    before = path.read_bytes()
    done = ordo_process("run", "-y", cwd=project)
    assert done.returncode == 2
    assert "step 'bad'" in done.stderr
    assert "unknown key 'colour'" in done.stderr
    assert "nope" in done.stderr
    assert path.read_bytes() == before
    assert not (project / "data" / "test.db").exists()


def test_failed_step_exits_1_and_later_steps_do_not_run(
    ordo_process: Runner, project: Path
) -> None:
    path = project / "queue" / "manifest.yaml"
    path.write_text(
        MANIFEST.replace("INSERT INTO t VALUES (1), (2)", "INSERT INTO missing VALUES (1)")
    )
    done = ordo_process("run", "-y", cwd=project)
    assert done.returncode == 1
    assert "missing" in done.stdout
    text = path.read_text()
    assert "Done" not in text  # the group rolled back: all of its steps stay enabled
    with sqlite3.connect(project / "data" / "test.db") as conn:
        query = "SELECT name FROM sqlite_master WHERE type='table' AND name != 'ordo_ledger'"
        tables = conn.execute(query).fetchall()
    assert tables == []  # the CREATE of the rolled-back group did not persist
    assert not (project / "results" / "out.json").exists()


def test_second_run_of_the_same_manifest_exits_4(ordo_cli: Runner, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    root = make_project(
        tmp_path / "p",
        "steps:\n  - name: wait\n    file: wait.py\n",
        python={
            "wait.py": f"""\
                import pathlib, time
                pathlib.Path({str(gate)!r} + ".started").touch()
                while not pathlib.Path({str(gate)!r}).exists():
                    time.sleep(0.05)
                """
        },
    )
    first = spawn_ordo("run", "-y", cwd=root)
    try:
        wait_until(Path(str(gate) + ".started").exists, running=first)
        second = ordo_cli("run", "-y", cwd=root)
        assert second.returncode == 4
        assert "another ordo run is using" in second.stderr
    finally:
        gate.touch()
        first.communicate(timeout=60)
    assert first.returncode == 0
