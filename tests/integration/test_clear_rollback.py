"""A clear that fails half-way leaves every table as it was, where DDL is transactional.

Through ``ordo.run`` only PostgreSQL has a way to make a real ``DROP`` fail after another one
succeeded (``test_clear_kind.py``); here the second ``DROP`` is made to fail by the dialect,
on every backend, to show that ``clear`` does all its work in the caller's transaction.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect

from ordo.data.clearing import Selection, clear
from ordo.db.dialects import Dialect, TableName


def test_a_failing_drop_rolls_back_the_ones_before(engine: Engine, dialect: Dialect) -> None:
    class Failing(type(dialect)):  # type: ignore[misc]
        def drop_relation_sql(self, table: TableName, *, view: bool) -> str:
            if table.table.text == "stg_b":
                return "DROP TABLE no_such_table_here"
            return super().drop_relation_sql(table, view=view)

    failing = Failing(dialect.sa_dialect)
    with engine.begin() as conn:
        for name in ("stg_a", "stg_b", "stg_c"):
            conn.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER)")
    dropped: list[str] = []
    with engine.connect() as conn:
        transaction = conn.begin()
        with pytest.raises(Exception, match="no_such_table_here"):
            clear(conn, failing, Selection(prefixes=("stg_",)), on_drop=dropped.append)
        transaction.rollback()
    assert dropped == ["dropped table stg_a"]  # the first went, then the second failed
    left = set(inspect(engine).get_table_names())
    if dialect.transactional_ddl:
        assert {"stg_a", "stg_b", "stg_c"} <= left
    else:  # MariaDB: the first DROP committed on its own
        assert {"stg_b", "stg_c"} <= left
        assert "stg_a" not in left
