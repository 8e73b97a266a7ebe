"""The notifier extension point: one tiny interface, an in-memory fake, and discovery.

A notifier only knows how to deliver one text somewhere (Telegram, a webhook, a file). What to
say and when is decided by ``ordo.notify.notices``; whether a failed delivery matters is decided
there too (it never does: notifications must not break a run). Keeping the interface this small
is what lets a third party add a channel with one class and one entry point.

This module must stay cheap to import (no httpx): the core starts without touching the network
stack, and a notifier module is imported only when discovery finds it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol, cast

from ordo._plugins import plugins
from ordo.errors import ConfigError, OrdoError
from ordo.masking import Masker

__all__ = [
    "ENTRY_POINT_GROUP",
    "MESSAGE_LIMIT",
    "NotificationError",
    "Notifier",
    "NotifierFactory",
    "cut",
    "load_notifiers",
    "utf16_len",
]

ENTRY_POINT_GROUP = "ordo.notifiers"

# Telegram's limit, and a sane ceiling for any chat channel. Telegram counts UTF-16 code units,
# so an emoji outside the Basic Multilingual Plane costs two.
MESSAGE_LIMIT = 4096
_MARKER = "…"

_log = logging.getLogger(__name__)


class NotificationError(OrdoError):
    """A message could not be delivered. Its text is already masked; it never stops a run."""


class Notifier(Protocol):
    """Delivers one text to one channel. ``send`` may raise anything; callers must cope."""

    name: str

    def send(self, text: str) -> None: ...


class NotifierFactory(Protocol):
    """What an ``ordo.notifiers`` entry point names: usually the notifier class itself."""

    def from_settings(self, settings: Mapping[str, str], masker: Masker) -> Notifier | None:
        """Build the notifier from settings, or return None when it is not configured.

        Secret settings (tokens, passwords) must be added to ``masker`` so that nothing the
        notifier or anyone else logs can show them.
        """
        ...


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so 😀 counts 2."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Shorten ``text`` to at most ``limit`` UTF-16 units, ending in "…" when it was cut.

    Never splits a surrogate pair, so the result is always valid text.
    """
    data = text.encode("utf-16-le")
    if len(data) // 2 <= limit:
        return text
    keep = data[: max(limit - utf16_len(_MARKER), 0) * 2]
    if keep and 0xD800 <= int.from_bytes(keep[-2:], "little") <= 0xDBFF:
        keep = keep[:-2]  # a high surrogate whose partner was cut off
    return keep.decode("utf-16-le") + _MARKER


def load_notifiers(settings: Mapping[str, str], masker: Masker) -> list[Notifier]:
    """Every notifier that is installed (entry point group ``ordo.notifiers``) and configured.

    A plugin that cannot even be imported is logged and skipped: an unrelated broken package
    must not stop runs that do not use it. A plugin that is configured wrongly raises
    ``ConfigError``, before anything runs, so the user fixes the setting instead of missing
    messages without knowing.
    """
    notifiers: list[Notifier] = []
    for entry_point in plugins(ENTRY_POINT_GROUP).values():
        try:
            factory = cast(NotifierFactory, entry_point.load())
        except Exception as exc:
            _log.warning(
                "notifier %r could not be loaded, skipped: %s",
                entry_point.name,
                masker.mask(f"{type(exc).__name__}: {exc}"),
            )
            continue
        try:
            notifier = factory.from_settings(settings, masker)
        except OrdoError:
            raise
        except Exception as exc:
            raise ConfigError(
                masker.mask(f"notifier {entry_point.name!r} is misconfigured: {exc}"),
                hint="check its settings in config/.env",
            ) from None
        if notifier is not None:
            notifiers.append(notifier)
    return notifiers
