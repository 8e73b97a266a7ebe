"""Keeps passwords, tokens and connection URLs out of everything ordo writes or says.

A ``Masker`` knows the secret values of the current configuration (passwords, tokens, whole
URLs) and also recognises the shapes secrets take in text it has never seen (credentials in a
URL, a Telegram bot token in an API path), so a driver error that quotes a URL is masked too.

A known secret is masked where it stands as a whole token, never inside another word: with
the password ``hunter2``, ``hunter2`` and ``pw=hunter2;`` are masked, ``hunter22`` is not.
Every secret becomes the same ``***``, whatever its length. A secret shorter than
``MIN_SECRET_LENGTH`` is not masked as a bare word at all (a warning says so, once per
process): such values are ordinary words and numbers too (``data``, ``test``, ``2024``, a row
count), so masking them would garble ordo's own messages and, worse, point at the password
by showing which words disappear. The shapes below still mask it in a URL or a
``password=...`` pair, where drivers quote it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable

__all__ = ["MASK", "MIN_SECRET_LENGTH", "Masker"]

MASK = "***"
MIN_SECRET_LENGTH = 6

_LOGGER = logging.getLogger("ordo.masking")
_WARNED: set[str] = set()  # the short secrets warned about in this process (hashed)

# user:password@ inside any scheme://... URL; the password is replaced, the user kept.
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@"
)
# Telegram bot tokens: digits, a colon, 30+ URL-safe characters (also inside /bot<token>/ paths).
_BOT_TOKEN = re.compile(r"(?:(?<=bot)|\b)\d{5,}:[A-Za-z0-9_-]{30,}\b")
# key=value pairs that name a secret, as they appear in DSNs and env dumps.
# MySQL's "Access denied ... (using password: YES)" says whether one was given, not what it is.
# Not a bare "pass": dbt's summary "PASS=4 WARN=0" counts tests, and a DSN says "password".
_SECRET_PAIR = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|token|secret|api_key|apikey)\s*[=:]\s*)"
    r"(?!(?:YES|NO)\)(?:\s|$))(?P<val>[^\s;&,'\"]+)",
    re.IGNORECASE,
)
_WORD_CHAR = re.compile(r"\w")


class Masker:
    """Replaces secrets in text with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._ordered: tuple[str, ...] = ()  # longest first: a URL goes before its password
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None, *, name: str | None = None) -> None:
        """Remember a value that must never be shown. ``name`` (a setting's name, never its
        value) goes into the warning for a value too short to mask as a word."""
        if not secret or secret in self._secrets:
            return
        if len(secret) < MIN_SECRET_LENGTH:
            _warn_short(secret, name)
            return
        self._secrets.add(secret)
        self._ordered = tuple(sorted(self._secrets, key=len, reverse=True))
        self._pattern = re.compile("|".join(_whole_token(s) for s in self._ordered))

    def mask(self, text: str) -> str:
        if not text:
            return text
        # ``in`` first, a C substring search per secret (a plain loop: ``any()`` over a
        # generator costs twice as much), so a line holding none of them never meets the regex.
        for secret in self._ordered:
            if secret in text:
                assert self._pattern is not None  # set with the first secret
                text = self._pattern.sub(MASK, text)
                break
        if ":" not in text and "=" not in text:
            return text  # every shape below needs one of them: most log lines skip the regexes
        text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
        text = _BOT_TOKEN.sub(MASK, text)
        return _SECRET_PAIR.sub(lambda m: f"{m['key']}{MASK}", text)


def _whole_token(secret: str) -> str:
    """The secret as a regex that matches it only where no word character touches it: an edge
    that is itself a word character must not continue into a longer word."""
    before = r"(?<!\w)" if _WORD_CHAR.match(secret[0]) else ""
    after = r"(?!\w)" if _WORD_CHAR.match(secret[-1]) else ""
    return f"{before}{re.escape(secret)}{after}"


def _warn_short(secret: str, name: str | None) -> None:
    key = name or hashlib.sha256(secret.encode()).hexdigest()
    if key in _WARNED:
        return
    _WARNED.add(key)
    what = f"the secret in {name}" if name else "a secret"
    _LOGGER.warning(
        "%s is shorter than %d characters, too short to mask safely: it is masked in URLs and "
        "password=... pairs but not as a bare word (it would hide ordinary words and show "
        "which one is the secret); use a longer one",
        what,
        MIN_SECRET_LENGTH,
    )
