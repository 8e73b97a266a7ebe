"""API tokens: made once and shown once, kept only as a hash, checked on every request.

A token is ``ordo_`` and 32 random bytes in URL-safe base64: it says whose it is when found
in a log or a paste, and cannot be guessed. The store keeps its sha256
(``ordo.store.tokens``); ``verify_token`` hashes what a request carries and looks that up, so
revoking a token or reaching its expiry stops it at the next request, with no cache to wait
out. Roles nest: ``viewer`` reads, ``operator`` also triggers and cancels runs, ``admin``
also manages jobs and tokens (``require_role``).
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from ordo.errors import InvalidInput
from ordo.store.base import utc
from ordo.store.service import ServiceStore
from ordo.store.tokens import Role, TokenRecord, token_hash

__all__ = [
    "PREFIX",
    "NewToken",
    "NotAllowed",
    "create_token",
    "parse_expiry",
    "parse_role",
    "require_role",
    "revoke_token",
    "verify_token",
]

LOGGER = logging.getLogger("ordo.service")
PREFIX = "ordo_"
_EXPIRY = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``token`` is its only copy, to show once and then forget."""

    token: str
    record: TokenRecord


class NotAllowed(InvalidInput):
    """The token's role is below what the action needs (the API's 403)."""


def parse_role(text: str) -> Role:
    """``viewer``, ``operator`` or ``admin`` (any case) as a ``Role``."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"'{text}' is not a role", hint="use viewer, operator or admin"
        ) from None


def parse_expiry(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m`` or ``2w`` as a duration."""
    found = _EXPIRY.match(text)
    if found is None or int(found[1]) == 0:
        raise InvalidInput(
            f"'{text}' is not a duration",
            hint="write a number and a unit: 90m, 12h, 30d or 2w",
        )
    return timedelta(**{_UNITS[found[2]]: int(found[1])})


def create_token(
    store: ServiceStore,
    name: str,
    role: Role | str,
    *,
    now: datetime,
    expires: timedelta | str | None = None,
) -> NewToken:
    """Make a token called ``name`` with ``role``, valid until ``now + expires`` (for ever
    without); ``TokenExists`` if a token has the name."""
    name = name.strip()
    if not name:
        raise InvalidInput("give the token a name", hint="--name ci-deploy, say")
    role = parse_role(role) if isinstance(role, str) else role
    if isinstance(expires, str):
        expires = parse_expiry(expires)
    created = utc(now)
    record = TokenRecord(
        id=str(uuid.uuid4()),
        name=name,
        role=role,
        created_at=created,
        expires_at=None if expires is None else created + expires,
    )
    token = PREFIX + secrets.token_urlsafe(32)
    store.add_token(record, token_hash(token))
    return NewToken(token, record)


def verify_token(store: ServiceStore, token: str, *, now: datetime) -> TokenRecord | None:
    """The record of ``token`` if it is usable at ``now`` (and notes its use); None for an
    unknown, revoked or expired token, or for anything that is not an ordo token.

    A refusal is logged (``ordo.service``, warning) with the token's name when it has one,
    never with the token's text: a log is read by more people than hold tokens.
    """
    found = store.find_token(token_hash(token)) if token.startswith(PREFIX) else None
    if found is None:
        LOGGER.warning("refused a token that is not one of this store's")
        return None
    if not found.usable_at(utc(now)):
        LOGGER.warning("refused token '%s': it is %s", found.name, found.state_at(utc(now)))
        return None
    store.token_used(found.id, now)
    return found


def revoke_token(store: ServiceStore, name: str, *, now: datetime) -> None:
    """Revoke the token called ``name`` from ``now`` on; ``InvalidInput`` if none has it."""
    if not store.revoke_token(name.strip(), now):
        raise InvalidInput(
            f"no token named '{name}'", hint="`ordo token list` shows the tokens by name"
        )


def require_role(token: TokenRecord, needed: Role) -> None:
    """``NotAllowed`` unless ``token``'s role may do what ``needed`` may."""
    if not token.role.allows(needed):
        raise NotAllowed(
            f"token '{token.name}' is a {token.role} token; this needs {needed} or above",
            hint="use a token with a higher role, or ask an admin for one",
        )
