"""The service's part of the store on real SQLite and PostgreSQL: the V4 migration, jobs,
their checks, ordo.yaml's sync, tokens, and fires claimed once."""

from __future__ import annotations

import shutil
import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import URL, create_engine, event, text

from ordo.config import Settings
from ordo.migrations import Migrator
from ordo.service import tokens
from ordo.service.jobs import (
    JobInvalid,
    check_job,
    create_job,
    extract_load_manifest,
    parse_job,
    update_job,
)
from ordo.service.project_jobs import sync_project_jobs
from ordo.store.base import PlannedTask
from ordo.store.jobs import JobExists, JobHasRuns, JobNotFound, JobOrigin, JobSpec
from ordo.store.memory import MemoryStore
from ordo.store.postgresql import PostgresStore
from ordo.store.relational import SqlStore
from ordo.store.schema import HISTORY_TABLE, MIGRATIONS
from ordo.store.service import ServiceStore
from ordo.store.sqlite import SqliteStore
from ordo.store.tokens import Role, TokenExists, token_hash
from tests.support.project import make_project

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
MANIFEST = """\
    name: sales
    steps:
      - name: load
        type: sql
        sql: SELECT '{{ region }}'
      - name: report
        type: sql
        sql: SELECT 2
    """
Opener = Callable[[], ServiceStore]
SQL = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def open_again(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens the same store again on each call: SQLite in one file, PostgreSQL in one schema,
    and the one memory store (it keeps everything until the process ends)."""
    if kind == "memory":
        made = MemoryStore()
        return lambda: made
    if kind == "sqlite":
        return lambda: SqliteStore(tmp_path / ".ordo" / "state.db")
    url: URL = request.getfixturevalue("postgres_url")
    return lambda: PostgresStore(url)


@pytest.fixture(params=["memory", *SQL])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    return open_again(request.param, request, tmp_path)


@pytest.fixture(params=SQL)
def sql_opener(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], SqlStore]:
    return open_again(request.param, request, tmp_path)  # type: ignore[return-value]


@pytest.fixture
def store(opener: Opener) -> Iterator[ServiceStore]:
    made = opener()
    yield made
    made.close()


@pytest.fixture
def sql_store(sql_opener: Callable[[], SqlStore]) -> Iterator[SqlStore]:
    made = sql_opener()
    yield made
    made.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    root = make_project(tmp_path / "project", MANIFEST)
    (root / "queue" / "sales.yaml").write_text(textwrap.dedent(MANIFEST), encoding="utf-8")
    return Settings.load(root, environ={})


def spec(name: str = "nightly", **fields: object) -> JobSpec:
    values: dict[str, object] = {
        "manifest": "queue/sales.yaml",
        "schedule": "30 2 * * *",
        "params": {"region": "north"},
    }
    values.update(fields)
    return JobSpec(name=name, **values)  # type: ignore[arg-type]


# -- the V4 migration ---------------------------------------------------------------------------


def v3_store(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The store as ordo made it before V4, with a job, a run and a task in it."""
    dialect = "sqlite" if "sqlite" in request.node.callspec.id else "postgresql"
    old = tmp_path / "v3"
    old.mkdir()
    for script in ("V1__initial.sql", "V2__task_details.sql", "V3__run_owner.sql"):
        shutil.copy(MIGRATIONS / dialect / script, old / script)
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / '.ordo' / 'state.db'}"
        (tmp_path / ".ordo").mkdir()
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    try:
        Migrator(engine, old, table=HISTORY_TABLE, installed_by="ordo").migrate()
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO job_definitions VALUES ('j', 'sales', NULL, 'm.yaml', "
                    "'steps: []', :t, :t)"
                ),
                {"t": T0},
            )
            conn.execute(
                text(
                    "INSERT INTO job_runs VALUES ('r1', 'j', 'success', :t, :t, NULL, 'h', "
                    "'steps: []', FALSE, NULL, 'host', 7, NULL)"
                ),
                {"t": T0},
            )
            conn.execute(
                text(
                    "INSERT INTO tasks VALUES ('t1', 'r1', 1, 'a', 'sql', 1, NULL, 'COMPLETED', "
                    "1, 4, NULL, 7, 1.5, :t, :t, NULL)"
                ),
                {"t": T0},
            )
    finally:
        engine.dispose()


