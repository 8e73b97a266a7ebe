"""Telegram notifier: plain-text messages through the Bot API's ``sendMessage``.

The bot token sits in the request path (``/bot<token>/sendMessage``), so every place a URL can
surface is a place the token can leak: httpx exception messages, httpx's own request log line,
chained tracebacks. This module therefore masks every error it raises, raises them without the
httpx cause attached, and filters httpx's log records. Messages are sent as plain text (no
``parse_mode``) so that an error text full of ``<``, ``*`` or ``_`` can never be rejected as bad
markup, which is exactly when a message matters most.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ordo.masking import Masker
from ordo.notify.base import MESSAGE_LIMIT, NotificationError, Notifier, cut

if TYPE_CHECKING:
    import httpx

__all__ = ["DEFAULT_API_URL", "MAX_RETRY_AFTER", "TelegramNotifier"]

DEFAULT_API_URL = "https://api.telegram.org"
# A 429 asks us to wait; a run is blocked while we do, so never wait longer than this.
MAX_RETRY_AFTER = 60.0
_DEFAULT_RETRY_AFTER = 1.0


class _MaskRecords(logging.Filter):
    """Masks tokens in httpx's "HTTP Request: POST https://.../bot<token>/..." log lines."""

    def __init__(self) -> None:
        super().__init__()
        self.masker = Masker()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.masker.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


# One filter for the process, installed once; every notifier adds its token to it.
_HTTPX_FILTER = _MaskRecords()
logging.getLogger("httpx").addFilter(_HTTPX_FILTER)


class TelegramNotifier:
    """Sends each text to one Telegram chat; raises ``NotificationError`` when it cannot."""

    name = "telegram"

    def __init__(
        self,
        token: str,
        chat_id: str,
        api_url: str = DEFAULT_API_URL,
        timeout: float = 10.0,
        *,
        masker: Masker | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._token = token
        self.chat_id = chat_id
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self._masker = masker if masker is not None else Masker()
        # The API path glues the token to "bot": the masker only masks whole tokens.
        for secret in (token, f"bot{token}"):
            self._masker.add(secret)
            _HTTPX_FILTER.masker.add(secret)
        self._sleep = sleep

    def __repr__(self) -> str:
        # The default repr would be harmless, but a dataclass-style one would show the token.
        return f"TelegramNotifier(chat_id={self.chat_id!r}, api_url={self.api_url!r})"

    @classmethod
    def from_settings(cls, settings: Mapping[str, str], masker: Masker) -> Notifier | None:
        """Configured by ``TELEGRAM_BOT_TOKEN`` and ``TELEGRAM_CHAT_ID``; None without them."""
        token = settings.get("TELEGRAM_BOT_TOKEN", "").strip()
        chat_id = settings.get("TELEGRAM_CHAT_ID", "").strip()
        if not token or not chat_id:
            return None
        api_url = settings.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL
        return cls(token, chat_id, api_url=api_url, masker=masker)

    def send(self, text: str) -> None:
        """Post ``text`` (cut to 4096 UTF-16 units); on a 429, wait as told and try once more."""
        if not text.strip():
            return  # Telegram rejects empty messages; there is nothing to say anyway.
        payload = {"chat_id": self.chat_id, "text": cut(text, MESSAGE_LIMIT)}
        response = self._post(payload)
        if response.status_code == 429:
            self._sleep(self._retry_after(response))
            response = self._post(payload)
        if not response.is_success:
            raise NotificationError(
                self._masker.mask(
                    f"telegram answered {response.status_code}: {self._description(response)}"
                )
            )

    def _post(self, payload: dict[str, str]) -> httpx.Response:
        # Imported here: every run loads this plugin to ask whether it is configured, and
        # httpx costs 30 ms of start-up that a run without Telegram should not pay.
        import httpx

        url = f"{self.api_url}/bot{self._token}/sendMessage"
        try:
            with httpx.Client(timeout=self.timeout) as client:
                return client.post(url, json=payload)
        except httpx.HTTPError as exc:
            # The httpx message and its cause may quote the URL: mask it, drop the cause.
            reason = str(exc) or type(exc).__name__
            raise NotificationError(
                self._masker.mask(f"telegram at {self.api_url} unreachable: {reason}")
            ) from None

    @staticmethod
    def _body(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
        return body if isinstance(body, dict) else {}

    def _retry_after(self, response: httpx.Response) -> float:
        parameters = self._body(response).get("parameters")
        value = parameters.get("retry_after") if isinstance(parameters, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return min(float(value), MAX_RETRY_AFTER)
        return _DEFAULT_RETRY_AFTER

    def _description(self, response: httpx.Response) -> str:
        description = self._body(response).get("description")
        if isinstance(description, str) and description:
            return description
        return cut(response.text.strip(), 200) or response.reason_phrase
