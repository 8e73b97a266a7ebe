"""The REST API (the job scheduler's endpoints), a FastAPI app on the project's state store.

``create_app(project)`` opens the store when the app starts and closes it when it stops. The
routes are plain functions (FastAPI runs them on its thread pool, never on the event loop),
and each is a thin call into the library: ``service.jobs`` checks and keeps jobs, the store's
queue takes runs, workers (``service.worker``) run them in processes of their own.

Every route but ``/health`` needs ``Authorization: Bearer <token>``: a ``viewer`` token reads,
an ``operator`` also triggers and cancels runs, an ``admin`` also changes jobs
(``service.tokens``). ``/metrics`` needs a viewer too, unless the app is made with
``metrics_public``. Errors are answered by ``api_errors``; every response is masked with the
settings' secrets, and a job's config values under keys that name a secret are hidden.
"""

import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import ExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ordo.errors import OrdoError
from ordo.service import jobs as job_manager
from ordo.service.api_errors import ApiError, install_handlers, masked_json
from ordo.service.runs import trigger_run
from ordo.service.store import service_store
from ordo.service.tokens import require_role, verify_token
from ordo.store.base import RunNotFound, TaskRecord
from ordo.store.jobs import JobSpec
from ordo.store.queue import RunTrigger, ServiceRun, ServiceRunStatus
from ordo.store.service import ServiceStore
from ordo.store.tokens import Role, TokenRecord

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import Response

    from ordo.config import Settings

__all__ = ["RunRequest", "create_app"]

LOST_AFTER = timedelta(seconds=15)
_SECRET_KEY = re.compile(r"pass|secret|token|key|credential", re.IGNORECASE)
HIDDEN = "***"


class RunRequest(BaseModel):
    """The body of ``POST /jobs/{id}/run``: params over the job's own, and the steps."""

    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] = Field(default_factory=dict)
    select: list[str] = Field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


def create_app(
    project: Path | str | None = None,
    *,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    metrics_public: bool = False,
    lost_after: timedelta = LOST_AFTER,
    clock: Callable[[], datetime] = _now,
    opened: tuple[ServiceStore, "Settings"] | None = None,
    ui: bool = True,
) -> "FastAPI":
    """The API of the project's service, on its state store (SQLite or PostgreSQL), and with
    ``ui`` the web UI at ``/ui/`` (``GET /`` goes there), out of the OpenAPI schema.

    The app opens the store when it starts and closes it when it stops; ``opened`` gives it
    a store and settings the caller has opened (and closes), to share with other routers
    mounted beside these. The UI shares the API's store, so it is mounted once the store is
    open: at once with ``opened``, else as the app starts.
    """
    # Imported here, not at the top: ``ordo --help`` must not load FastAPI. The routes'
    # annotations are evaluated where they are made (this module postpones none).
    from fastapi import FastAPI

    service = _Service(clock, lost_after)
    holder = ExitStack()

    if opened is not None:
        service.opened.update(store=opened[0], settings=opened[1])

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        if opened is None:
            store, settings = holder.enter_context(service_store(project, env_file, environ))
            assert store is not None  # created on demand
            service.opened.update(store=store, settings=settings)
            if ui:
                _mount_ui(started, store, settings, clock)
        try:
            yield
        finally:
            holder.close()

    app = FastAPI(
        title="ordo", summary="Jobs, runs and workers of an ordo project", lifespan=lifespan
    )
    install_handlers(app, _LateMasker(service.opened))  # type: ignore[arg-type]

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness: the server answers (no token needed)."""
        return {"status": "ok"}

    _job_routes(app, service)
    _run_routes(app, service)
    _service_routes(app, service, metrics_public=metrics_public)
    if ui:
        _ui_home(app)
        if opened is not None:
            _mount_ui(app, opened[0], opened[1], clock)
    return app


def _ui_home(app: "FastAPI") -> None:
    from fastapi.responses import RedirectResponse

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        """A person who opens the server's address gets the web UI."""
        return RedirectResponse("/ui/", status_code=307)


def _mount_ui(
    app: "FastAPI", store: ServiceStore, settings: "Settings", clock: Callable[[], datetime]
) -> None:
    from ordo.service.ui import router  # deferred: Jinja2 and the templates

    app.include_router(router(store, settings, clock=clock), prefix="/ui")


