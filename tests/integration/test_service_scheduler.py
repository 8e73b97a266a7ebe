"""Schedulers on one store: every fire claimed exactly once, none missed, across restarts.

Two schedulers tick the same simulated hour at the same simulated moments (a barrier lines
their ticks up, so they race for every fire), each on its own connection as two ``ordo
serve`` replicas would; one of them restarts half-way (its store closed, a new scheduler on
a new connection) after being down for a few minutes.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import URL

from ordo.service.scheduler import Fire, Scheduler
from ordo.store.jobs import Catchup, JobOrigin, JobSpec
from ordo.store.memory import MemoryStore
from ordo.store.postgresql import PostgresStore
from ordo.store.service import ServiceStore
from ordo.store.sqlite import SqliteStore

REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
STEP = timedelta(seconds=20)
Opener = Callable[[], ServiceStore]


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite", "memory"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    if request.param == "memory":
        shared = MemoryStore()  # every replica's "connection" is the one store
        return lambda: shared
    if request.param == "sqlite":
        return lambda: SqliteStore(tmp_path / ".ordo" / "state.db")
    url: URL = request.getfixturevalue("postgres_url")
    return lambda: PostgresStore(url)


@pytest.fixture
def store(opener: Opener) -> Iterator[ServiceStore]:
    made = opener()
    yield made
    made.close()


def add(store: ServiceStore, name: str, schedule: str, catchup: Catchup, zone: str = "UTC") -> str:
    spec = JobSpec(
        name=name, manifest="queue/m.yaml", schedule=schedule, catchup=catchup, timezone=zone
    )
    return store.create_job(spec, origin=JobOrigin.API, at=START - timedelta(seconds=30)).id


def minutes(every: int, start: datetime = START, end: datetime = END) -> list[datetime]:
    found, moment = [], start
    while moment <= end:
        found.append(moment)
        moment += timedelta(minutes=every)
    return found


def ticks(start: datetime = START, end: datetime = END) -> list[datetime]:
    found, moment = [], start
    while moment <= end:
        found.append(moment)
        moment += STEP
    return found


class Recorder:
    """The fires handed on, by any scheduler, with the run id each got."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fires: list[tuple[str, datetime, str, str]] = []

    def handler(self, scheduler: str) -> Callable[[Fire], None]:
        def on_fire(fire: Fire) -> None:
            with self.lock:
                self.fires.append((fire.job.name, fire.scheduled_for, fire.run_id, scheduler))

        return on_fire


