"""Signed-in browsers: a session cookie that holds no token, and the CSRF tokens of its forms.

A person pastes a token once; what the browser keeps is a cookie with the token's sha256 (what
the store keeps of it anyway, so the cookie adds no secret to the world), a random nonce and
an end time, signed with HMAC-SHA256 under the UI's key. Each request looks the hash up in the
store again, so revoking a token or reaching its expiry signs its sessions out at once, with
nothing to wait out; a cookie that was changed by a single byte is refused.

Every form that changes something carries a CSRF token derived from the session's nonce under
the same key: another site can make a browser send the cookie (SameSite=Strict already stops
that in current browsers) but cannot read a page of ordo to learn the form's token. The
sign-in form has one too, tied to a nonce cookie of its own, so no other site can sign a
browser in under a token of its choosing.

The key is ``ORDO_UI_SECRET`` when set (the same on every replica, and sessions survive a
restart), else random for the process: a restart then signs everyone out, which is safe.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ordo.store.base import utc
from ordo.store.service import ServiceStore
from ordo.store.tokens import TokenRecord, token_hash

__all__ = [
    "SECRET_SETTING",
    "SESSION_LIFETIME",
    "Session",
    "SessionKeys",
]

SECRET_SETTING = "ORDO_UI_SECRET"
SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    """A signed-in browser: whose token it is and the CSRF token its forms carry."""

    token: TokenRecord
    csrf: str
    ends: datetime


class SessionKeys:
    """Makes and reads session cookies and CSRF tokens under one key."""

    def __init__(self, secret: str | bytes | None = None) -> None:
        if secret is None or secret == "":
            key = secrets.token_bytes(32)
        else:
            key = secret.encode("utf-8") if isinstance(secret, str) else secret
        self._key = hashlib.sha256(b"ordo-ui:" + key).digest()

    # -- sessions ---------------------------------------------------------------------------

    def new_session(self, token: str, record: TokenRecord, *, now: datetime) -> str:
        """The cookie value for a browser that just signed in with ``token``: it ends after
        ``SESSION_LIFETIME``, or when the token expires if that is sooner."""
        ends = utc(now) + SESSION_LIFETIME
        if record.expires_at is not None:
            ends = min(ends, record.expires_at)
        body = {"h": token_hash(token), "n": secrets.token_urlsafe(16), "e": ends.timestamp()}
        text = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{text}.{self._sign('session', text)}"

    def read_session(
        self, cookie: str | None, store: ServiceStore, *, now: datetime
    ) -> Session | None:
        """The session of ``cookie``; None when there is none, it was changed, it ended, or
        its token is revoked, expired or gone."""
        if not cookie or cookie.count(".") != 1:
            return None
        text, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign("session", text)):
            return None
        try:
            body = json.loads(_unb64(text))
            hashed, nonce, ends_at = str(body["h"]), str(body["n"]), float(body["e"])
        except (ValueError, KeyError, TypeError):
            return None
        ends = datetime.fromtimestamp(ends_at, tz=utc(now).tzinfo)
        if utc(now) >= ends:
            return None
        record = store.find_token(hashed)
        if record is None or not record.usable_at(utc(now)):
            return None
        return Session(record, self._sign("csrf", nonce), ends)

    # -- CSRF -------------------------------------------------------------------------------

    def csrf_ok(self, session: Session, given: str | None) -> bool:
        """True when ``given`` is the CSRF token of ``session``'s forms."""
        return bool(given) and hmac.compare_digest(str(given), session.csrf)

    @staticmethod
    def new_signin_nonce() -> str:
        """The nonce cookie of a sign-in form."""
        return secrets.token_urlsafe(16)

    def signin_csrf(self, nonce: str) -> str:
        """The CSRF token of the sign-in form shown with ``nonce``."""
        return self._sign("signin", nonce)

    def signin_ok(self, nonce: str | None, given: str | None) -> bool:
        return (
            bool(nonce)
            and bool(given)
            and hmac.compare_digest(str(given), self.signin_csrf(str(nonce)))
        )

    def _sign(self, purpose: str, text: str) -> str:
        mac = hmac.new(self._key, f"{purpose}:{text}".encode(), hashlib.sha256)
        return _b64(mac.digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