class _Service:
    """What the routes share: the store and settings (once started), the clock, the auth."""

    def __init__(self, clock: Callable[[], datetime], lost_after: timedelta) -> None:
        self.clock = clock
        self.lost_after = lost_after
        self.opened: dict[str, Any] = {}

    def store(self) -> ServiceStore:
        found: ServiceStore = self.opened["store"]
        return found

    def settings(self) -> "Settings":
        found: Settings = self.opened["settings"]
        return found

    def answer(self, data: Any, status: int = 200) -> "Response":
        return masked_json(data, self.settings().masker(), status)

    def needs(self, needed: Role) -> Any:
        """The dependency that lets in a token of ``needed``'s role or above."""
        from fastapi import Depends, Header, Request

        def check(
            request: Request, authorization: Annotated[str | None, Header()] = None
        ) -> TokenRecord:
            text = (authorization or "").strip()
            scheme, _, token = text.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                _refused(request, "without a bearer token")
                raise ApiError(
                    401,
                    "this needs a token: send Authorization: Bearer <token>",
                    hint="create one with `ordo token create --name NAME --role viewer`",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            found = verify_token(self.store(), token.strip(), now=self.clock())
            if found is None:
                _refused(request, "with a token that is unknown, revoked or expired")
                raise ApiError(
                    401,
                    "the token is unknown, revoked or expired",
                    hint="ask an admin for a new one (`ordo token create`)",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            require_role(found, needed)
            return found

        return Depends(check)


def _job_routes(app: "FastAPI", service: _Service) -> None:
    from fastapi.responses import Response

    viewer, admin, operator = (service.needs(r) for r in (Role.VIEWER, Role.ADMIN, Role.OPERATOR))

    # -- jobs ---------------------------------------------------------------------------------

    @app.post("/jobs", status_code=201, tags=["jobs"], dependencies=[admin])
    def create_job(spec: JobSpec) -> Response:
        """Create a job; 422 naming the field when it cannot run, 409 when the name is taken."""
        job = job_manager.create_job(service.store(), spec, service.settings(), now=service.clock())
        return service.answer(_job(service.store(), job.id, service.clock()), 201)

    @app.get("/jobs", tags=["jobs"], dependencies=[viewer])
    def list_jobs() -> Response:
        """Every job by name, with its next fire time."""
        return service.answer(
            [
                _shown(o.as_dict())
                for o in job_manager.job_overview(service.store(), now=service.clock())
            ]
        )

    @app.get("/jobs/{job_id}", tags=["jobs"], dependencies=[viewer])
    def get_job(job_id: str) -> Response:
        """One job, by id or name."""
        return service.answer(_job(service.store(), _key(job_id), service.clock()))

    @app.put("/jobs/{job_id}", tags=["jobs"], dependencies=[admin])
    def update_job(job_id: str, spec: JobSpec) -> Response:
        """Replace a job's definition."""
        job = job_manager.update_job(
            service.store(), _key(job_id), spec, service.settings(), now=service.clock()
        )
        return service.answer(_job(service.store(), job.id, service.clock()))

    @app.delete("/jobs/{job_id}", status_code=204, tags=["jobs"], dependencies=[admin])
    def delete_job(job_id: str) -> Response:
        """Delete a job that has no runs (409 otherwise: disable it instead)."""
        found = service.store().get_job(_key(job_id))
        service.store().delete_job(found.id)
        return Response(status_code=204)

    @app.post("/jobs/{job_id}/run", status_code=202, tags=["runs"], dependencies=[operator])
    def trigger(job_id: str, body: RunRequest | None = None) -> Response:
        """Queue a run of the job; 202 with the run, ``PENDING`` until a worker claims it."""
        body = body or RunRequest()
        run = trigger_run(
            service.store(),
            _key(job_id),
            service.settings(),
            now=service.clock(),
            trigger=RunTrigger.API,
            params=body.params,
            select=body.select,
        )
        return service.answer(run.as_dict(), 202)


def _run_routes(app: "FastAPI", service: _Service) -> None:
    from fastapi import Query
    from fastapi.responses import PlainTextResponse, Response

    viewer, operator = service.needs(Role.VIEWER), service.needs(Role.OPERATOR)

    # -- runs ---------------------------------------------------------------------------------

    @app.get("/job_runs", tags=["runs"], dependencies=[viewer])
    def list_runs(
        job: Annotated[str | None, Query(description="a job's id or name")] = None,
        status: ServiceRunStatus | None = None,
        since: Annotated[datetime | None, Query(description="requested at or after")] = None,
        until: Annotated[datetime | None, Query(description="requested before")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> Response:
        """Runs, newest first, with the total that match."""
        job_id = None if job is None else service.store().get_job(_key(job)).id
        page = service.store().list_service_runs(
            job_id=job_id, status=status, since=since, until=until, limit=limit, offset=offset
        )
        return service.answer(
            {
                "items": [run.as_dict() for run in page.runs],
                "total": page.total,
                "limit": limit,
                "offset": offset,
            }
        )

    @app.get("/job_runs/{run_id}", tags=["runs"], dependencies=[viewer])
    def get_run(run_id: str) -> Response:
        """One run, with the ids of its tasks."""
        run = service.store().get_service_run(_key(run_id))
        return service.answer(
            {**run.as_dict(), "tasks": [t["id"] for t in _tasks(service.store(), run)]}
        )

    @app.get("/job_runs/{run_id}/tasks", tags=["runs"], dependencies=[viewer])
    def get_tasks(run_id: str) -> Response:
        """The run's steps (of its latest attempt), in plan order."""
        return service.answer(
            _tasks(service.store(), service.store().get_service_run(_key(run_id)))
        )

    @app.get("/tasks/{task_id}", tags=["runs"], dependencies=[viewer])
    def get_task(task_id: str) -> Response:
        """One step of a run."""
        store = service.store()
        base, _, phase = task_id.rpartition("-")
        if phase not in _PHASE_TYPES:
            base, phase = task_id, ""
        found = store.find_task(_key(base))
        if found is None or (phase and not _extract_load(store, found[0])):
            raise ApiError(404, f"no task '{task_id}' of any service run", field="task_id")
        run, task = found
        if not phase:
            return service.answer(_task(task, run))
        [part] = [p for p in _phases(_task(task, run)) if p["id"] == task_id]
        return service.answer(part)

    @app.post("/job_runs/{run_id}/cancel", status_code=202, tags=["runs"], dependencies=[operator])
    def cancel(run_id: str) -> Response:
        """Cancel a run: a pending one at once, a running one at its worker's next heartbeat
        (its current unit rolls back)."""
        return service.answer(
            service.store().request_cancel(_key(run_id), at=service.clock()).as_dict(), 202
        )

    @app.get(
        "/job_runs/{run_id}/log",
        tags=["runs"],
        dependencies=[viewer],
        response_class=PlainTextResponse,
    )
    def get_log(run_id: str) -> PlainTextResponse:
        """The log file of the run's latest attempt, as text."""
        run = service.store().get_service_run(_key(run_id))
        path = _log_file(service.settings().root, run)
        if path is None:
            raise ApiError(
                404,
                f"run {run.id} has no log yet",
                field="run_id",
                hint="a run writes its log once a worker starts it",
            )
        text = path.read_text(encoding="utf-8", errors="replace")
        return PlainTextResponse(service.settings().masker().mask(text))


def _service_routes(app: "FastAPI", service: _Service, *, metrics_public: bool) -> None:
    from fastapi.responses import Response

    viewer = service.needs(Role.VIEWER)

    # -- workers and metrics --------------------------------------------------------------------

    @app.get("/workers", tags=["service"], dependencies=[viewer])
    def list_workers() -> Response:
        """Every worker with its host, pid, state, last heartbeat and current run; one that
        stopped heartbeating is ``lost``."""
        found = service.store().list_workers(now=service.clock(), lost_after=service.lost_after)
        return service.answer([w.as_dict() for w in found])

    def metrics_route() -> Response:
        from ordo.service.metrics import render_metrics  # deferred: prometheus-client

        text, media = render_metrics(
            service.store().queue_figures(now=service.clock(), lost_after=service.lost_after)
        )
        return Response(text, media_type=media)

    app.add_api_route(
        "/metrics",
        metrics_route,
        methods=["GET"],
        tags=["service"],
        dependencies=[] if metrics_public else [viewer],
        summary="Prometheus metrics, from the store",
    )


class _LateMasker:
    """The settings' masker once the app has started (before that, there is nothing to mask)."""

    def __init__(self, opened: dict[str, Any]) -> None:
        self.opened = opened

    def mask(self, text: str) -> str:
        settings = self.opened.get("settings")
        return text if settings is None else str(settings.masker().mask(text))


def _refused(request: "Request", how: str) -> None:
    from ordo.service.tokens import LOGGER

    client = request.client.host if request.client else "unknown"
    LOGGER.warning("refused %s %s from %s %s", request.method, request.url.path, client, how)


def _key(text: str) -> str:
    """An id or name from a path: one no store could hold is simply not found."""
    if "\x00" in text or len(text) > 400:
        raise ApiError(404, "no such id", field="id")
    return text


def _job(store: ServiceStore, key: str, now: datetime) -> dict[str, Any]:
    found = store.get_job(key)
    for overview in job_manager.job_overview(store, now=now):
        if overview.job.id == found.id:
            return _shown(overview.as_dict())
    raise AssertionError("a job just read is listed")  # pragma: no cover


def _shown(job: dict[str, Any]) -> dict[str, Any]:
    """A job as a response shows it: config values under secret-sounding keys hidden."""
    for field in ("extractor_config", "loader_config", "params"):
        if isinstance(job.get(field), dict):
            job[field] = _hide(job[field])
    return job


def _hide(values: Any) -> Any:
    if isinstance(values, dict):
        return {
            k: HIDDEN if _SECRET_KEY.search(str(k)) and isinstance(v, str) else _hide(v)
            for k, v in values.items()
        }
    if isinstance(values, list):
        return [_hide(v) for v in values]
    return values


def _tasks(store: ServiceStore, run: ServiceRun) -> list[dict[str, Any]]:
    if run.ordo_run_id is None:
        return []
    try:
        detail = store.get_run(run.ordo_run_id)
    except RunNotFound:
        return []  # claimed, its process not started yet
    if not _extract_load(store, run):
        return [_task(task, run) for task in detail.tasks]
    return [part for task in detail.tasks for part in _phases(_task(task, run))]


def _extract_load(store: ServiceStore, run: ServiceRun) -> bool:
    try:
        return store.get_job(run.job_id).spec.extractor_type is not None
    except OrdoError:  # the job is gone: its runs read as they were recorded
        return False


_PHASE_TYPES = {"extract": "EXTRACT", "load": "LOAD"}


def _phases(task: dict[str, Any]) -> list[dict[str, Any]]:
    """An extract-load job's one load step as the job scheduler's two tasks, EXTRACT and
    LOAD: ids ``<task>-extract`` and ``<task>-load``, each with its rows and its share of the
    step's time (reading the source and writing the target interleave, batch by batch);
    status, attempts and error are the step's. A step that did not get as far as its
    figures (it failed, or has not ended) is both tasks alike."""
    figures = {p["phase"]: p for p in task["details"].get("phases", ()) if "phase" in p}
    parts = []
    for phase, task_type in _PHASE_TYPES.items():
        found = figures.get(phase, {})
        seconds = found.get("seconds")
        rows = found.get("rows", task["rows_affected"] if phase == "load" else None)
        parts.append(
            {
                **task,
                "id": f"{task['id']}-{phase}",
                "task_type": task_type,
                "rows_affected": rows,
                "duration_ms": None if seconds is None else round(seconds * 1000),
            }
        )
    return parts


def _task(task: TaskRecord, run: ServiceRun) -> dict[str, Any]:
    """A task under the job scheduler's names (``task_type``, ``attempt_count``,
    ``error_message``), with what ordo knows beside them."""

    def iso(moment: datetime | None) -> str | None:
        return None if moment is None else moment.isoformat()

    return {
        "id": task.id,
        "job_run_id": run.id,
        "step": task.step,
        "position": task.position,
        "task_type": task.task_type,
        "status": str(task.status),
        "attempt_count": task.attempt_count,
        "max_attempts": task.max_attempts,
        "error_message": task.error,
        "started_at": iso(task.started_at),
        "completed_at": iso(task.completed_at),
        "unit": task.unit_index,
        "transaction_group": task.transaction_group,
        "rows_affected": task.rows_affected,
        "duration_ms": task.duration_ms,
        "details": dict(task.details),
    }


def _log_file(root: Path, run: ServiceRun) -> Path | None:
    if run.ordo_run_id is None:
        return None
    found = sorted((root / "logs").glob(f"ordo_*_{run.ordo_run_id[:8]}.log"))
    return found[-1] if found else None
