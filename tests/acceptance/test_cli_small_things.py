"""Small things a new user hits (issue 9, points 16 and 17), each end to end through ``ordo``.

Help that names values in words, ``--version``, one way to name a manifest, an empty selection
that says what it matched, a project found from a subfolder, unknown ``--param`` names, a DDL
step with an ``output_file``, ``migrate baseline`` without ``--version``, hints that name the
connection, the status table, cleanup errors, a latin-1 SQL file, a python step killed by a
signal, PostgreSQL notices, and the ``.gitignore`` that ``ordo init`` writes.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import URL

from tests.support.cli import Runner
from tests.support.project import database_env, make_project

TWO_STEPS = """\
name: small
steps:
  - name: create
    sql: CREATE TABLE t (x INTEGER)
  - name: fill
    sql: INSERT INTO t VALUES (1)
"""

COMMANDS = (
    ("run",),
    ("plan",),
    ("enable",),
    ("init",),
    ("db", "health"),
    ("db", "query"),
    ("migrate", "apply"),
    ("migrate", "baseline"),
    ("runs",),
    ("runs", "show"),
)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_names_values_in_words_not_python_types(
    ordo_cli: Runner, tmp_path: Path, command: tuple[str, ...]
) -> None:
    done = ordo_cli(*command, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not re.search(r"<(list\[\w+\]|int|str|float|path)>", done.stdout), done.stdout


def test_help_of_run_says_what_to_write(ordo_cli: Runner, tmp_path: Path) -> None:
    done = ordo_cli("run", "--help", cwd=tmp_path)
    assert "-P, --param NAME=VALUE" in done.stdout
    assert "-s, --select STEP" in done.stdout
    assert "-m, --manifest FILE" in done.stdout


def test_version(ordo_cli: Runner, tmp_path: Path) -> None:
    from importlib.metadata import version

    done = ordo_cli("--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ordo {version('ordo')}"


def test_migrate_apply_is_in_the_list_of_commands(ordo_cli: Runner, tmp_path: Path) -> None:
    done = ordo_cli("migrate", "--help", cwd=tmp_path)
    listed = done.stdout.split("Commands:")[1]
    assert re.search(r"^\s+apply\s", listed, re.MULTILINE), done.stdout


def test_every_manifest_command_takes_dash_m_and_old_spellings_still_work(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", TWO_STEPS)
    other = root / "queue" / "other.yaml"
    other.write_text(TWO_STEPS.replace("name: small", "name: other"), encoding="utf-8")
    for args in (("plan", "-m", str(other)), ("plan", str(other)), ("run", "-m", str(other))):
        done = ordo_cli(*args, "--yes", cwd=root) if args[0] == "run" else ordo_cli(*args, cwd=root)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        assert "'other'" in done.stdout, args
    enabled = ordo_cli("enable", "--all", "-m", str(other), cwd=root)
    assert enabled.returncode == 0, enabled.stderr
    assert "enabled: create" in enabled.stdout
    both = ordo_cli("plan", str(other), "-m", str(root / "queue" / "manifest.yaml"), cwd=root)
    assert both.returncode == 2
    assert "two manifests given" in both.stderr


def test_an_empty_selection_says_it_matched_nothing_and_names_it(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", TWO_STEPS)
    assert ordo_cli("run", "--yes", "--select", "create", cwd=root).returncode == 0
    for args in (("plan",), ("run", "--yes")):
        done = ordo_cli(*args, "--select", "create", cwd=root)
        assert done.returncode == 0, done.stderr
        assert "every step is done" not in done.stdout
        assert "the selection --select create matched no step left to run" in done.stdout


def test_run_from_a_subfolder_finds_the_project_upwards(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", TWO_STEPS)
    deep = root / "scripts" / "sql"
    done = ordo_cli("run", "--yes", cwd=deep)
    assert done.returncode == 0, done.stderr
    assert (root / "data" / "test.db").is_file()
    assert not (deep / "data").exists()
    with sqlite3.connect(root / "data" / "test.db") as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]


TEMPLATED = """\
name: params
params:
  table: t
steps:
  - name: create
    sql: CREATE TABLE {{ table }}_{{ suffix }} (x INTEGER)
