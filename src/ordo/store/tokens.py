"""API tokens as the store keeps them: a name, a role, times, and the sha256 of the token.

The token itself is shown once, when it is made (``ordo.service.tokens``), and never kept: a
copy of the store (a backup, a leaked dump) lets nobody in. Looking a token up by its hash
needs no secret comparison: a hash that matches is the token's, and the hash of a guess says
nothing about a real token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from ordo.errors import InvalidInput

__all__ = ["Role", "TokenExists", "TokenRecord", "token_exists", "token_hash"]


class Role(StrEnum):
    """What a token may do; each role may do everything the roles before it may."""

    VIEWER = "viewer"  # read
    OPERATOR = "operator"  # also trigger and cancel runs
    ADMIN = "admin"  # also jobs and tokens

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """True when a token of this role may do what ``needed`` may."""
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}


def token_hash(token: str) -> str:
    """The sha256 of the token's text, as hex: all the store keeps of it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenRecord:
    """A token without its secret: what ``ordo token list`` shows and ``verify`` returns."""

    id: str
    name: str
    role: Role
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def usable_at(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def state_at(self, now: datetime) -> str:
        """``active``, ``revoked`` or ``expired``, as ``ordo token list`` says it."""
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.usable_at(now) else "expired"

    def as_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {
            "name": self.name,
            "role": str(self.role),
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "last_used_at": iso(self.last_used_at),
        }


class TokenExists(InvalidInput):
    """A token (live or revoked) already has the name: names stay unique for the audit."""


def token_exists(name: str) -> TokenExists:
    return TokenExists(
        f"a token named '{name}' exists already (revoked ones keep their names)",
        hint="choose another --name; `ordo token list` shows the names in use",
    )
