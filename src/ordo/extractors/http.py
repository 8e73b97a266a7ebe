"""``http`` sources: a JSON API, page after page, each page's records one batch.

``records`` is the dotted path of the array in each response (``data.items``; none: the
body is the array). ``pagination`` says how to ask for the next page: ``page`` (a page
number parameter), ``offset`` (an offset parameter moving by the records received), ``cursor``
(a value from the body sent back as a parameter) or ``next_link`` (a URL from the body, or
the ``Link: <...>; rel="next"`` header). ``${NAME}`` in the URL, a parameter or a header is
the setting ``NAME`` (``config/.env``): its value is a secret, masked in every message.

A 429 or 5xx answer, a timeout and a dropped connection are retried ``max_retries`` times,
waiting ``backoff * 2**n`` seconds (at most ``max_wait``), or what ``Retry-After`` says.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ordo.errors import PermanentError, TransientError
from ordo.extractors._arrow import Batcher, ColumnTypes
from ordo.extractors.base import ExtractorConfig
from ordo.extractors.json import records_at

if TYPE_CHECKING:
    import httpx
    import pyarrow as pa

    from ordo.data.plugins import DataContext, PlanContext
    from ordo.masking import Masker

__all__ = ["HttpConfig", "HttpExtractor", "Pagination"]

_SETTING = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;[^,]*\brel="?next"?', re.I)
_RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})


class Pagination(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["none", "page", "offset", "cursor", "next_link"] = "none"
    param: str | None = None  # the query parameter of the page number, offset or cursor
    start: int | None = None  # the first page number (1) or offset (0)
    size_param: str | None = None  # the parameter of the page size, sent as ``size``
    size: int | None = Field(None, ge=1)
    cursor_path: str | None = None  # cursor: the dotted path of the next cursor in the body
    next_path: str | None = None  # next_link: the dotted path of the next URL (else ``Link``)
    max_pages: int = Field(10_000, ge=1)  # a guard against an API that never says "last"


class HttpConfig(ExtractorConfig):
    url: str
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] | None = None  # a JSON body, for POST
    records: str | None = None
    pagination: Pagination = Pagination()
    column_types: ColumnTypes = Field(default_factory=dict)
    timeout: float = Field(30.0, gt=0)
    max_retries: int = Field(5, ge=0, le=20)
    backoff: float = Field(0.5, ge=0)
    max_wait: float = Field(60.0, ge=0)


class HttpExtractor:
    config_model: ClassVar[type[HttpConfig]] = HttpConfig
    requires: ClassVar[tuple[str, ...]] = ("pyarrow",)

    def __init__(self, config: HttpConfig, plan: PlanContext) -> None:
        self.config = config
        self.sleep: Callable[[float], None] = time.sleep
        pagination = config.pagination
        if pagination.type in ("page", "offset", "cursor") and not pagination.param:
            raise plan.problem(f"{pagination.type} pagination needs 'param'", "pagination.param")
        if pagination.type == "cursor" and not pagination.cursor_path:
            raise plan.problem("cursor pagination needs 'cursor_path'", "pagination.cursor_path")
        self._settings = {}
        texts = [config.url, *map(str, config.params.values()), *config.headers.values()]
        for name in sorted({n for text in texts for n in _SETTING.findall(text)}):
            value = plan.settings.get(name)
            if value is None:
                raise plan.problem(
                    f"the setting {name} (named as ${{{name}}}) is not set",
                    hint=f"set {name} in config/.env or the environment",
                )
            self._settings[name] = value

    def describe(self) -> str:
        return f"http {self.config.method} {_SETTING.sub('***', self.config.url)}"

    def batches(self, ctx: DataContext) -> Iterator[pa.RecordBatch]:
        import httpx

        for name, value in self._settings.items():
            ctx.masker.add(value, name=name)
        config = self.config
        headers = {k: self._filled(v) for k, v in config.headers.items()}
        params: dict[str, Any] = {k: self._filled(str(v)) for k, v in config.params.items()}
        pagination = config.pagination
        if pagination.size_param and pagination.size:
            params[pagination.size_param] = pagination.size
        position = pagination.start
        if position is None:
            position = 1 if pagination.type == "page" else 0
        url: str | None = self._filled(config.url)
        batcher = Batcher(config.column_types, what=self.describe())
        with httpx.Client(timeout=config.timeout, headers=headers) as client:
            for _page in range(pagination.max_pages):
                assert url is not None
                if pagination.type in ("page", "offset") and pagination.param:
                    params[pagination.param] = position
                response = self._get(client, url, params, ctx.masker)
                body = _json(response, self.describe(), ctx.masker)
                records = records_at(body, config.records, self.describe())
                if records or batcher.schema is None:
                    yield batcher.from_records(records)
                url, position = self._next(response, body, records, url, position, params)
                if url is None:
                    return
        raise PermanentError(
            f"{self.describe()}: still a next page after {pagination.max_pages} pages",
            hint="check the pagination settings, or raise pagination.max_pages",
        )

    def _next(
        self,
        response: httpx.Response,
        body: Any,
        records: list[dict[str, Any]],
        url: str,
        position: int,
        params: dict[str, Any],
    ) -> tuple[str | None, int]:
        """The URL of the next page (``None``: this was the last) and the next position."""
        pagination = self.config.pagination
        match pagination.type:
            case "page" | "offset":
                short = pagination.size is not None and len(records) < pagination.size
                if not records or short:
                    return None, position
                step = 1 if pagination.type == "page" else len(records)
                return url, position + step
            case "cursor":
                assert pagination.cursor_path is not None
                assert pagination.param is not None
                cursor = _at(body, pagination.cursor_path)
                if cursor in (None, "") or not records:
                    return None, position
                params[pagination.param] = cursor
                return url, position
            case "next_link":
                params.clear()  # the next link carries its own query
                if pagination.next_path:
                    link = _at(body, pagination.next_path)
                else:
                    found = _LINK_NEXT.search(response.headers.get("link", ""))
                    link = found[1] if found else None
                if not link:
                    return None, position
                return str(response.url.join(str(link))), position
        return None, position

    def _get(
        self, client: httpx.Client, url: str, params: Mapping[str, Any], masker: Masker
    ) -> httpx.Response:
        """One page, retried on 429, 5xx, a timeout or a dropped connection."""
        import httpx

        config = self.config
        for attempt in range(config.max_retries + 1):
            last = attempt == config.max_retries
            try:
                response = client.request(
                    config.method, url, params=dict(params) or None, json=config.body
                )
            except httpx.TransportError as exc:  # refused, reset, dropped, timed out
                if last:
                    raise TransientError(
                        masker.mask(f"{self.describe()}: {type(exc).__name__}: {exc}"),
                        hint=f"tried {config.max_retries + 1} times",
                    ) from None
                self.sleep(self._wait(attempt, None))
                continue
            if response.status_code in _RETRIED_STATUS and not last:
                self.sleep(self._wait(attempt, response.headers.get("retry-after")))
                continue
            if response.status_code >= 400:
                error = (
                    TransientError if response.status_code in _RETRIED_STATUS else PermanentError
                )
                raise error(
                    masker.mask(
                        f"{self.describe()}: HTTP {response.status_code} "
                        f"{response.reason_phrase} from {response.url}"
                    ),
                    hint=f"after {attempt + 1} tries" if attempt else None,
                )
            return response
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        """Seconds before the next try: ``Retry-After`` (seconds or a date), else backoff."""
        config = self.config
        if retry_after:
            try:
                seconds: float = float(retry_after)
            except ValueError:
                try:
                    seconds = parsedate_to_datetime(retry_after).timestamp() - time.time()
                except (TypeError, ValueError):
                    seconds = config.backoff * 2.0**attempt
            return min(max(seconds, 0.0), config.max_wait)
        return min(config.backoff * 2.0**attempt, config.max_wait)

    def _filled(self, text: str) -> str:
        return _SETTING.sub(lambda m: self._settings[m[1]], text)


def _at(document: Any, path: str) -> Any:
    found = document
    for part in path.split("."):
        if not isinstance(found, dict):
            return None
        found = found.get(part)
    return found


def _json(response: httpx.Response, what: str, masker: Masker) -> Any:
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        raise PermanentError(
            masker.mask(f"{what}: the answer from {response.url} is not JSON ({kind})")
        ) from None