"""


def test_an_unknown_param_is_named_with_a_did_you_mean(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", TEMPLATED)
    done = ordo_cli("plan", "-P", "suffix=a", "-P", "sufix=b", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "--param sufix: no step of 'params' uses a parameter of that name" in done.stderr
    assert "did you mean 'suffix'?" in done.stderr
    assert "--param suffix" not in done.stderr  # a used one is not named
    strict = ordo_cli("plan", "-P", "suffix=a", "-P", "sufix=b", "--strict-params", cwd=root)
    assert strict.returncode == 2
    assert "--param sufix" in strict.stderr
    quiet = ordo_cli("plan", "-P", "suffix=a", "-P", "table=u", "--strict-params", cwd=root)
    assert quiet.returncode == 0, quiet.stderr


DDL_OUTPUT = """\
name: ddl
steps:
  - name: create
    sql: CREATE TABLE t (x INTEGER)
    output_file: results/create.csv
  - name: none
    sql: SELECT x FROM t
    output_file: results/none.csv
"""


def test_a_ddl_step_with_output_file_writes_no_file_and_says_so(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", DDL_OUTPUT)
    done = ordo_cli("run", "--yes", cwd=root)
    assert done.returncode == 0, done.stderr
    assert not (root / "results" / "create.csv").exists()
    assert "no result set: output_file results/create.csv not written" in done.stdout
    # a query of no rows still has columns: its file is the header
    assert (root / "results" / "none.csv").read_text(encoding="utf-8") == "x\n"


def _migrations_project(root: Path) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "config" / ".env").write_text(
        "DEVELOPMENT_GLOBAL_APP_CONNECTION_STRING=sqlite:///app.db\n"
    )
    folder = root / "core" / "migrations" / "app"
    folder.mkdir(parents=True)
    (folder / "V1__create_a_table_with_a_rather_long_descriptive_name.sql").write_text(
        "CREATE TABLE a (x INT);\n"
    )
    return folder


def test_baseline_without_version_is_refused(ordo_cli: Runner, tmp_path: Path) -> None:
    root = tmp_path / "p"
    _migrations_project(root)
    done = ordo_cli("migrate", "baseline", "app", cwd=root)
    assert done.returncode == 2
    assert "--version" in done.stderr
    assert not (root / "app.db").exists()


def test_the_checksum_hint_names_the_connection(ordo_cli: Runner, tmp_path: Path) -> None:
    root = tmp_path / "p"
    folder = _migrations_project(root)
    assert ordo_cli("migrate", "app", cwd=root).returncode == 0
    (next(folder.iterdir())).write_text("CREATE TABLE a (x INT, y INT);\n")
    refused = ordo_cli("migrate", "app", cwd=root)
    assert refused.returncode == 1
    assert "`ordo migrate repair app`" in refused.stderr


def test_the_status_table_shows_script_names_whole(ordo_cli: Runner, tmp_path: Path) -> None:
    root = tmp_path / "p"
    _migrations_project(root)
    assert ordo_cli("migrate", "app", cwd=root).returncode == 0
    status = ordo_cli("migrate", "status", "app", cwd=root)
    assert "V1__create_a_table_with_a_rather_long_descriptive_name.sql" in status.stdout


CLEANUP = """\
name: cleanup
steps:
  - name: view
    sql: CREATE VIEW v AS SELECT 1 AS x
  - name: create
    sql: CREATE TABLE v2 AS SELECT x FROM v
    cleanup_target: v