def test_a_version_3_store_keeps_its_jobs_and_runs_and_gains_the_service_tables(
    sql_opener: Callable[[], SqlStore],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    settings: Settings,
) -> None:
    v3_store(tmp_path, request)
    store = sql_opener()
    try:
        [run] = store.list_runs()
        assert (run.id, run.job, run.completed) == ("r1", "sales", 1)
        assert store.list_jobs() == []  # ``ordo run``'s own row is not a service job
        assert store.record_job("sales", "m.yaml", "steps: []") == "j"  # and still works
        # A service job by that name takes the row over, runs and all.
        later = T0 + timedelta(days=30)
        job = create_job(store, spec("sales"), settings, now=later)
        assert (job.id, job.origin, job.spec.timezone) == ("j", JobOrigin.API, "UTC")
        assert job.created_at == later  # a job from now: its missed fires start from here
        assert store.list_runs(job="sales")[0].id == "r1"
        with pytest.raises(JobHasRuns, match="has 1 recorded run"):
            store.delete_job(job.id)
    finally:
        store.close()


# -- jobs ------------------------------------------------------------------------------------


def test_jobs_are_created_read_listed_updated_and_deleted(store: ServiceStore) -> None:
    made = store.create_job(
        spec(params={"region": "north"}, select=["load"], timezone="Europe/Berlin"),
        origin=JobOrigin.API,
        at=T0,
    )
    assert store.get_job(made.id) == made
    assert store.get_job("nightly") == made
    assert made.spec.params == {"region": "north"}
    assert made.spec.select == ["load"]
    assert (made.created_at, made.updated_at) == (T0, T0)
    other = store.create_job(
        JobSpec(
            name="copy",
            extractor_type="csv",
            extractor_config={"path": "a.csv"},
            loader_type="table",
            loader_config={"table": "a"},
        ),
        origin=JobOrigin.API,
        at=T0,
    )
    assert other.spec.extractor_config == {"path": "a.csv"}
    assert [job.name for job in store.list_jobs()] == ["copy", "nightly"]

    later = T0 + timedelta(hours=1)
    same = store.update_job(made.id, made.spec, at=later)
    assert same.updated_at == T0  # nothing changed
    changed = store.update_job(made.id, spec(enabled=False, catchup="all"), at=later)
    assert (changed.spec.enabled, changed.spec.catchup, changed.updated_at) == (False, "all", later)
    with pytest.raises(JobExists, match="a job named 'copy' exists already"):
        store.update_job(made.id, spec("copy"), at=later)
    with pytest.raises(JobExists):
        store.create_job(spec("copy"), origin=JobOrigin.API, at=later)

    store.delete_job(other.id)
    with pytest.raises(JobNotFound, match="no job 'copy'"):
        store.get_job("copy")
    with pytest.raises(JobNotFound):
        store.delete_job(other.id)


def test_a_job_with_runs_is_not_deleted_and_says_to_disable_it(store: ServiceStore) -> None:
    job = store.create_job(spec(), origin=JobOrigin.API, at=T0)
    store.start_run("r1", job.id, started_at=T0, manifest_text="x", tasks=[PlannedTask("a", 1)])
    with pytest.raises(JobHasRuns) as caught:
        store.delete_job(job.id)
    assert "enabled: false" in (caught.value.hint or "")
    assert store.get_job(job.id) == job


def test_a_pipeline_ordo_run_recorded_becomes_a_job_created_when_it_was_made_one(
    store: ServiceStore,
) -> None:
    old = store.record_job("nightly", "/p/queue/sales.yaml", "name: sales\n")
    store.start_run("r1", old, started_at=T0, manifest_text="x", tasks=[])
    later = T0 + timedelta(days=3)
    job = store.create_job(spec(), origin=JobOrigin.FILE, at=later)
    assert (job.id, job.created_at, job.updated_at) == (old, later, later)
    assert store.get_job("nightly") == job
    assert [run.id for run in store.list_runs(job="nightly")] == ["r1"]


