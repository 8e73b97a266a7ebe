"""The service's library (issue 14): jobs, tokens and schedules, on the project's state store.

What ``ordo serve``, its workers and its scheduler will stand on, usable on its own:

    from ordo.service import store, jobs, tokens
    from ordo.service.scheduler import Scheduler

    with store.service_store(project="...") as (db, settings):
        jobs.sync_project_jobs(db, settings, now=now)          # ordo.yaml's jobs: into the store
        token = tokens.create_token(db, "ci", "operator", expires="30d", now=now)
        tokens.verify_token(db, token.token, now=now)          # TokenRecord, or None
        Scheduler(db, on_fire=enqueue).tick(now)               # claims each due fire once

Modules: ``store`` (opening a store that can hold them), ``jobs`` (validating and keeping jobs;
``project_jobs`` reads ``ordo.yaml``), ``tokens``, ``schedules`` (cron in a time zone),
``scheduler``. Every function takes the clock as ``now``: none reads it itself.
"""
