"""The web UI's pages and forms, as one FastAPI router: parse the request, check who asks,
call the library, render. Nothing else lives here (``views`` reads, ``actions`` acts,
``sessions`` signs).

Pages need a signed-in browser (else they send it to the sign-in page); a fragment asked for
by the page's script answers 401 instead, and the script reloads. Every POST checks the
form's CSRF token first, then the role: a viewer's page has no buttons, and a viewer's
forged form is refused (403) all the same.

No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations at
run time, and they name classes imported inside ``router`` (FastAPI is imported only when a
UI is made, so ``ordo --help`` never loads it).
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from ordo.config import Settings
from ordo.errors import ConfigError, InvalidInput, OrdoError
from ordo.service.tokens import NotAllowed, require_role, verify_token
from ordo.service.ui import actions, views
from ordo.service.ui.sessions import SECRET_SETTING, Session, SessionKeys
from ordo.store.base import RunNotFound
from ordo.store.jobs import JobNotFound
from ordo.store.run_pages import RunPages
from ordo.store.service import ServiceStore
from ordo.store.tokens import Role

if TYPE_CHECKING:
    from fastapi import APIRouter, Request
    from fastapi.responses import Response
    from jinja2 import Environment

__all__ = ["SESSION_COOKIE", "SIGNIN_COOKIE", "router"]

SESSION_COOKIE = "ordo_session"
SIGNIN_COOKIE = "ordo_signin"
STATIC = {"style.css": "text/css", "ui.js": "text/javascript"}
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def router(
    store: ServiceStore,
    settings: Settings,
    *,
    secret: str | bytes | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> "APIRouter":
    """The UI's router, to mount at ``/ui`` (``app.include_router(router(...), prefix="/ui")``).

    ``store`` is the project's service store (``ordo.service.store.service_store``) and
    ``settings`` its settings: their masker masks what pages show, their connections are the
    health page's. ``secret`` signs the sessions (default: the ``ORDO_UI_SECRET`` setting,
    else a random key for this process).
    """
    try:
        from fastapi import APIRouter
    except ImportError:
        raise ConfigError(
            "the web UI needs FastAPI, which is not installed",
            hint="pip install 'ordo[service]'",
        ) from None

    if not isinstance(store, RunPages):
        raise InvalidInput(
            "the web UI needs a SQLite or PostgreSQL state store",
            hint="unset ORDO_STATE_URL (the store is then .ordo/state.db) or set it to a "
            "sqlite:// or postgresql:// URL",
        )
    ctx = _Ui(store, store, settings, secret, clock)
    ui = APIRouter(include_in_schema=False)
    _session_routes(ui, ctx)
    _run_routes(ui, ctx)
    _run_action_routes(ui, ctx)
    _job_routes(ui, ctx)
    _other_routes(ui, ctx)
    return ui


class _Ui:
    """What every page needs: the store, the settings' masker, the keys, the templates."""

    def __init__(
        self,
        store: ServiceStore,
        pages: RunPages,
        settings: Settings,
        secret: str | bytes | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.store, self.pages, self.settings, self.clock = store, pages, settings, clock
        self.keys = SessionKeys(secret if secret is not None else settings.get(SECRET_SETTING))
        self.masker = settings.masker()
        self.templates = _templates()

    def render(
        self,
        request: "Request",
        name: str,
        session: Session | None,
        status_code: int = 200,
        **values: Any,
    ) -> "Response":
        from fastapi.responses import HTMLResponse

        page = self.templates.get_template(name).render(
            url=request.url_for, session=session, request=request, **values
        )
        return HTMLResponse(page, status_code=status_code, headers=_HEADERS)

    def signed_in(self, request: "Request") -> Session | None:
        cookie = request.cookies.get(SESSION_COOKIE)
        return self.keys.read_session(cookie, self.store, now=self.clock())

    def to_signin(self, request: "Request") -> "Response":
        from fastapi.responses import RedirectResponse

        return RedirectResponse(request.url_for("ui_signin"), status_code=303)

    def problem(
        self, request: "Request", session: Session | None, exc: OrdoError, status_code: int
    ) -> "Response":
        return self.render(
            request,
            "problem.html",
            session,
            status_code,
            message=self.masker.mask(exc.message),
            hint=self.masker.mask(exc.hint or ""),
            back=_back(request),
        )

    def checked(self, request: "Request", csrf: str, needed: Role) -> "Session | Response":
        """The session of a POST whose CSRF token and role are right, else the refusal."""
        session = self.signed_in(request)
        if session is None:
            return self.to_signin(request)
        if not self.keys.csrf_ok(session, csrf):
            return self.problem(
                request,
                session,
                InvalidInput(
                    "this form is out of date or did not come from this page",
                    hint="reload the page and try again",
                ),
                403,
            )
        try:
            require_role(session.token, needed)
        except NotAllowed as exc:
            return self.problem(request, session, exc, 403)
        return session


def _session_routes(ui: "APIRouter", ctx: _Ui) -> None:
    from fastapi import Form, Request
    from fastapi.responses import RedirectResponse, Response

    # -- signing in and out -------------------------------------------------------------------

    @ui.get("/", name="ui_home")
    def home(request: Request) -> Response:
        return RedirectResponse(request.url_for("ui_runs"), status_code=303)

    @ui.get("/signin", name="ui_signin")
    def signin_page(request: Request) -> Response:
        return _signin_form(request, None, 200)

    def _signin_form(request: Request, message: str | None, status_code: int) -> Response:
        nonce = ctx.keys.new_signin_nonce()
        response = ctx.render(
            request,
            "signin.html",
            None,
            status_code,
            csrf=ctx.keys.signin_csrf(nonce),
            message=message,
        )
        _cookie(response, request, SIGNIN_COOKIE, nonce, path=_base(request))
        return response

    @ui.post("/signin", name="ui_signin_post")
    def signin(request: Request, token: str = Form(""), csrf: str = Form("")) -> Response:
        if not ctx.keys.signin_ok(request.cookies.get(SIGNIN_COOKIE), csrf):
            return _signin_form(request, "The sign-in form was out of date: try again.", 403)
        given = token.strip()
        record = verify_token(ctx.store, given, now=ctx.clock()) if given else None
        if record is None:
            return _signin_form(
                request,
                "That is not a token this server knows, or it is revoked or expired. "
                "Paste a token made with `ordo token create`.",
                401,
            )
        response = RedirectResponse(request.url_for("ui_runs"), status_code=303)
        _cookie(
            response,
            request,
            SESSION_COOKIE,
            ctx.keys.new_session(given, record, now=ctx.clock()),
            path=_base(request),
        )
        _forget(response, SIGNIN_COOKIE, path=_base(request))
        return response

    @ui.post("/signout", name="ui_signout")
    def signout(request: Request, csrf: str = Form("")) -> Response:
        found = ctx.checked(request, csrf, Role.VIEWER)
        if not isinstance(found, Session):
            return found
        response = RedirectResponse(request.url_for("ui_signin"), status_code=303)
        _forget(response, SESSION_COOKIE, path=_base(request))
        return response


def _run_routes(ui: "APIRouter", ctx: _Ui) -> None:
    from fastapi import Request
    from fastapi.responses import Response

    # -- runs -----------------------------------------------------------------------------------

    def runs_values(request: Request) -> dict[str, Any]:
        query = request.query_params
        try:
            page = int(query.get("page") or 1)
        except ValueError:
            page = 1
        status = query.get("status") or None
        if status not in views.RUN_STATUSES:
            status = None
        shown = views.runs_view(
            ctx.pages,
            ctx.store,
            job=query.get("job") or None,
            status=status,
            page=page,
            now=ctx.clock(),
        )
        return {"runs": shown, "query": _query(shown)}

    @ui.get("/runs", name="ui_runs")
    def runs(request: Request) -> Response:
        session = ctx.signed_in(request)
        if session is None:
            return ctx.to_signin(request)
        return ctx.render(request, "runs.html", session, **runs_values(request))

    @ui.get("/runs/table", name="ui_runs_table")
    def runs_table(request: Request) -> Response:
        session = ctx.signed_in(request)
        if session is None:
            return Response(status_code=401)
        return ctx.render(request, "runs_table.html", session, **runs_values(request))

    def run_values(session: Session, run_id: str) -> tuple[str, dict[str, Any]]:
        """The page of ``run_id``, an ordo run's id or a queued run's: the queued run's own
        page until a worker starts it, then its attempt's."""
        operator = session.token.role.allows(Role.OPERATOR)
        try:
            shown = views.run_view(ctx.store, run_id, ctx.settings, ctx.masker, now=ctx.clock())
        except RunNotFound:
            queued = actions.queued_run(ctx.store, run_id)
            if queued is None:
                raise
            if queued.ordo_run_id is None or queued.ordo_run_id == run_id:
                shown_queued = views.queued_view(queued, ctx.masker)
                return "queued", {"view": shown_queued, "operator": operator}
            return run_values(session, queued.ordo_run_id)
        return "run", {"view": shown, "operator": operator}

    @ui.get("/runs/{run_id}", name="ui_run")
    def run(request: Request, run_id: str) -> Response:
        session = ctx.signed_in(request)
        if session is None:
            return ctx.to_signin(request)
        try:
            page, values = run_values(session, run_id)
        except RunNotFound as exc:
            return ctx.problem(request, session, exc, 404)
        return ctx.render(request, f"{page}.html", session, **values)

    @ui.get("/runs/{run_id}/live", name="ui_run_live")
    def run_live(request: Request, run_id: str) -> Response:
        session = ctx.signed_in(request)
        if session is None:
            return Response(status_code=401)
        try:
            page, values = run_values(session, run_id)
        except RunNotFound:
            return Response(status_code=404)
        return ctx.render(request, f"{page}_live.html", session, **values)


def _run_action_routes(ui: "APIRouter", ctx: _Ui) -> None:
    from fastapi import Form, Request
    from fastapi.responses import RedirectResponse, Response

    # -- a run's buttons ------------------------------------------------------------------------

    def run_action(name: str, act: Callable[..., str]) -> None:
        def handle(request: Request, run_id: str, csrf: str = Form("")) -> Response:
            found = ctx.checked(request, csrf, Role.OPERATOR)
            if not isinstance(found, Session):
                return found
            try:
                target = act(run_id, by=found.token.name)
            except OrdoError as exc:
                return ctx.problem(
                    request, found, exc, 404 if isinstance(exc, RunNotFound) else 409
                )
            return RedirectResponse(request.url_for("ui_run", run_id=target), status_code=303)

        ui.add_api_route(
            f"/runs/{{run_id}}/{name}", handle, methods=["POST"], name=f"ui_run_{name}"
        )

    run_action(
        "cancel",
        lambda run_id, by: actions.cancel_run(ctx.store, run_id, by=by, now=ctx.clock()),
    )
    run_action(
        "resume",
        lambda run_id, by: actions.resume_run(
            ctx.store, run_id, ctx.settings, by=by, now=ctx.clock()
        ),
    )
    run_action(
        "again",
        lambda run_id, by: actions.run_again(
            ctx.store, run_id, ctx.settings, by=by, now=ctx.clock()
        ),
    )


def _job_routes(ui: "APIRouter", ctx: _Ui) -> None:
    from fastapi import Form, Request
    from fastapi.responses import RedirectResponse, Response

    # -- jobs -----------------------------------------------------------------------------------

    @ui.get("/jobs", name="ui_jobs")
    def jobs(request: Request) -> Response:
        session = ctx.signed_in(request)
        if session is None:
            return ctx.to_signin(request)
        return ctx.render(
            request,
            "jobs.html",
            session,
            jobs=views.jobs_view(ctx.store, now=ctx.clock()),
            operator=session.token.role.allows(Role.OPERATOR),
            admin=session.token.role.allows(Role.ADMIN),
        )

    @ui.post("/jobs/{job_id}/trigger", name="ui_job_trigger")
    def trigger(
        request: Request, job_id: str, csrf: str = Form(""), params: str = Form("")
    ) -> Response:
        found = ctx.checked(request, csrf, Role.OPERATOR)
        if not isinstance(found, Session):
            return found
        try:
            job = ctx.store.get_job(job_id)
            made = actions.trigger_job(
                ctx.store,
                job,
                _params(params),
                ctx.settings,
                by=found.token.name,
                now=ctx.clock(),
            )
        except OrdoError as exc:
            return ctx.problem(request, found, exc, 404 if isinstance(exc, JobNotFound) else 409)
        return RedirectResponse(request.url_for("ui_run", run_id=made), status_code=303)

    def enable_action(name: str, enabled: bool) -> None:
        def handle(request: Request, job_id: str, csrf: str = Form("")) -> Response:
            found = ctx.checked(request, csrf, Role.ADMIN)
            if not isinstance(found, Session):
                return found
            try:
                actions.set_job_enabled(ctx.store, job_id, enabled, now=ctx.clock())
            except OrdoError as exc:
                return ctx.problem(
                    request, found, exc, 404 if isinstance(exc, JobNotFound) else 409
                )
            return RedirectResponse(request.url_for("ui_jobs"), status_code=303)

        ui.add_api_route(f"/jobs/{{job_id}}/{name}", handle, methods=["POST"], name=f"ui_{name}")

    enable_action("enable", True)
    enable_action("disable", False)


def _other_routes(ui: "APIRouter", ctx: _Ui) -> None:
    from fastapi import Request
    from fastapi.responses import Response

    # -- workers and health ---------------------------------------------------------------------

    @ui.get("/health", name="ui_health")
    def health(request: Request) -> Response:
        session = ctx.signed_in(request)
        if session is None:
            return ctx.to_signin(request)
        shown = views.health_view(ctx.store, ctx.settings, ctx.masker, now=ctx.clock())
        return ctx.render(request, "health.html", session, view=shown)

    @ui.get("/static/{name}", name="ui_static")
    def static(name: str) -> Response:
        if name not in STATIC:
            return Response(status_code=404)
        data = resources.files("ordo.service.ui").joinpath("static", name).read_bytes()
        return Response(
            data,
            media_type=STATIC[name],
            headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
        )


def _templates() -> "Environment":
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("ordo.service.ui", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["iso"] = lambda moment: "" if moment is None else moment.isoformat()
    environment.globals["status_label"] = views.status_label
    return environment


def _base(request: "Request") -> str:
    return str(request.url_for("ui_home").path).rstrip("/") or "/"


def _cookie(response: "Response", request: "Request", name: str, value: str, *, path: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=path,
    )


def _back(request: "Request") -> str:
    """Where a problem page's Back link goes: the page the form was on, if it is ours."""
    came_from = request.headers.get("referer") or ""
    home = str(request.url_for("ui_home"))
    return came_from if came_from.startswith(home) else str(request.url_for("ui_runs"))


def _forget(response: "Response", name: str, *, path: str) -> None:
    response.delete_cookie(name, path=path, httponly=True, samesite="strict")


def _query(shown: views.RunsView) -> str:
    from urllib.parse import urlencode

    values = {"job": shown.job or "", "status": shown.status or "", "page": str(shown.page)}
    return urlencode({key: value for key, value in values.items() if value})


def _params(text: str) -> Mapping[str, Any]:
    """The trigger form's params: ``name: value`` lines (YAML), or nothing."""
    import yaml

    if not text.strip():
        return {}
    try:
        found = yaml.safe_load(text)
    except yaml.YAMLError:
        found = None
    if not isinstance(found, dict):
        raise InvalidInput(
            "params must be one 'name: value' per line",
            hint="write, for example, region: EU on a line of its own",
        )
    return {str(key): value for key, value in found.items()}
