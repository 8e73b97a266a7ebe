"""Cron schedules in a job's time zone: next fires across DST, month ends, aliases, catchup.

Expected times are written as wall-clock times in the job's zone and compared in UTC, so a
fire that comes an hour off (or twice) on a DST day fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from ordo.service.schedules import (
    CATCHUP_LIMIT,
    ScheduleInvalid,
    check_schedule,
    check_timezone,
    describe,
    due_fires,
    fire_after,
    next_fire,
)
from ordo.store.jobs import Catchup, JobDefinition, JobOrigin, JobSpec

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def wall(zone: ZoneInfo, *parts: int, fold: int = 0) -> datetime:
    """A wall-clock time in ``zone``, as UTC."""
    return datetime(*parts, tzinfo=zone, fold=fold).astimezone(UTC)  # type: ignore[misc]


def fires(schedule: str, zone: str, after: datetime, count: int) -> list[datetime]:
    found, moment = [], after
    for _ in range(count):
        moment = fire_after(schedule, zone, moment)
        found.append(moment)
    return found


@pytest.mark.parametrize(
    ("zone", "day"),
    [(BERLIN, (2026, 3, 29)), (NEW_YORK, (2026, 3, 8))],
    ids=["Europe/Berlin", "America/New_York"],
)
def test_a_daily_job_in_the_skipped_hour_fires_once_at_the_first_valid_time(
    zone: ZoneInfo, day: tuple[int, int, int]
) -> None:
    year, month, date = day
    before = wall(zone, year, month, date, 0, 0) - timedelta(hours=12)
    found = fires("30 2 * * *", str(zone), before, 3)
    assert found == [
        wall(zone, year, month, date, 3, 0),  # 02:30 does not exist: the first minute after
        wall(zone, year, month, date + 1, 2, 30),
        wall(zone, year, month, date + 2, 2, 30),
    ]


@pytest.mark.parametrize(
    ("zone", "day", "repeated"),
    [(BERLIN, (2026, 10, 25), 2), (NEW_YORK, (2026, 11, 1), 1)],
    ids=["Europe/Berlin", "America/New_York"],
)
def test_a_daily_job_in_the_repeated_hour_fires_once_not_twice(
    zone: ZoneInfo, day: tuple[int, int, int], repeated: int
) -> None:
    year, month, date = day
    before = wall(zone, year, month, date, 0, 0) - timedelta(hours=12)
    found = fires(f"30 {repeated} * * *", str(zone), before, 2)
    assert found == [
        wall(zone, year, month, date, repeated, 30),  # the first time round
        wall(zone, year, month, date + 1, repeated, 30),
    ]
    # Asked from inside the second pass of that hour, it does not go back to the first.
    second_pass = wall(zone, year, month, date, repeated, 10, fold=1)
    assert second_pass > found[0]
    assert fire_after(f"30 {repeated} * * *", str(zone), second_pass) == found[1]


def test_hourly_fires_by_elapsed_time_across_both_dst_changes() -> None:
    spring = fires("@hourly", "Europe/Berlin", wall(BERLIN, 2026, 3, 29, 0, 30), 3)
    assert [t.astimezone(BERLIN).hour for t in spring] == [1, 3, 4]  # no 02:00 that day
    assert [b - a for a, b in pairwise(spring)] == [timedelta(hours=1)] * 2
    autumn = fires("@hourly", "Europe/Berlin", wall(BERLIN, 2026, 10, 25, 1, 30), 3)
    assert [t.astimezone(BERLIN).hour for t in autumn] == [2, 2, 3]  # 02:00 twice, an hour apart
    assert [b - a for a, b in pairwise(autumn)] == [timedelta(hours=1)] * 2


def test_the_31st_fires_only_in_months_that_have_one() -> None:
    found = fires("0 0 31 * *", "UTC", datetime(2026, 1, 31, 12, tzinfo=UTC), 4)
    assert [(t.month, t.day) for t in found] == [(3, 31), (5, 31), (7, 31), (8, 31)]


def test_aliases_are_their_five_fields() -> None:
    assert check_schedule("@daily") == "0 0 * * *"
    assert check_schedule("@WEEKLY") == "0 0 * * 0"
    assert check_schedule(" 30   2 * * * ") == "30 2 * * *"
    after = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)  # a Monday
    assert fire_after("@hourly", "UTC", after) == datetime(2026, 6, 15, 11, 0, tzinfo=UTC)
    assert fire_after("@daily", "UTC", after) == datetime(2026, 6, 16, tzinfo=UTC)
    assert fire_after("@weekly", "UTC", after) == datetime(2026, 6, 21, tzinfo=UTC)
    assert fire_after("@monthly", "UTC", after) == datetime(2026, 7, 1, tzinfo=UTC)
    assert fire_after("@yearly", "UTC", after) == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_fire_exactly_at_after_is_not_next() -> None:
    at = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
    assert fire_after("0 * * * *", "UTC", at) == at + timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("61 * * * *", "not a valid cron expression: bad minute"),
        ("* * * *", "has 4 fields, not 5"),
        ("0 0 0 * * *", "has 6 fields, not 5"),
        ("@sometimes", "is not a schedule"),
        ("0 0 30 2 *", "not a valid cron expression: bad day-of-month"),
    ],
)
def test_a_bad_cron_expression_says_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ScheduleInvalid, match=words) as caught:
        check_schedule(text)
    assert caught.value.hint


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../../etc/passwd", "Europe/"])
def test_a_time_zone_that_does_not_exist_is_refused(name: str) -> None:
    with pytest.raises(ScheduleInvalid, match="is not a time zone"):
        check_timezone(name)


def test_schedules_are_put_in_words_with_english_ordinals() -> None:
    assert describe("30 2 * * *") == "At 02:30 every day"
    assert describe("0 0 31 * *") == "At 00:00 on the 31st day of every month"
    assert describe("0 0 11 * *") == "At 00:00 on the 11th day of every month"
    assert describe("not cron") is None


# -- due fires --------------------------------------------------------------------------------

CREATED = datetime(2026, 6, 1, 0, 0, 30, tzinfo=UTC)


def job(catchup: Catchup, schedule: str = "0 * * * *", **fields: object) -> JobDefinition:
    spec = JobSpec(
        name="hourly", manifest="queue/m.yaml", schedule=schedule, catchup=catchup, **fields
    )  # type: ignore[arg-type]
    return JobDefinition("id", spec, JobOrigin.API, CREATED, CREATED)


def hours(*values: int) -> list[datetime]:
    return [datetime(2026, 6, 1, h, tzinfo=UTC) for h in values]


@pytest.mark.parametrize("catchup", list(Catchup))
def test_a_fire_due_now_is_due_under_every_policy(catchup: Catchup) -> None:
    now = datetime(2026, 6, 1, 5, 0, 5, tzinfo=UTC)
    assert due_fires(job(catchup), hours(4)[0], now) == hours(5)
    assert due_fires(job(catchup), hours(4)[0], hours(5)[0]) == hours(5)  # exactly at its time
    assert due_fires(job(catchup), hours(5)[0], now) == []  # claimed already


def test_after_downtime_latest_runs_once_for_the_most_recent_missed_fire() -> None:
    now = datetime(2026, 6, 1, 5, 20, tzinfo=UTC)
    assert due_fires(job(Catchup.LATEST), hours(1)[0], now) == hours(5)


def test_after_downtime_all_runs_every_missed_fire_oldest_first() -> None:
    now = datetime(2026, 6, 1, 5, 20, tzinfo=UTC)
    assert due_fires(job(Catchup.ALL), hours(1)[0], now) == hours(2, 3, 4, 5)


def test_after_downtime_none_runs_only_a_fire_that_is_due_now() -> None:
    assert due_fires(job(Catchup.NONE), hours(1)[0], datetime(2026, 6, 1, 5, 20, tzinfo=UTC)) == []
    now = datetime(2026, 6, 1, 5, 0, 40, tzinfo=UTC)
    assert due_fires(job(Catchup.NONE), hours(1)[0], now) == hours(5)


def test_catchup_all_keeps_the_newest_fires_up_to_the_limit() -> None:
    minutely = job(Catchup.ALL, "* * * * *")
    now = CREATED + timedelta(days=2)
    found = due_fires(minutely, None, now)
    assert len(found) == CATCHUP_LIMIT
    assert found == sorted(found)
    assert found[-1] == now.replace(second=0)


def test_a_job_that_never_fired_counts_from_its_creation() -> None:
    # Created at 00:00:30: the 00:00 fire was before it, the 01:00 one is its first.
    assert due_fires(job(Catchup.ALL), None, datetime(2026, 6, 1, 0, 59, tzinfo=UTC)) == []
    assert due_fires(job(Catchup.ALL), None, datetime(2026, 6, 1, 1, 0, tzinfo=UTC)) == hours(1)


def test_a_disabled_job_or_one_without_a_schedule_has_no_fires() -> None:
    now = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)
    assert due_fires(job(Catchup.ALL, enabled=False), None, now) == []
    unscheduled = JobDefinition(
        "id", JobSpec(name="x", manifest="m.yaml"), JobOrigin.API, CREATED, CREATED
    )
    assert due_fires(unscheduled, None, now) == []


def test_due_fires_in_a_zone_across_the_fall_back_night() -> None:
    daily = job(Catchup.ALL, "30 2 * * *", timezone="Europe/Berlin")
    since = wall(BERLIN, 2026, 10, 24, 12, 0)
    now = wall(BERLIN, 2026, 10, 26, 12, 0)
    assert due_fires(daily, since, now) == [
        wall(BERLIN, 2026, 10, 25, 2, 30),
        wall(BERLIN, 2026, 10, 26, 2, 30),
    ]
    spring = job(Catchup.ALL, "30 2 * * *", timezone="America/New_York")
    assert due_fires(spring, wall(NEW_YORK, 2026, 3, 7, 12), wall(NEW_YORK, 2026, 3, 9, 12)) == [
        wall(NEW_YORK, 2026, 3, 8, 3, 0),
        wall(NEW_YORK, 2026, 3, 9, 2, 30),
    ]


def test_the_next_fire_of_a_job_is_in_its_zone_and_none_when_it_cannot_fire() -> None:
    after = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
    nightly = JobSpec(name="n", manifest="m.yaml", schedule="30 2 * * *", timezone="Europe/Berlin")
    assert next_fire(nightly, after) == wall(BERLIN, 2026, 6, 16, 2, 30)
    assert next_fire(nightly.model_copy(update={"enabled": False}), after) is None
    assert next_fire(JobSpec(name="n", manifest="m.yaml"), after) is None
