"""The state store in a SQLite file: ``.ordo/state.db`` in the project unless told otherwise.

Made for one machine where a run, ``ordo runs`` in another terminal and a second run of
another manifest all use the file at once:

- WAL mode, so readers never block the writer nor the writer the readers;
- ``synchronous = NORMAL``, which in WAL mode fsyncs at checkpoints rather than at every
  commit: a power cut may lose the last writes, never corrupt the file, and a step's two
  writes cost microseconds instead of two fsyncs;
- writes begin with ``BEGIN IMMEDIATE``, taking the write lock up front, and wait up to the
  busy timeout for it: a deferred transaction that reads and then writes could otherwise fail
  at once with "database is locked" when another process wrote in between;
- a ``.gitignore`` holding ``*`` in a new ``.ordo/`` folder keeps the store out of git.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, create_engine, event
from sqlalchemy.pool import StaticPool

from ordo.masking import Masker
from ordo.store.base import StoreError
from ordo.store.relational import SqlStore
from ordo.store.schema import MIGRATIONS

__all__ = ["DEFAULT_BUSY_TIMEOUT", "SqliteStore"]

DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a writer waits for another process's write


class SqliteStore(SqlStore):
    """``StateStore`` in the SQLite file ``path`` (``:memory:`` for a private one)."""

    begin_write = "BEGIN IMMEDIATE"

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        masker: Masker | None = None,
    ) -> None:
        database = str(path)
        options: dict[str, Any] = {}
        if database == ":memory:":
            options["poolclass"] = StaticPool  # one connection, or each would see its own db
        else:
            try:
                _make_folder(Path(database).parent)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the state store folder {Path(database).parent}: "
                    f"{exc.strerror or exc}",
                    hint="make the project folder writable, or set ORDO_STATE_URL elsewhere",
                ) from exc
        engine = create_engine(
            URL.create("sqlite", database=database),
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
            **options,
        )
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        self.path = Path(database)
        super().__init__(engine, MIGRATIONS / "sqlite", where=database, masker=masker or Masker())


def _make_folder(folder: Path) -> None:
    if folder.exists():
        return
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        if folder.is_dir():
            return  # another process made it at the same moment (and writes the .gitignore)
        raise
    if folder.name == ".ordo":
        (folder / ".gitignore").write_text("*\n", encoding="utf-8")


def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # sqlite3 must not open transactions on its own guesses: _on_begin decides how they begin.
    dbapi_connection.isolation_level = None
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _on_begin(conn: Connection) -> None:
    # Only the migrator's transactions get here (the store begins its own by hand), and
    # they all write.
    if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
