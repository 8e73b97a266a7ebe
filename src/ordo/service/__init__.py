"""The service (issue 14): jobs, tokens, schedules, the run queue and its workers, the REST API.

Usable on its own, piece by piece:

    from ordo.service import store, jobs, tokens
    from ordo.service.scheduler import Scheduler

    with store.service_store(project="...") as (db, settings):
        jobs.sync_project_jobs(db, settings, now=now)          # ordo.yaml's jobs: into the store
        token = tokens.create_token(db, "ci", "operator", expires="30d", now=now)
        tokens.verify_token(db, token.token, now=now)          # TokenRecord, or None
        Scheduler(db, on_fire=print).tick(now)                 # claims each due fire once, and
                                                               # queues its run in that transaction
        runs.trigger_run(db, "nightly", settings, now=now, trigger=RunTrigger.API)
        Worker(db, settings.root).run_one()                    # claims a run and runs it apart

Modules: ``store`` (opening a store that can hold them), ``jobs`` (validating and keeping jobs;
``project_jobs`` reads ``ordo.yaml``), ``tokens``, ``schedules`` (cron in a time zone),
``scheduler``, ``runs`` (queueing a checked run), ``worker`` (claims, leases, heartbeats,
cancels) and ``execution`` (the attempt's process), ``app`` (the FastAPI app; its errors in
``api_errors``), ``metrics``, ``serve`` (``ordo serve``: API, scheduler and local workers),
``project`` (the use cases ``ordo token`` and ``ordo jobs`` call). Every function takes the clock
as ``now``: none reads it itself, but for the long-running loops of ``serve`` and ``worker``.
"""