"""


def test_a_cleanup_error_says_it_came_from_cleanup_target(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", CLEANUP)
    done = ordo_cli("run", "--yes", cwd=root)
    assert done.returncode == 1
    out = done.stdout + done.stderr
    assert "cleanup_target 'v' (dropping it before the step's SQL)" in out, out


def test_a_latin1_sql_file_says_not_utf8_with_line_and_fix(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", "name: l1\nsteps:\n  - name: load\n    file: load.sql\n")
    sql = root / "scripts" / "sql" / "load.sql"
    sql.write_bytes("-- first line\nSELECT 'café' AS x\n".encode("latin-1"))
    done = ordo_cli("plan", cwd=root)
    assert done.returncode == 2
    assert f"{sql}:2:" in done.stderr
    assert "is not UTF-8 text: byte 0xe9 on line 2, column 12" in done.stderr
    assert "re-save the file as UTF-8" in done.stderr
    assert "position" not in done.stderr  # Python's byte offset is not what a user reads


def test_a_python_step_killed_by_a_signal_names_the_signal(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = make_project(
        tmp_path / "p",
        "name: sig\nsteps:\n  - name: die\n    file: die.py\n",
        python={"die.py": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"},
    )
    done = ordo_cli("run", "--yes", cwd=root)
    assert done.returncode == 1
    out = done.stdout + done.stderr
    assert "die.py was killed by SIGKILL" in out
    assert "code -9" not in out


NOTICE = """\
name: notices
steps:
  - name: say
    sql: DO $$ BEGIN RAISE NOTICE 'hello from plpgsql'; END $$
"""


def test_postgresql_notices_go_to_the_log_and_with_v_to_the_console(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    root = make_project(tmp_path / "p", NOTICE, env=database_env(postgres_url))
    quiet = ordo_cli("run", "--yes", cwd=root)
    assert quiet.returncode == 0, quiet.stderr
    assert "hello from plpgsql" not in quiet.stdout
    (log,) = (root / "logs").glob("ordo_*.log")
    assert "NOTICE: hello from plpgsql" in log.read_text(encoding="utf-8")
    assert ordo_cli("enable", "--all", cwd=root).returncode == 0
    loud = ordo_cli("run", "--yes", "-v", cwd=root)
    assert loud.returncode == 0, loud.stderr
    assert "NOTICE: hello from plpgsql" in loud.stdout


SECRETS = ("config/.env", "config/.env.*", ".*.yaml.lock", ".*.ordo-marks")


def test_init_writes_a_gitignore_that_keeps_secrets_and_the_lock_out(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    done = ordo_cli("init", "p", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "p" / ".gitignore").read_text(encoding="utf-8").splitlines()
    for pattern in SECRETS:
        assert pattern in lines


def test_init_beside_git_appends_to_its_gitignore(ordo_cli: Runner, tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / ".git").mkdir(parents=True)
    (root / ".gitignore").write_text("# mine\n*.bak\nlogs/", encoding="utf-8")
    done = ordo_cli("init", "p", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (root / ".gitignore").read_text(encoding="utf-8")
    assert text.startswith("# mine\n*.bak\nlogs/\n")  # kept as written, then added to
    lines = text.splitlines()
    assert lines.count("logs/") == 1
    for pattern in SECRETS:
        assert pattern in lines


def _owner_to_give(path: Path) -> tuple[int, int]:
    """An owner and group the file does not have yet, where this process may give them: any
    as root; otherwise itself, with another of its groups when it has one."""
    if os.geteuid() == 0:
        return 4242, 4343
    st = path.stat()
    others = [group for group in os.getgroups() if group != st.st_gid]
    return os.getuid(), others[0] if others else st.st_gid


def test_marking_the_manifest_keeps_its_owner_group_and_mode(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", TWO_STEPS)
    manifest = root / "queue" / "manifest.yaml"
    uid, gid = _owner_to_give(manifest)
    os.chown(manifest, uid, gid)
    manifest.chmod(0o640)
    done = ordo_cli("run", "--yes", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "Done" in manifest.read_text(encoding="utf-8")  # it was rewritten
    st = manifest.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (uid, gid, 0o640)


def test_enable_reads_the_settings_file_it_is_given(ordo_process: Runner, tmp_path: Path) -> None:
    # `ordo enable` deletes the enabled steps' ledger rows, in the databases the settings
    # name: with `--env-file prod.env` those of prod.env, not of config/.env.
    root = make_project(tmp_path / "p", TWO_STEPS)
    (root / "prod.env").write_text("DATABASE_URL=sqlite:///data/prod.db\n", encoding="utf-8")
    assert ordo_process("run", "--yes", "--env-file", "prod.env", cwd=root).returncode == 0
    done = ordo_process("enable", "--all", "--env-file", "prod.env", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "could not clear" not in done.stderr
    missing = ordo_process("enable", "--all", "--env-file", "nope.env", cwd=root)
    assert "nope.env" in missing.stderr  # the file it was told to read, named
