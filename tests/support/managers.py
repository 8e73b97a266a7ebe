"""``DatabaseManager`` instances built from seed 001 settings for one test database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL

from ordo.api.database_manager import DatabaseManager
from ordo.config import Settings

PASSWORD = "Hx9-health-pw"  # trust auth: PostgreSQL ignores it, so it is safe to invent


def manager_for(root: Path, url: URL | str, name: str = "t", **settings: str) -> DatabaseManager:
    """A manager for ``url`` called ``name``, with ``{ENV}_GLOBAL_{NAME}_<key>`` settings."""
    if isinstance(url, URL):
        url = url.render_as_string(hide_password=False)
    prefix = f"DEVELOPMENT_GLOBAL_{name.upper()}_"
    environ = {prefix + "CONNECTION_STRING": url}
    environ.update({prefix + key: value for key, value in settings.items()})
    return DatabaseManager(name, settings=Settings.load(root, environ=environ))


def with_password(url: URL) -> URL:
    """``url`` carrying a password when the server ignores it (PostgreSQL's trust auth)."""
    return url.set(password=PASSWORD) if url.get_backend_name() == "postgresql" else url