def test_a_run_recorded_under_a_jobs_name_keeps_the_job_as_it_is(store: ServiceStore) -> None:
    job = store.create_job(spec(), origin=JobOrigin.API, at=T0)
    assert store.record_job("nightly", "/p/queue/sales.yaml", "name: sales\n") == job.id
    assert store.get_job(job.id).spec == job.spec  # its schedule too
    assert store.record_job("nightly", "/p/queue/sales.yaml", "name: v2\n") == job.id
    assert store.get_job(job.id).spec.schedule == "30 2 * * *"


def test_a_deleted_job_takes_its_fires_along(store: ServiceStore) -> None:
    job = store.create_job(spec(), origin=JobOrigin.API, at=T0)
    assert store.claim_fire(job.id, T0, at=T0)
    store.delete_job(job.id)
    again = store.create_job(spec(), origin=JobOrigin.API, at=T0)
    assert store.list_fires(again.id) == []


# -- checks ----------------------------------------------------------------------------------


def fields_of(error: JobInvalid) -> dict[str, str]:
    return {problem.field: problem.message for problem in error.fields}


def test_a_good_job_passes_its_checks(settings: Settings) -> None:
    job = spec(params={"region": "north"}, select=["load"], timezone="America/New_York")
    assert check_job(job, settings) is job


def test_every_bad_field_is_named_at_once(settings: Settings) -> None:
    bad = spec(schedule="61 * * * *", timezone="Mars/Olympus", manifest="queue/none.yaml")
    with pytest.raises(JobInvalid) as caught:
        check_job(bad, settings)
    found = fields_of(caught.value)
    assert set(found) == {"schedule", "timezone", "manifest"}
    assert "bad minute" in found["schedule"]
    assert "not found in the project" in found["manifest"]
    assert str(caught.value).startswith("job 'nightly', field schedule: ")


@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        ("../outside.yaml", "is not inside the project"),
        ("/etc/passwd", "is not inside the project"),
        ("queue/broken.yaml", "does not plan"),
    ],
)
def test_the_manifest_must_be_inside_the_project_and_plan(
    settings: Settings, manifest: str, words: str
) -> None:
    (settings.root.parent / "outside.yaml").write_text(MANIFEST, encoding="utf-8")
    (settings.root / "queue" / "broken.yaml").write_text("steps: [{name: a}]\n", encoding="utf-8")
    with pytest.raises(JobInvalid) as caught:
        check_job(spec(manifest=manifest), settings)
    assert words in fields_of(caught.value)["manifest"]


def test_a_selector_naming_no_step_fails_the_plan(settings: Settings) -> None:
    with pytest.raises(JobInvalid) as caught:
        check_job(spec(select=["nope"]), settings)
    assert "nope" in fields_of(caught.value)["manifest"]


def extract_load(**source: object) -> JobSpec:
    return JobSpec(
        name="copy",
        extractor_type=str(source.pop("type", "csv")),
        extractor_config={"path": "incoming/orders.csv", **source},
        loader_type="table",
        loader_config={"table": "orders", "mode": "replace"},
    )


def test_an_extract_load_job_is_a_one_step_load_manifest_that_must_plan(
    settings: Settings,
) -> None:
    (settings.root / "incoming").mkdir()
    (settings.root / "incoming" / "orders.csv").write_text("id,qty\n1,2\n", encoding="utf-8")
    good = extract_load()
    assert check_job(good, settings) is good
    assert yaml.safe_load(extract_load_manifest(good)) == {
        "name": "copy",
        "steps": [
            {
                "name": "load",
                "type": "load",
                "source": {"path": "incoming/orders.csv", "type": "csv"},
                "target": {"table": "orders", "mode": "replace", "type": "table"},
            }
        ],
    }
    with pytest.raises(JobInvalid) as caught:
        check_job(extract_load(delimeter=";"), settings)
    [problem] = caught.value.fields
    assert (problem.field, problem.message) == ("extractor_config.delimeter", "unknown key")
    assert problem.hint == "did you mean 'delimiter'?"


