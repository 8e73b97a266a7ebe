"""The web UI (issue 15): runs, a run's steps, graph and log, jobs, workers and health.

``ordo serve`` serves it at ``/ui/``: ``ordo.service.app.create_app`` mounts it on the API's
store, as any app can:

    from ordo.service.ui import router
    app.include_router(router(store, settings), prefix="/ui")

Server-rendered pages (Jinja2 templates under ``templates/``, one stylesheet and one small
script under ``static/``, all served by ordo: no build step, nothing fetched from elsewhere),
read from the state store through the library. Modules: ``routes`` (the router: parse, check,
call, render), ``sessions`` (sign-in cookies and CSRF tokens), ``views`` (what each page
shows), ``graph_svg`` and ``sparkline`` (the pictures), ``logs`` (a run's log file),
``actions`` (what the buttons do, through the run queue's own functions).
FastAPI is imported only when ``router`` is called.
"""

from ordo.service.ui.routes import router

__all__ = ["router"]
