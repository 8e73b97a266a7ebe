"""Cron schedules in a job's time zone: when a job fires next, and which fires are due now.

``cronsim`` computes the times (chosen over croniter: it has no dependencies, ships its own
types, is kept by the author of a cron monitoring service, and does what Debian's cron does
across DST changes). Its rules, which the tests pin down:

- a job at a fixed time of day that falls in the hour skipped when clocks go forward fires
  once, at the first valid minute after (02:30 in Europe/Berlin on the last Sunday of March
  fires at 03:00); one in the hour that repeats when clocks go back fires once, the first
  time round;
- a job that fires every hour or more often fires by elapsed time: ``@hourly`` fires at both
  01:00s of a fall-back night, and not at the 02:00 that does not exist in spring;
- ``0 0 31 * *`` fires only in months that have a 31st.

Times go in and come out as aware UTC datetimes; the zone matters only to say which wall
clock the expression reads. The clock is always passed in (``now``, ``after``): nothing here
reads it, so a test can run a day of fires in a millisecond.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ordo.errors import ConfigError, InvalidInput
from ordo.store.base import utc
from ordo.store.jobs import Catchup, JobDefinition, JobSpec

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from cronsim import CronSim

__all__ = [
    "ALIASES",
    "CATCHUP_LIMIT",
    "DUE_NOW",
    "ScheduleInvalid",
    "check_schedule",
    "check_timezone",
    "describe",
    "due_fires",
    "fire_after",
    "next_fire",
]

ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
# catchup ``all`` after a long downtime: the most recent fires up to this many run, older ones
# are dropped (a minutely job stopped for a week would otherwise queue 10,080 runs).
CATCHUP_LIMIT = 1000
# catchup ``none``: a fire this recent still counts as due now (a scheduler ticks every few
# seconds, so it sees a fire a little after its time).
DUE_NOW = timedelta(minutes=1)
_SOME_DAY = datetime(2000, 1, 1, tzinfo=UTC)
_WORDS_FIX = re.compile(r"(?<!1)([123])th\b")


class ScheduleInvalid(InvalidInput):
    """A cron expression that does not parse, or a time zone that does not exist."""


def check_schedule(expression: str) -> str:
    """The five cron fields of ``expression`` (an alias like ``@daily`` spelled out);
    ``ScheduleInvalid`` saying what is wrong otherwise."""
    fields = _fields(expression)
    _cronsim(fields, _SOME_DAY)
    return fields


def check_timezone(name: str) -> ZoneInfo:
    """The IANA zone called ``name`` (``Europe/Berlin``, ``UTC``); ``ScheduleInvalid`` if
    there is none."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # deferred: only the service

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleInvalid(
            f"'{name}' is not a time zone",
            hint="write an IANA zone name such as UTC, Europe/Berlin or America/New_York",
        ) from None


def next_fire(job: JobDefinition | JobSpec, after: datetime) -> datetime | None:
    """The job's first fire strictly after ``after``; None when it has no schedule or is
    disabled (what ``ordo jobs list`` and ``GET /jobs`` show)."""
    spec = job.spec if isinstance(job, JobDefinition) else job
    if spec.schedule is None or not spec.enabled:
        return None
    return fire_after(spec.schedule, spec.timezone, after)


def fire_after(schedule: str, timezone: str, after: datetime) -> datetime:
    """The first fire of ``schedule`` (read in ``timezone``) strictly after ``after``."""
    zone = check_timezone(timezone)
    after = utc(after)
    found = _cronsim(check_schedule(schedule), after.astimezone(zone))
    for moment in found:
        # Read on the wall clock, a time in the hour that repeats comes out as its first
        # occurrence, which may lie before ``after`` when ``after`` is in the second one.
        if moment.astimezone(UTC) > after:
            return moment.astimezone(UTC)
    raise ScheduleInvalid(f"schedule '{schedule}' never fires")  # cronsim gives up after 50y


def due_fires(job: JobDefinition, last_fire: datetime | None, now: datetime) -> list[datetime]:
    """The fires of ``job`` to start at ``now``, oldest first, by its ``catchup``.

    Due are the fires after ``last_fire`` (the last one claimed; for a job that never fired,
    its creation) up to and including ``now``. ``latest`` keeps the most recent of them,
    ``all`` every one (the newest ``CATCHUP_LIMIT``), ``none`` the most recent if it is at
    most ``DUE_NOW`` old. A job without a schedule, or disabled, has none; enabled again, its
    catchup decides about the fires it missed while disabled, as after downtime.
    """
    spec = job.spec
    if spec.schedule is None or not spec.enabled:
        return []
    since = utc(last_fire) if last_fire is not None else job.created_at
    now = utc(now)
    zone = check_timezone(spec.timezone)
    # Walking back from just after ``now``: the newest fires come first, and a long downtime
    # costs only the fires that will run, not every one missed.
    limit = CATCHUP_LIMIT if spec.catchup is Catchup.ALL else 1
    back = _cronsim(
        check_schedule(spec.schedule),
        (now + timedelta(seconds=1)).astimezone(zone),
        reverse=True,
    )
    found: list[datetime] = []
    for moment in back:
        fire = moment.astimezone(UTC)
        if fire <= since:
            break
        if fire <= now and fire not in found:
            found.append(fire)
            if len(found) == limit:
                break
    if spec.catchup is Catchup.NONE:
        found = [fire for fire in found if now - fire <= DUE_NOW]
    return sorted(found)


def describe(schedule: str) -> str | None:
    """The schedule in English words ("At 02:30 every day"); None if it cannot say."""
    try:
        from cronsim.explain import explain  # deferred: only the service

        words = explain(check_schedule(schedule))
    except (InvalidInput, ConfigError, ValueError, KeyError, IndexError):
        return None
    return _WORDS_FIX.sub(lambda m: m[1] + {"1": "st", "2": "nd", "3": "rd"}[m[1]], words)


def _fields(expression: str) -> str:
    text = " ".join(expression.split())
    if text.startswith("@"):
        fields = ALIASES.get(text.lower())
        if fields is None:
            raise ScheduleInvalid(
                f"'{text}' is not a schedule",
                hint=f"use five cron fields, or one of {', '.join(ALIASES)}",
            )
        return fields
    if len(text.split(" ")) != 5:
        raise ScheduleInvalid(
            f"'{text}' has {len(text.split())} fields, not 5",
            hint="write minute hour day-of-month month day-of-week, as in '30 2 * * *'",
        )
    return text


def _cronsim(fields: str, start: datetime, *, reverse: bool = False) -> CronSim:
    try:
        from cronsim import CronSim, CronSimError
    except ImportError:
        raise ConfigError(
            "schedules need the service extra of ordo",
            hint="install it: pip install 'ordo[service]'",
        ) from None
    try:
        return CronSim(fields, start, reverse=reverse)
    except CronSimError as exc:
        raise ScheduleInvalid(
            f"'{fields}' is not a valid cron expression: {str(exc).lower() or 'bad field'}",
            hint="write minute hour day-of-month month day-of-week, as in '30 2 * * *'",
        ) from None
