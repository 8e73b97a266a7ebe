"""A database that cannot be reached: ``ordo run`` says which, where, why and what to do.

Issue 9 saw "could not read ordo_ledger ... (hint: another connection may hold a lock ...)" for
a wrong password, a closed port, a missing database and an unknown host alike, no run in
``ordo runs`` and an empty log; with ``ledger: false`` the last line gave no reason at all.
Each case runs on the real servers, with the ledger and without.

PostgreSQL's test server trusts every local login, so no password can be wrong there: its
"auth" case is an unknown role, which the server refuses the same way (SQLSTATE class 28).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import URL

from ordo.api.run_history import list_runs, show_run
from tests.support.cli import Runner
from tests.support.net import closed_port
from tests.support.project import database_env, make_project

MANIFEST = """\
name: conn
{ledger}retry:
  max_retries: 1
  base: 0
steps:
  - name: make
    sql: CREATE TABLE made (x INTEGER)
  - name: fill
    sql: INSERT INTO made VALUES (1)
"""

RAW = ("Traceback", "[SQL:", "sqlalche.me", "OperationalError", "could not read ordo_ledger")
SECRET = "s3cret-pw"

Case = tuple[Callable[[URL], URL], str, str]

# what to break -> (the URL made of a good one, a word of the reason, a word of the hint)
CASES: dict[str, Case] = {
    "auth-postgresql": (
        lambda url: url.set(username="no_such_role_i9", password=SECRET),
        'role "no_such_role_i9" does not exist',
        "check the user name and password of user 'no_such_role_i9' in DATABASE_URL",
    ),
    "auth-mariadb": (
        lambda url: url.set(password=SECRET),
        "Access denied for user 'root'",
        "check the user name and password of user 'root' in DATABASE_URL",
    ),
    "refused": (
        lambda url: url.set(host="127.0.0.1", port=closed_port()),
        "Connection refused",
        "is the server running on 127.0.0.1:",
    ),
    "no-database": (
        lambda url: url.set(database="no_such_db_i9"),
        "no_such_db_i9",
        "create the database 'no_such_db_i9', or fix its name in DATABASE_URL",
    ),
    "unknown-host": (
        lambda url: url.set(host="nonexistent.invalid"),
        "nonexistent.invalid",
        "check the host name 'nonexistent.invalid' in DATABASE_URL",
    ),
}


def _case(backend: str, what: str) -> Case:
    return CASES.get(f"{what}-{backend}") or CASES[what]


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def server_url(request: pytest.FixtureRequest) -> tuple[str, URL]:
    fixture = {"postgresql": "postgres_url", "mariadb": "mariadb_url"}[request.param]
    url: URL = request.getfixturevalue(fixture)
    return request.param, url


@pytest.mark.parametrize("ledger", [True, False], ids=["ledger", "no-ledger"])
@pytest.mark.parametrize("what", ["auth", "refused", "no-database", "unknown-host"])
def test_a_connection_failure_names_the_connection_the_reason_and_a_fitting_hint(
    ordo_cli: Runner,
    tmp_path: Path,
    server_url: tuple[str, URL],
    what: str,
    ledger: bool,
) -> None:
    backend, good = server_url
    broken, reason, hint = _case(backend, what)
    url = broken(good).set(query={})  # no query: the masked URL is shown as it is
    manifest = MANIFEST.format(ledger="" if ledger else "ledger: false\n")
    root = make_project(tmp_path / "p", manifest, env=database_env(url))

    done = ordo_cli("run", "-y", cwd=root)

    shown = done.stdout + done.stderr
    assert done.returncode == 1, shown
    assert not [raw for raw in RAW if raw in shown], shown
    assert SECRET not in shown
    masked = url.render_as_string(hide_password=True)
    assert f"cannot connect to 'default' ({masked}): " in done.stdout, shown
    assert reason in done.stdout, shown
    assert f"(hint: {hint}" in done.stdout, shown

    # recorded as failed in the store, with the reason
    [run] = list_runs(project=root)
    assert run.status == "failed"
    detail = show_run(run.id, project=root)
    recorded = " ".join([detail.run.error or "", *(t.error or "" for t in detail.tasks)])
    assert "cannot connect to 'default'" in recorded
    assert SECRET not in recorded

    # and in the log, with the hint and the counts of a run that did nothing
    [log] = (root / "logs").glob("ordo_*.log")
    text = log.read_text(encoding="utf-8")
    assert f"cannot connect to 'default' ({masked}): " in text
    assert hint in text
    assert SECRET not in text
    assert "rolled back" not in text  # nothing began, so nothing was rolled back
    if ledger:
        assert "(2 steps: 0 done, 2 not run)" in text
    else:
        assert "(2 steps: 0 done, 1 failed, 1 not run)" in text
