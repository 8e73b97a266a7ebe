"""Keeps passwords, tokens and connection URLs out of everything ordo writes or says.

A ``Masker`` knows the secret values of the current configuration (passwords, tokens, whole
URLs) and also recognises the shapes secrets take in text it has never seen (credentials in a
URL, a Telegram bot token in an API path), so a driver error that quotes a URL is masked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MASK", "Masker"]

MASK = "***"

# user:password@ inside any scheme://... URL; the password is replaced, the user kept.
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@"
)
# Telegram bot tokens: digits, a colon, 30+ URL-safe characters (also inside /bot<token>/ paths).
_BOT_TOKEN = re.compile(r"(?:(?<=bot)|\b)\d{5,}:[A-Za-z0-9_-]{30,}\b")
# key=value pairs that name a secret, as they appear in DSNs and env dumps.
_SECRET_PAIR = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|pass|token|secret|api_key|apikey)\s*[=:]\s*)(?P<val>[^\s;&,'\"]+)",
    re.IGNORECASE,
)


class Masker:
    """Replaces secrets in text with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Remember a value that must never be shown; short values are ignored as too common."""
        if secret and len(secret) >= 3:
            self._secrets.add(secret)

    def mask(self, text: str) -> str:
        if not text:
            return text
        # Longest first, so a URL is replaced whole before the password inside it.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        if ":" not in text and "=" not in text:
            return text  # every shape below needs one of them: most log lines skip the regexes
        text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
        text = _BOT_TOKEN.sub(MASK, text)
        return _SECRET_PAIR.sub(lambda m: f"{m['key']}{MASK}", text)