def test_two_schedulers_and_a_restart_claim_every_fire_of_an_hour_once(
    store: ServiceStore, opener: Opener
) -> None:
    jobs = {
        "minutely": add(store, "minutely", "* * * * *", Catchup.ALL),
        "five": add(store, "five", "*/5 * * * *", Catchup.LATEST),
        "ten": add(store, "ten", "*/10 * * * *", Catchup.NONE),
        "berlin": add(store, "berlin", "15 12 * * *", Catchup.LATEST, "Europe/Berlin"),
    }
    expected = {
        "minutely": minutes(1),
        "five": minutes(5),
        "ten": minutes(10),
        "berlin": [START + timedelta(minutes=15)],  # 12:15 CEST
    }
    recorder = Recorder()
    moments = ticks()
    barrier = threading.Barrier(2)
    down = (START + timedelta(minutes=29, seconds=50), START + timedelta(minutes=34))
    errors: list[BaseException] = []

    def replica(name: str, restarts: bool) -> None:
        own = opener()
        scheduler = Scheduler(own, recorder.handler(name), name=name)
        try:
            for now in moments:
                barrier.wait(timeout=60)
                if restarts and down[0] <= now < down[1]:
                    if own is not None:
                        own.close()  # the process is gone, mid-hour
                        own = None
                    continue
                if own is None:  # started again: nothing but the store remembers
                    own = opener()
                    scheduler = Scheduler(own, recorder.handler(name + "'"), name=name + "'")
                scheduler.tick(now)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            if own is not None:
                own.close()

    threads = [
        threading.Thread(target=replica, args=("a", True)),
        threading.Thread(target=replica, args=("b", False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    handed = Counter((name, when) for name, when, _, _ in recorder.fires)
    assert [key for key, count in handed.items() if count > 1] == []  # none twice
    for name, times in expected.items():
        assert sorted(when for job, when in handed if job == name) == times, name  # none missed
        fires = store.list_fires(jobs[name])
        assert [fire.scheduled_for for fire in fires] == times
    by_fire = {(name, when): run for name, when, run, _ in recorder.fires}
    for name, job_id in jobs.items():
        for fire in store.list_fires(job_id):
            assert fire.run_id == by_fire[(name, fire.scheduled_for)]
    # While a was down, b alone claimed what fell due (who wins a race is up to the machine).
    while_down = {who for _, when, _, who in recorder.fires if down[0] <= when < down[1]}
    assert while_down == {"b"}


@pytest.mark.parametrize(
    ("catchup", "after_restart"),
    [
        (Catchup.ALL, minutes(5, START + timedelta(minutes=15), START + timedelta(minutes=40))),
        (Catchup.LATEST, [START + timedelta(minutes=40)]),
        (Catchup.NONE, []),
    ],
)
def test_after_downtime_the_catchup_policy_decides_what_runs(
    store: ServiceStore, opener: Opener, catchup: Catchup, after_restart: list[datetime]
) -> None:
    add(store, "job", "*/5 * * * *", catchup)
    recorder = Recorder()
    first = Scheduler(store, recorder.handler("first"))
    for now in ticks(START, START + timedelta(minutes=10)):
        first.tick(now)
    assert [when for _, when, _, _ in recorder.fires] == minutes(
        5, START, START + timedelta(minutes=10)
    )
    recorder.fires.clear()
    # Down for half an hour; back at 10:42:30, when the 10:40 fire is no longer "now".
    again = opener()
    try:
        won = Scheduler(again, recorder.handler("again")).tick(
            START + timedelta(minutes=42, seconds=30)
        )
    finally:
        again.close()
    assert [fire.scheduled_for for fire in won] == after_restart
    assert [when for _, when, _, _ in recorder.fires] == after_restart


def test_a_disabled_job_is_not_fired_and_enabling_it_resumes(store: ServiceStore) -> None:
    job_id = add(store, "job", "*/5 * * * *", Catchup.LATEST)
    recorder = Recorder()
    scheduler = Scheduler(store, recorder.handler("s"))
    scheduler.tick(START)
    spec = store.get_job(job_id).spec
    store.update_job(job_id, spec.model_copy(update={"enabled": False}), at=START)
    for now in ticks(START, START + timedelta(minutes=20)):
        scheduler.tick(now)
    assert [when for _, when, _, _ in recorder.fires] == [START]
    store.update_job(job_id, spec, at=START + timedelta(minutes=21))
    scheduler.tick(START + timedelta(minutes=21))
    assert [when for _, when, _, _ in recorder.fires] == [START, START + timedelta(minutes=20)]


@pytest.mark.postgres
def test_two_scheduler_processes_one_killed_and_restarted_fire_everything_once(
    postgres_url: URL, tmp_path: Path
) -> None:
    """Two replicas in processes of their own, racing on one PostgreSQL store along a clock
    that runs 600 times faster than the real one; one is killed with SIGKILL half-way and
    started again. Only ``catchup: all`` jobs here: which fires are due then does not depend
    on how fast the machine is."""
    store = PostgresStore(postgres_url)
    try:
        jobs = {
            "minutely": add(store, "minutely", "* * * * *", Catchup.ALL),
            "seven": add(store, "seven", "*/7 * * * *", Catchup.ALL),
        }
    finally:
        store.close()
    url = postgres_url.render_as_string(hide_password=False)
    epoch = time.time() + 1.5  # both start before the simulated hour does
    out = tmp_path / "fires.jsonl"
    started: list[subprocess.Popen[str]] = []

    def replica(name: str) -> subprocess.Popen[str]:
        args = [url, START.isoformat(), END.isoformat(), "600", str(epoch), name, str(out)]
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.scheduling", *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ticking"
        return process

    first, other = replica("a"), replica("b")
    try:
        # Half-way through the simulated hour (3 s after it began), a is killed mid-tick.
        time.sleep(max(0.0, epoch + 3.0 - time.time()))
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        again = replica("a-restarted")
        assert again.wait(timeout=120) == 0
        assert other.wait(timeout=120) == 0
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()

    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    handed = Counter((line["job"], line["at"]) for line in lines)
    assert [key for key, count in handed.items() if count > 1] == []  # none handed on twice
    assert {line["by"] for line in lines} <= {"a", "b", "a-restarted"}
    store = PostgresStore(postgres_url)
    try:
        for name, every in (("minutely", 1), ("seven", 7)):
            expected = [t for t in minutes(1) if t.minute % every == 0]
            fires = store.list_fires(jobs[name])
            assert [fire.scheduled_for for fire in fires] == expected, name  # none missed
            # Each fire was handed on by the replica that claimed it; only the killed one
            # may have claimed a fire and died before handing it on.
            for fire in fires:
                if (name, fire.scheduled_for.isoformat()) not in handed:
                    assert fire.claimed_by == "a", (name, fire.scheduled_for)
    finally:
        store.close()
