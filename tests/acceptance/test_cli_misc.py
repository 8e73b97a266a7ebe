"""The ``ordo`` command end to end: confirmation without a terminal, where settings and
manifests come from, ``enable``, ``init``, ``demo`` and the per-run log file.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import URL

from tests.support.cli import WITHOUT_ORDO, Runner, clean_env, ordo_command, spawn_ordo, wait_until
from tests.support.project import make_project

MANIFEST = """\
# nightly load: comments, quoting and blank lines must survive every edit
name: 'misc'

steps:
  - name: create
    sql: CREATE TABLE t (x INTEGER)
    enabled: true   # keep this comment? no: a Done comment replaces it
    cleanup_target: t

  - name: "fill"
    sql: INSERT INTO t VALUES (1), (2)
    enabled: true

  # a comment between steps
  - name: report
    type: python
    file: report.py
    enabled: True
"""

REPORT = """\
    import sqlite3, sys
    conn = sqlite3.connect("data/test.db")
    print("rows:", conn.execute("SELECT COUNT(*) FROM t").fetchone()[0])
    print("a note on stderr", file=sys.stderr)
    """


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "p", MANIFEST, python={"report.py": REPORT})


def manifest_of(root: Path) -> Path:
    return root / "queue" / "manifest.yaml"


def tables(db: Path) -> list[str]:
    """The user's tables, without ordo's own ledger."""
    query = "SELECT name FROM sqlite_master WHERE type='table' AND name != 'ordo_ledger'"
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute(query)]


def count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        value: int = conn.execute("SELECT COUNT(*) FROM t").fetchone()[0]
        return value


# --- confirmation without a terminal --------------------------------------------------------


def test_stdin_at_dev_null_aborts_with_exit_3(project: Path) -> None:
    before = manifest_of(project).read_bytes()
    done = subprocess.run(
        ordo_command("run"),
        cwd=project,
        env=clean_env(drop=WITHOUT_ORDO),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Plan loaded with 3 tasks. Are you sure you want to execute? [y/N]: " in done.stdout
    assert "Execution aborted by user" in done.stderr
    assert not (project / "data" / "test.db").exists()
    assert manifest_of(project).read_bytes() == before


def test_stdin_closed_aborts_with_exit_3(project: Path) -> None:
    before = manifest_of(project).read_bytes()
    # `<&-` closes file descriptor 0 outright: Python then has no sys.stdin at all.
    done = subprocess.run(
        ["/bin/sh", "-c", 'exec "$@" <&-', "sh", *ordo_command("run")],
        cwd=project,
        env=clean_env(drop=WITHOUT_ORDO),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Execution aborted by user" in done.stderr
    assert not (project / "data" / "test.db").exists()
    assert manifest_of(project).read_bytes() == before


@pytest.mark.parametrize("flag", ["--yes", "--force", "-y"])
def test_yes_and_force_skip_the_prompt(ordo_cli: Runner, project: Path, flag: str) -> None:
    done = ordo_cli("run", flag, cwd=project, input="n\n")  # the answer must not be read
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Are you sure" not in done.stdout
    assert count(project / "data" / "test.db") == 2
    assert manifest_of(project).read_text().count("enabled: false  # Done: ") == 3


def test_nothing_enabled_says_so_and_exits_0(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        "steps:\n  - name: skipped\n    sql: SELECT 1\n    enabled: false\n",
    )
    done = ordo_cli("run", cwd=root, input="")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Nothing to run" in done.stdout
    assert "Are you sure" not in done.stdout


# --- where the manifest and the settings come from ------------------------------------------


def test_run_path_outside_the_default_place_with_project(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        "steps:\n  - name: default manifest\n    sql: CREATE TABLE wrong (x INTEGER)\n",
        sql={"make.sql": "CREATE TABLE t (x INTEGER)"},
    )
    default_before = manifest_of(root).read_bytes()
    elsewhere = tmp_path / "manifests"
    elsewhere.mkdir()
    (elsewhere / "beside.sql").write_text("INSERT INTO t VALUES (7)")
    (elsewhere / "nightly.yaml").write_text(
        "steps:\n"
        "  - name: make\n"
        "    file: make.sql\n"  # found in the project's scripts/sql
        "  - name: beside\n"
        "    file: beside.sql\n"  # found beside the manifest
    )
    done = ordo_cli("run", "manifests/nightly.yaml", "--project", "p", "-y", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    db = root / "data" / "test.db"  # DATABASE_URL is relative to the project root
    assert tables(db) == ["t"]
    assert count(db) == 1
    assert (elsewhere / "nightly.yaml").read_text().count("# Done: ") == 2
    assert manifest_of(root).read_bytes() == default_before
    assert len(list((root / "logs").glob("ordo_*.log"))) == 1
    assert not (tmp_path / "data").exists()


def test_env_file_elsewhere_replaces_config_env(ordo_cli: Runner, project: Path) -> None:
    other_db = project.parent / "other" / "other.db"
    other_db.parent.mkdir()
    env_file = project.parent / "secrets" / "prod.env"
    env_file.parent.mkdir()
    env_file.write_text(f"DATABASE_URL=sqlite:///{other_db}\n")
    path = manifest_of(project)
    path.write_text("steps:\n  - name: create\n    sql: CREATE TABLE t (x INTEGER)\n")
    done = ordo_cli("run", "-y", "--env-file", "../secrets/prod.env", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert tables(other_db) == ["t"]
    assert not (project / "data" / "test.db").exists()


def test_missing_env_file_exits_2(ordo_cli: Runner, project: Path) -> None:
    done = ordo_cli("run", "-y", "--env-file", "nope.env", cwd=project)
    assert done.returncode == 2
    assert "nope.env" in done.stderr
    assert not (project / "data" / "test.db").exists()


def test_real_environment_wins_over_config_env(ordo_cli: Runner, project: Path) -> None:
    from_env = project.parent / "from_env.db"
    path = manifest_of(project)
    path.write_text("steps:\n  - name: create\n    sql: CREATE TABLE t (x INTEGER)\n")
    done = ordo_cli("run", "-y", cwd=project, env={"DATABASE_URL": f"sqlite:///{from_env}"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert tables(from_env) == ["t"]
    assert not (project / "data" / "test.db").exists()


def test_db_dialect_sqlite_with_db_service_file(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        "steps:\n  - name: create\n    sql: CREATE TABLE t (x INTEGER)\n",
        env="DB_DIALECT=sqlite\nDB_SERVICE=data/x.db\n",
    )
    # run from another folder: the file is still the project's data/x.db
    done = ordo_cli("run", "-y", "--project", str(root), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert tables(root / "data" / "x.db") == ["t"]
    assert not (tmp_path / "data").exists()


def test_real_environment_overrides_one_db_setting(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        "steps:\n  - name: create\n    sql: CREATE TABLE t (x INTEGER)\n",
        env="DB_DIALECT=sqlite\nDB_SERVICE=data/from_file.db\n",
    )
    done = ordo_cli("run", "-y", cwd=root, env={"DB_SERVICE": "data/from_env.db"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert tables(root / "data" / "from_env.db") == ["t"]
    assert not (root / "data" / "from_file.db").exists()


PG_PASSWORD = "p@ss:w/o%rd#1"


@pytest.mark.postgres
@pytest.mark.parametrize("source", ["env_file", "environment"])
def test_password_with_url_characters_builds_a_valid_url(
    ordo_cli: Runner, tmp_path: Path, postgres_server: URL, source: str
) -> None:
    import psycopg
    from psycopg import sql

    schema = f"ordo_cli_{uuid.uuid4().hex[:12]}"
    settings = {
        "DB_DIALECT": "postgresql",
        "DB_HOST": postgres_server.host or "127.0.0.1",
        "DB_PORT": str(postgres_server.port or 5432),
        "DB_USER": postgres_server.username or "postgres",
        "DB_PASS": PG_PASSWORD,
        "DB_SERVICE": postgres_server.database or "test",
    }
    if source == "env_file":
        env_text = "".join(f"{k}='{v}'\n" for k, v in settings.items())
        process_env: dict[str, str] = {}
    else:
        env_text = "# everything comes from the environment\n"
        process_env = settings
    root = make_project(
        tmp_path / "p",
        f"""\
        steps:
          - name: schema
            sql: CREATE SCHEMA {schema}
          - name: table
            sql: CREATE TABLE {schema}.t AS SELECT current_user::text AS who
        """,
        env=env_text,
    )
    try:
        done = ordo_cli("run", "-y", cwd=root, env=process_env)
        assert done.returncode == 0, done.stdout + done.stderr
        with psycopg.connect(
            host=settings["DB_HOST"],
            port=int(settings["DB_PORT"]),
            user=settings["DB_USER"],
            dbname=settings["DB_SERVICE"],
            connect_timeout=3,
        ) as conn:
            query = sql.SQL("SELECT who FROM {}.t").format(sql.Identifier(schema))
            assert conn.execute(query).fetchall() == [(settings["DB_USER"],)]
        [log] = (root / "logs").glob("ordo_*.log")
        for text in (done.stdout, done.stderr, log.read_text()):
            assert PG_PASSWORD not in text
    finally:
        with psycopg.connect(
            host=settings["DB_HOST"],
            port=int(settings["DB_PORT"]),
            user=settings["DB_USER"],
            dbname=settings["DB_SERVICE"],
            autocommit=True,
            connect_timeout=3,
        ) as admin:
            admin.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


# --- ordo enable ------------------------------------------------------------------------------


def _differing_lines(a: str, b: str) -> list[int]:
    left, right = a.splitlines(keepends=True), b.splitlines(keepends=True)
    assert len(left) == len(right)
    return [i for i, (x, y) in enumerate(zip(left, right, strict=True)) if x != y]


def test_enable_one_step_changes_only_its_line_and_reruns_only_it(
    ordo_cli: Runner, project: Path
) -> None:
    path = manifest_of(project)
    original = path.read_text()
    first = ordo_cli("run", "-y", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    after_run = path.read_text()
    assert after_run.count("# Done: ") == 3

    done = ordo_cli("enable", "fill", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fill" in done.stdout
    after_enable = path.read_text()
    [changed] = _differing_lines(after_run, after_enable)
    assert after_enable.splitlines()[changed] == "    enabled: true"
    assert original.splitlines()[changed] == "    enabled: true"
    assert "Done" not in after_enable.splitlines()[changed]
    assert after_enable.count("# Done: ") == 2

    second = ordo_cli("run", "-y", cwd=project)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Plan loaded" not in second.stdout
    assert "[1/1] sql fill" in second.stdout
    assert "create" not in second.stdout.replace("created", "")
    assert count(project / "data" / "test.db") == 4  # fill ran again; create did not
    assert path.read_text().count("# Done: ") == 3


def test_enable_all_restores_the_original_bytes(ordo_cli: Runner, project: Path) -> None:
    path = manifest_of(project)
    # the 'create' step's own comment is replaced by the Done comment, so leave it out here
    path.write_text(MANIFEST.replace("   # keep this comment? no: a Done comment replaces it", ""))
    original = path.read_bytes()
    assert ordo_cli("run", "-y", cwd=project).returncode == 0
    assert path.read_bytes() != original
    done = ordo_cli("enable", "--all", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("create", "fill", "report"):
        assert f"enabled: {name}" in done.stdout
    enabled_values = path.read_bytes().replace(b"enabled: True", b"enabled: true")
    assert enabled_values == original.replace(b"enabled: True", b"enabled: true")


def test_enable_inserted_lines_keeps_everything_else(ordo_cli: Runner, tmp_path: Path) -> None:
    text = "steps:\n  - name: a\n    sql: CREATE TABLE t (x INTEGER)\n"
    text += "  - name: b\n    sql: SELECT 1\n"
    root = make_project(tmp_path / "p", text)
    assert ordo_cli("run", "-y", cwd=root).returncode == 0
    path = manifest_of(root)
    assert path.read_text().count("enabled: false  # Done: ") == 2
    assert ordo_cli("enable", "--all", cwd=root).returncode == 0
    after = path.read_text()
    assert "Done" not in after
    assert [s.get("enabled", True) for s in yaml.safe_load(after)["steps"]] == [True, True]
    without_enabled = "".join(
        line for line in after.splitlines(keepends=True) if "enabled:" not in line
    )
    assert without_enabled == text


def test_enable_unknown_step_exits_2_with_did_you_mean(ordo_cli: Runner, project: Path) -> None:
    assert ordo_cli("run", "-y", cwd=project).returncode == 0
    before = manifest_of(project).read_bytes()
    done = ordo_cli("enable", "fil", cwd=project)
    assert done.returncode == 2
    assert "no step named 'fil'" in done.stderr
    assert "did you mean 'fill'" in done.stderr
    assert manifest_of(project).read_bytes() == before


def test_enable_with_nothing_exits_2(ordo_cli: Runner, project: Path) -> None:
    assert ordo_cli("run", "-y", cwd=project).returncode == 0
    before = manifest_of(project).read_bytes()
    done = ordo_cli("enable", cwd=project)
    assert done.returncode == 2
    assert "--all" in done.stderr
    assert manifest_of(project).read_bytes() == before


# --- init and demo ----------------------------------------------------------------------------


def test_init_creates_a_project_that_runs(ordo_cli: Runner, tmp_path: Path) -> None:
    done = ordo_cli("init", "proj", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    root = tmp_path / "proj"
    assert (root / "config" / ".env").is_file()
    assert (root / "queue" / "manifest.yaml").is_file()
    assert (root / "scripts" / "sql").is_dir()
    assert any((root / "scripts" / "sql").glob("*.sql"))
    assert any((root / "scripts" / "python").glob("*.py"))
    assert (root / "logs").is_dir()
    loaded = yaml.safe_load((root / "queue" / "manifest.yaml").read_text())
    names = [step["name"] for step in loaded["steps"]]

    ran = ordo_cli("run", "-y", "--project", "proj", cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    after = yaml.safe_load((root / "queue" / "manifest.yaml").read_text())
    assert [step["enabled"] for step in after["steps"]] == [False] * len(names)
    assert len(list((root / "logs").glob("ordo_*.log"))) == 1


def test_init_refuses_a_non_empty_folder(ordo_cli: Runner, tmp_path: Path) -> None:
    target = tmp_path / "busy"
    (target / "config").mkdir(parents=True)
    (target / "config" / ".env").write_text("MINE=1\n")
    (target / "notes.txt").write_text("do not touch")
    done = ordo_cli("init", "busy", cwd=tmp_path)
    assert done.returncode == 2
    assert "not empty" in done.stderr
    assert (target / "config" / ".env").read_text() == "MINE=1\n"
    assert (target / "notes.txt").read_text() == "do not touch"
    assert not (target / "queue").exists()


def test_init_into_an_empty_existing_folder(ordo_cli: Runner, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = ordo_cli("init", "empty", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "empty" / "queue" / "manifest.yaml").is_file()


def test_demo_runs_twice_from_a_fresh_copy(ordo_cli: Runner, tmp_path: Path) -> None:
    outputs = []
    for _ in range(2):
        done = ordo_cli("demo", "--dir", "X", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout)
        # a fresh copy: one log file, not the previous run's as well
        assert len(list((tmp_path / "X" / "logs").glob("ordo_*.log"))) == 1
    for out in outputs:
        assert "tasks completed" in out
        assert "Nothing to run" not in out


def test_init_on_a_file_or_below_one_exits_2(ordo_cli: Runner, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("mine")
    for target in ("afile", "afile/sub"):
        done = ordo_cli("init", target, cwd=tmp_path)
        assert done.returncode == 2, (target, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert "afile" in done.stderr
    assert (tmp_path / "afile").read_text() == "mine"


def test_demo_never_deletes_a_folder_it_did_not_make(ordo_cli: Runner, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("precious")
    done = ordo_cli("demo", "--dir", "mine", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "not made by `ordo demo`" in done.stderr
    assert [p.name for p in mine.iterdir()] == ["keep.txt"]

    demo = tmp_path / "d"
    assert ordo_cli("demo", "--dir", "d", cwd=tmp_path).returncode == 0
    # run from inside the demo folder, `--dir .` must not pull the floor from under itself
    inside = ordo_cli("demo", "--dir", ".", cwd=demo)
    assert inside.returncode == 2, inside.stdout + inside.stderr
    assert (demo / "queue" / "manifest.yaml").is_file()


# --- the log file -----------------------------------------------------------------------------

_LOG_NAME = re.compile(r"ordo_(\d{8}_\d{6})_([0-9a-f]{8})\.log")


def test_a_run_writes_one_log_file_with_each_step(ordo_cli: Runner, project: Path) -> None:
    started = datetime.now().replace(microsecond=0)
    done = ordo_cli("run", "-y", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    [log] = list((project / "logs").iterdir())
    match = _LOG_NAME.fullmatch(log.name)
    assert match, log.name
    stamp = datetime.strptime(match[1], "%Y%m%d_%H%M%S")
    assert started - timedelta(seconds=2) <= stamp <= datetime.now()
    text = log.read_text()
    run_ids = re.findall(r"run ([0-9a-f]{32}) started", text)
    assert len(run_ids) == 1
    assert run_ids[0].startswith(match[2])
    assert f"log: {log}" in done.stdout.replace("\n", "")

    for index, (kind, name) in enumerate(
        [("sql", "create"), ("sql", "fill"), ("python", "report")], start=1
    ):
        assert f"[{index}/3] {kind} '{name}' started (attempt 1)" in text
        finished = re.search(
            rf"'{name}' finished in (\d+\.\d+)s(, (-?\d+) rows)? \(attempt 1\)", text
        )
        assert finished, f"no end line for {name}"
    assert re.search(r"'fill' finished in \d+\.\d+s, 2 rows \(attempt 1\)", text)
    assert "report | rows: 2" in text
    assert "report | a note on stderr" in text
    assert "committed: create" in text
    assert "finished: success" in text

    # the console shows the same progress, live
    assert "[1/3] sql create" in done.stdout
    assert re.search(r"fill in \d+\.\d+s, 2 rows", done.stdout)
    assert "│ rows: 2" in done.stdout  # the script's output streams to the console
    assert "│ a note on stderr" in done.stdout

    # the next run gets its own file
    assert ordo_cli("enable", "--all", cwd=project).returncode == 0
    assert ordo_cli("run", "-y", cwd=project).returncode == 0
    assert len(list((project / "logs").glob("ordo_*.log"))) == 2


def test_failed_attempts_are_logged_with_their_number(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        # ledger: false - the EXCLUSIVE lock below blocks even the ledger's read before the run;
        # this test is about the step's own attempts.
        """\
        ledger: false
        retry:
          max_retries: 1
          base: 0
        steps:
          - name: load
            sql: INSERT INTO t VALUES (1)
        """,
        env="DATABASE_URL=sqlite:///data/test.db?timeout=0.1\n",
    )
    holder = sqlite3.connect(root / "data" / "test.db", isolation_level=None)
    try:
        holder.execute("CREATE TABLE t (x INTEGER)")
        holder.execute("BEGIN EXCLUSIVE")
        done = ordo_cli("run", "-y", cwd=root)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 1
    [log] = (root / "logs").glob("ordo_*.log")
    text = log.read_text()
    assert "'load' started (attempt 1)" in text
    assert "'load' started (attempt 2)" in text
    assert "attempt 1, transient" in text
    assert "attempt 2, transient" in text
    assert "failed for good after 2 attempts" in text
    assert "(attempt 2)" in done.stdout


def test_failing_script_exits_1_with_its_code_and_last_lines(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = make_project(
        tmp_path / "p",
        "steps:\n  - name: check\n    type: python\n    file: check.py\n"
        "  - name: later\n    sql: CREATE TABLE later (x INTEGER)\n",
        python={"check.py": "import sys\nprint('checked 3 rows')\nsys.exit('totals differ')\n"},
    )
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 1
    assert "exited with code 1" in done.stdout
    assert "totals differ" in done.stdout
    assert "checked 3 rows" in done.stdout
    assert not (root / "data" / "test.db").exists()  # 'later' never ran
    assert "Done" not in manifest_of(root).read_text()


# --- one run of a manifest at a time ----------------------------------------------------------


def test_a_running_manifest_refuses_other_runs_and_enable(ordo_cli: Runner, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    starts = tmp_path / "starts.txt"
    root = make_project(
        tmp_path / "p",
        "steps:\n  - name: wait\n    file: wait.py\n  - name: after\n    sql: SELECT 1\n",
        python={
            "wait.py": f"""\
                import os, pathlib, time
                with open({str(starts)!r}, "a") as out:
                    out.write(f"{{os.getpid()}}\\n")
                while not pathlib.Path({str(gate)!r}).exists():
                    time.sleep(0.05)
                """
        },
    )
    (tmp_path / "link").symlink_to(root, target_is_directory=True)
    first = spawn_ordo("run", "-y", cwd=root, env=clean_env(drop=WITHOUT_ORDO))
    try:
        wait_until(starts.exists, running=first)
        before = manifest_of(root).read_bytes()
        attempts = [
            ("run", "-y"),
            ("run", "-y", "--project", str(tmp_path / "link")),  # the same file via a link
            ("run", "-y", "queue/../queue/manifest.yaml"),
            ("enable", "--all"),
        ]
        for args in attempts:
            other = ordo_cli(*args, cwd=root, timeout=30)
            assert other.returncode == 4, (args, other.stdout, other.stderr)
            assert "another ordo run is using" in other.stderr
        assert manifest_of(root).read_bytes() == before
        assert len(list((root / "logs").glob("ordo_*.log"))) == 1  # only the first run's
    finally:
        gate.touch()
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err
    assert len(starts.read_text().splitlines()) == 1  # the script ran once, in the first run
    assert manifest_of(root).read_text().count("# Done: ") == 2


def test_script_output_streams_to_the_console_while_it_runs(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    root = make_project(
        tmp_path / "p",
        f"steps:\n  - name: gated\n    type: python\n    file: gated.py\n    env:\n"
        f"      GATE: {gate}\n",
        python={
            "gated.py": """\
                import os, sys, time
                print("note on stderr, before the gate", file=sys.stderr)
                deadline = time.monotonic() + 20
                while not os.path.exists(os.environ["GATE"]):
                    if time.monotonic() > deadline:
                        sys.exit("nobody saw the first line while the script ran")
                    time.sleep(0.02)
                print("after the gate")
                """
        },
    )
    process = spawn_ordo("run", "-y", cwd=root, env=clean_env(drop=WITHOUT_ORDO))
    seen: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if "note on stderr, before the gate" in line:
                gate.touch()
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, "".join(seen) + err
    assert gate.exists()
    assert any("after the gate" in line for line in seen)