def test_extract_load_jobs_need_types_ordo_knows(settings: Settings) -> None:
    with pytest.raises(JobInvalid) as caught:
        check_job(extract_load(type="fax"), settings)
    assert fields_of(caught.value) == {"extractor_type": "'fax' is not a type ordo knows"}
    assert "csv" in (caught.value.fields[0].hint or "")


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"name": "x", "manifest": "m.yaml", "catchup": "sometimes"}, "catchup", "'latest'"),
        ({"name": "x", "manifest": "m.yaml", "max_active_runs": 0}, "max_active_runs", "1"),
        ({"name": "x", "manifest": "m.yaml", "shedule": "@daily"}, "shedule", "not permitted"),
        ({"name": "x"}, "job", "say what to run"),
        ({"name": "x", "manifest": "m", "loader_type": "table"}, "job", "not both"),
        ({"manifest": "m.yaml"}, "name", "required"),
        ({"name": "  ", "manifest": "m.yaml"}, "name", "not blank"),
    ],
)
def test_a_job_of_the_wrong_shape_names_the_field(
    data: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(JobInvalid) as caught:
        parse_job(data)
    found = fields_of(caught.value)
    assert field in found
    assert words in found[field]


def test_an_update_is_checked_like_a_creation(store: ServiceStore, settings: Settings) -> None:
    job = create_job(store, spec(), settings, now=T0)
    with pytest.raises(JobInvalid) as caught:
        update_job(store, job.id, spec(schedule="@often"), settings, now=T0)
    assert set(fields_of(caught.value)) == {"schedule"}
    assert store.get_job(job.id).spec.schedule == "30 2 * * *"


# -- ordo.yaml ---------------------------------------------------------------------------------


def write_jobs(settings: Settings, body: str) -> None:
    (settings.root / "ordo.yaml").write_text(textwrap.dedent(body), encoding="utf-8")


def test_ordo_yaml_jobs_are_added_changed_and_disabled_when_removed(
    store: ServiceStore, settings: Settings
) -> None:
    api_job = create_job(store, spec("by-hand"), settings, now=T0)
    write_jobs(
        settings,
        """\
        jobs:
          - name: nightly
            manifest: queue/sales.yaml
            schedule: "30 2 * * *"
            timezone: Europe/Berlin
            params: {region: north}
          - name: hourly
            manifest: queue/sales.yaml
            schedule: "@hourly"
            params: {region: east}
        """,
    )
    first = sync_project_jobs(store, settings, now=T0)
    assert (first.created, first.updated, first.disabled) == (("nightly", "hourly"), (), ())
    nightly = store.get_job("nightly")
    assert (nightly.origin, nightly.spec.timezone) == (JobOrigin.FILE, "Europe/Berlin")

    again = sync_project_jobs(store, settings, now=T0 + timedelta(minutes=1))
    assert again.unchanged == ("nightly", "hourly")
    assert store.get_job("nightly").updated_at == T0

    write_jobs(
        settings,
        """\
        jobs:
          - name: nightly
            manifest: queue/sales.yaml
            schedule: "45 3 * * *"
            timezone: Europe/Berlin
            params: {region: south}
        """,
    )
    later = T0 + timedelta(hours=1)
    changed = sync_project_jobs(store, settings, now=later)
    assert (changed.updated, changed.disabled) == (("nightly",), ("hourly",))
    assert store.get_job("nightly").spec.params == {"region": "south"}
    hourly = store.get_job("hourly")
    assert (hourly.spec.enabled, hourly.updated_at) == (False, later)
    assert store.get_job(api_job.id) == api_job  # made through the API: left alone

    (settings.root / "ordo.yaml").unlink()
    assert sync_project_jobs(store, settings, now=later).disabled == ("nightly",)
    assert [job.spec.enabled for job in store.list_jobs()] == [True, False, False]


def test_a_mistake_in_ordo_yaml_changes_nothing_and_names_file_job_and_field(
    store: ServiceStore, settings: Settings
) -> None:
    write_jobs(
        settings,
        """\
        jobs:
          - name: good
            manifest: queue/sales.yaml
            params: {region: north}
          - name: bad
            manifest: queue/sales.yaml
            params: {region: north}
            timezone: Europe/Atlantis
        """,
    )
    with pytest.raises(JobInvalid) as caught:
        sync_project_jobs(store, settings, now=T0)
    assert caught.value.file == settings.root / "ordo.yaml"
    assert "job 'bad', field timezone: 'Europe/Atlantis' is not a time zone" in str(caught.value)
    assert str(settings.root / "ordo.yaml") in str(caught.value)
    assert store.list_jobs() == []


def test_a_job_declared_twice_in_ordo_yaml_is_refused(
    store: ServiceStore, settings: Settings
) -> None:
    write_jobs(
        settings,
        "jobs:\n  - {name: a, manifest: queue/sales.yaml}\n" * 1
        + "  - {name: a, manifest: queue/sales.yaml}\n",
    )
    with pytest.raises(JobInvalid, match="field name: is declared twice"):
        sync_project_jobs(store, settings, now=T0)


# -- tokens ------------------------------------------------------------------------------------


def table_text(store: SqlStore, table: str) -> str:  # every column of every row
    with store.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT * FROM {table}")).all()
    return repr(rows)


def test_a_token_is_shown_once_and_only_its_hash_is_kept(sql_store: SqlStore) -> None:
    store = sql_store
    made = tokens.create_token(store, "ci", "operator", now=T0, expires="30d")
    assert made.token.startswith("ordo_")
    assert len(made.token) == len("ordo_") + 43  # 32 bytes, URL-safe base64
    assert made.record.expires_at == T0 + timedelta(days=30)
    kept = table_text(store, "tokens")
    assert made.token not in kept
    assert made.token[len("ordo_") :] not in kept
    assert token_hash(made.token) in kept


def test_a_token_is_verified_and_its_use_recorded(store: ServiceStore) -> None:
    made = tokens.create_token(store, "ci", Role.VIEWER, now=T0)
    used = T0 + timedelta(minutes=5)
    found = tokens.verify_token(store, made.token, now=used)
    assert found is not None
    assert (found.name, found.role) == ("ci", Role.VIEWER)
    [listed] = store.list_tokens()
    assert listed.last_used_at == used
    assert tokens.verify_token(store, made.token + "x", now=used) is None
    assert tokens.verify_token(store, "ordo_" + "A" * 43, now=used) is None
    assert tokens.verify_token(store, "Bearer nonsense", now=used) is None


def test_refused_tokens_are_logged_by_name_never_by_their_text(
    store: ServiceStore, caplog: pytest.LogCaptureFixture
) -> None:
    made = tokens.create_token(store, "ci", "viewer", now=T0, expires="1h")
    guess = "ordo_" + "B" * 43
    with caplog.at_level("WARNING", logger="ordo.service"):
        assert tokens.verify_token(store, guess, now=T0) is None
        assert tokens.verify_token(store, made.token, now=T0 + timedelta(hours=2)) is None
    assert [r.getMessage() for r in caplog.records] == [
        "refused a token that is not one of this store's",
        "refused token 'ci': it is expired",
    ]
    assert made.token not in caplog.text
    assert guess not in caplog.text


def test_a_revoked_token_stops_working_at_once(opener: Opener) -> None:
    server, admin = opener(), opener()  # the API's store, and the one `ordo token` opens
    try:
        made = tokens.create_token(admin, "ci", "admin", now=T0)
        assert tokens.verify_token(server, made.token, now=T0) is not None
        tokens.revoke_token(admin, "ci", now=T0 + timedelta(seconds=1))
        assert tokens.verify_token(server, made.token, now=T0 + timedelta(seconds=1)) is None
        with pytest.raises(TokenExists, match="revoked ones keep their names"):
            tokens.create_token(admin, "ci", "admin", now=T0)
        with pytest.raises(Exception, match="no token named 'nobody'"):
            tokens.revoke_token(admin, "nobody", now=T0)
    finally:
        server.close()
        admin.close()


def test_a_token_expires_at_its_time(store: ServiceStore) -> None:
    made = tokens.create_token(store, "short", "viewer", now=T0, expires="90m")
    assert tokens.verify_token(store, made.token, now=T0 + timedelta(minutes=89)) is not None
    assert tokens.verify_token(store, made.token, now=T0 + timedelta(minutes=90)) is None
    [listed] = store.list_tokens()
    assert listed.revoked_at is None
    assert not listed.usable_at(T0 + timedelta(hours=2))
    assert (listed.state_at(T0), listed.state_at(T0 + timedelta(hours=2))) == (
        "active",
        "expired",
    )


def test_roles_nest_viewer_operator_admin(store: ServiceStore) -> None:
    viewer = tokens.create_token(store, "v", "viewer", now=T0).record
    admin = tokens.create_token(store, "a", "ADMIN", now=T0).record
    tokens.require_role(admin, Role.OPERATOR)
    tokens.require_role(viewer, Role.VIEWER)
    with pytest.raises(tokens.NotAllowed, match="token 'v' is a viewer token; this needs operator"):
        tokens.require_role(viewer, Role.OPERATOR)
    assert [t.name for t in store.list_tokens()] == ["a", "v"]


@pytest.mark.parametrize("bad", ["30", "0d", "3y", "-1d", "soon"])
def test_an_expiry_that_is_not_a_duration_is_refused(bad: str) -> None:
    with pytest.raises(Exception, match="is not a duration"):
        tokens.parse_expiry(bad)


# -- fires ------------------------------------------------------------------------------------


def test_of_many_claimers_of_one_fire_exactly_one_wins(store: ServiceStore, opener: Opener) -> None:
    job = store.create_job(spec(), origin=JobOrigin.API, at=T0)
    claimers = [opener() for _ in range(6)]
    start = threading.Barrier(len(claimers))
    results: list[bool] = []
    lock = threading.Lock()

    def claim(claimer: ServiceStore, number: int) -> None:
        start.wait()
        won = claimer.claim_fire(job.id, T0, at=T0, by=f"s{number}", run_id=f"run{number}")
        with lock:
            results.append(won)

    threads = [threading.Thread(target=claim, args=(c, n)) for n, c in enumerate(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for claimer in claimers:
        claimer.close()
    assert sorted(results) == [False] * 5 + [True]
    [fire] = store.list_fires(job.id)
    assert fire.scheduled_for == T0
    assert fire.run_id == f"run{fire.claimed_by[1:]}"  # type: ignore[index]
    assert store.last_fire(job.id) == T0


@pytest.mark.postgres
def test_on_postgresql_claims_and_token_changes_wait_for_the_flush(postgres_url: URL) -> None:
    """The store commits without waiting for the disk, except where losing a commit would
    fire a job twice or bring a revoked token back."""
    store = PostgresStore(postgres_url)
    sent: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        job = store.create_job(spec(), origin=JobOrigin.API, at=T0)
        for action in (
            lambda: store.claim_fire(job.id, T0, at=T0),
            lambda: tokens.create_token(store, "ci", "admin", now=T0),
            lambda: store.revoke_token("ci", T0),
        ):
            sent.clear()
            action()
            durable = sent.index("SET LOCAL synchronous_commit TO on")
            assert sent[durable + 1].startswith(("INSERT", "SELECT")), sent
            assert sent[-1] == "COMMIT"
        sent.clear()
        store.list_jobs()
        assert "SET LOCAL synchronous_commit TO on" not in sent
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
        store.close()
