"""Which state store a project uses: ``ORDO_STATE_URL`` when set, else ``.ordo/state.db``.

``ORDO_STATE_URL`` takes a SQLite URL (a relative path is relative to the project), a
PostgreSQL URL (the store then lives in schema ``ORDO_STATE_SCHEMA``, default ``ordo``), or
``memory://`` for a store that keeps nothing after the process. Another
scheme can be served by a package that registers a factory under the ``ordo.state_stores``
entry point group: ``scheme = "package.module:factory"``, called as
``factory(url, masker=masker)`` and returning a ``StateStore``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ordo._plugins import plugins
from ordo.config import Settings
from ordo.config.url import masked_url, normalize_url, url_secrets
from ordo.errors import ConfigError
from ordo.masking import Masker
from ordo.store.base import StateStore

__all__ = [
    "DEFAULT_STATE_FILE",
    "STATE_SCHEMA_SETTING",
    "STATE_URL_SETTING",
    "open_store",
    "state_location",
]

STATE_URL_SETTING = "ORDO_STATE_URL"
STATE_SCHEMA_SETTING = "ORDO_STATE_SCHEMA"  # PostgreSQL: the schema the store lives in
DEFAULT_STATE_FILE = Path(".ordo") / "state.db"
_ENTRY_POINTS = "ordo.state_stores"


def _memory() -> StateStore:
    # deferred: only the store asked for (its modules are of no use to the others)
    from ordo.store.memory import MemoryStore

    return MemoryStore()


def open_store(settings: Settings, project_root: Path, *, create: bool = True) -> StateStore:
    """Open (and create or migrate, on first use) the project's state store.

    With ``create=False`` a default SQLite store that does not exist yet is not created: an
    empty in-memory store stands in, so reading the history of a project that never ran
    leaves no ``.ordo`` folder behind. Raises ``ConfigError`` for a malformed or unsupported
    ``ORDO_STATE_URL`` and ``StoreError`` (with a hint) when the store cannot be opened.
    """
    text = settings.get(STATE_URL_SETTING)
    masker = _masker(settings, text)
    if text is None:
        path = project_root / DEFAULT_STATE_FILE
        if not create and not path.exists():
            return _memory()
        from ordo.store.sqlite import SqliteStore  # deferred: only the store asked for

        return SqliteStore(path, masker=masker)
    if text.strip().lower() in ("memory", "memory:", "memory://"):
        return _memory()
    url = _parse(text)
    backend = url.get_backend_name()
    if backend in ("sqlite", "postgresql", "postgres"):
        url = normalize_url(url, base_dir=project_root, source=STATE_URL_SETTING)
        if url.get_backend_name() == "sqlite":
            from ordo.store.sqlite import SqliteStore  # deferred: only the store asked for

            database = url.database or ":memory:"
            if not create and database != ":memory:" and not Path(database).exists():
                return _memory()
            return SqliteStore(database, masker=masker)
        from ordo.store.postgresql import PostgresStore  # deferred: only the store asked for

        return PostgresStore(url, masker=masker, schema=settings.get(STATE_SCHEMA_SETTING))
    return _from_entry_point(url, masker)


def state_location(settings: Settings, project_root: Path) -> str:
    """Where the store lives, safe to print (a path, or a URL without its password)."""
    text = settings.get(STATE_URL_SETTING)
    if text is None:
        return str(project_root / DEFAULT_STATE_FILE)

    return masked_url(text)


def _parse(text: str) -> URL:
    try:
        return make_url(text.strip())
    except (ArgumentError, ValueError):
        # The text is not echoed: it may hold a password in a shape we failed to parse.
        raise ConfigError(
            f"{STATE_URL_SETTING} is not a valid URL",
            hint="write it as sqlite:///.ordo/state.db or postgresql://user:password@host/db",
        ) from None


def _masker(settings: Settings, text: str | None) -> Masker:
    """The settings' secrets plus the store URL's password (its key names no secret)."""
    masker = settings.masker()
    if text:
        try:
            for secret in url_secrets(make_url(text.strip())):
                masker.add(secret, name=STATE_URL_SETTING)
        except (ArgumentError, ValueError):
            pass
    return masker


def _from_entry_point(url: URL, masker: Masker) -> StateStore:
    scheme = url.get_backend_name()
    entry = plugins(_ENTRY_POINTS).get(scheme)
    if entry is not None:
        store: StateStore = entry.load()(url, masker=masker)
        return store
    raise ConfigError(
        f"{STATE_URL_SETTING} names '{scheme}', which cannot hold the state store",
        hint="use a sqlite:// or postgresql:// URL, or leave it unset for .ordo/state.db",
    )
