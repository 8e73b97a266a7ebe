"""How the REST API answers when something is wrong: JSON with a message, the field and a hint.

One shape for every error, whoever raised it (FastAPI's own body checks, ordo's exceptions,
an unexpected bug): ``{"message", "field", "hint", "problems": [{"field", "message",
"hint"}]}``. Unknown ids are 404, names taken 409, bad bodies 422, a role too low 403, no
usable token 401, a store out of reach 503. Anything else is a 500 whose body says only that
the server's log has the details: a traceback tells an attacker more than it helps a user.
Every text goes through the settings' masker before it leaves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ordo.errors import InvalidInput, OrdoError
from ordo.masking import Masker
from ordo.service.jobs import JobInvalid
from ordo.service.tokens import NotAllowed
from ordo.store.base import RunNotFound, StoreError
from ordo.store.jobs import JobExists, JobHasRuns, JobNotFound
from ordo.store.queue import ServiceRunNotFound
from ordo.store.tokens import TokenExists

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import Response

__all__ = ["ApiError", "error_body", "install_handlers", "masked_json"]

LOGGER = logging.getLogger("ordo.service")


class ApiError(Exception):
    """An answer other than 2xx, raised by a route: ``status``, a message, the field."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.hint = hint
        self.headers = headers


def error_body(
    message: str,
    *,
    field: str | None = None,
    hint: str | None = None,
    problems: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    found = list(problems or [{"field": field, "message": message, "hint": hint}])
    return {"message": message, "field": field, "hint": hint, "problems": found}


def masked_json(data: Any, masker: Masker, status: int = 200, **kwargs: Any) -> Response:
    """``data`` as JSON with every secret the settings know masked."""
    from fastapi.responses import Response  # deferred: only the server needs it

    text = masker.mask(json.dumps(data, default=str))
    return Response(text, status_code=status, media_type="application/json", **kwargs)


_STATUS: list[tuple[type[Exception], int]] = [
    (JobNotFound, 404),
    (ServiceRunNotFound, 404),
    (RunNotFound, 404),
    (JobExists, 409),
    (JobHasRuns, 409),
    (TokenExists, 409),
    (NotAllowed, 403),
    (JobInvalid, 422),
    (InvalidInput, 422),
    (StoreError, 503),
]


def install_handlers(app: FastAPI, masker: Masker) -> None:
    """Every error the app can meet, answered in the one shape."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return masked_json(body, masker, status, headers=headers)

    async def api_error(_request: Request, exc: Exception) -> Any:
        assert isinstance(exc, ApiError)
        return answer(
            exc.status, error_body(exc.message, field=exc.field, hint=exc.hint), exc.headers
        )

    async def ordo_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, OrdoError)
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        if isinstance(exc, JobInvalid):
            problems = [
                {"field": p.field, "message": p.message, "hint": p.hint} for p in exc.fields
            ]
            first = exc.fields[0]
            body = error_body(first.message, field=first.field, hint=first.hint, problems=problems)
            return answer(status, body)
        if status == 500:
            LOGGER.error("%s %s: %s", request.method, request.url.path, exc.message)
        return answer(status, error_body(exc.message, hint=exc.hint))

    async def invalid_request(_request: Request, exc: Exception) -> Any:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {
                "field": ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body",
                "message": str(error.get("msg", "invalid")).removeprefix("Value error, "),
                "hint": None,
            }
            for error in exc.errors()
        ]
        first = problems[0] if problems else {"field": "body", "message": "invalid request"}
        return answer(
            422, error_body(str(first["message"]), field=str(first["field"]), problems=problems)
        )

    async def http_error(_request: Request, exc: Exception) -> Any:
        assert isinstance(exc, HTTPException)
        return answer(exc.status_code, error_body(str(exc.detail)), getattr(exc, "headers", None))

    async def unexpected(request: Request, exc: Exception) -> Any:
        LOGGER.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return answer(
            500,
            error_body(
                "the server failed to answer this request",
                hint="the server's log has the details; report them to whoever runs it",
            ),
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(OrdoError, ordo_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
