"""Oracle (python-oracledb): upper-case folding, catalog-checked drops, ORA- code rules.

Untested live: no Oracle server runs where ordo is developed. The SQL this module produces is
covered by compiled-SQL unit tests; the driver behaviour follows python-oracledb's docs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Executable, TextClause
from sqlalchemy.engine import Dialect as SADialect

from ordo.db.dialects.base import Dialect, ErrorKind, StatementResult, catalog_query, first_line
from ordo.db.dialects.names import NamePart, TableName
from ordo.db.dialects.scripts import ScriptSyntax

__all__ = ["OracleDialect", "strip_sqlplus_terminator"]

_TRANSIENT = frozenset(
    {
        "ORA-00060",  # deadlock detected
        "ORA-08177",  # can't serialize access for this transaction
        "ORA-00054",  # resource busy and acquire with NOWAIT specified or timeout expired
        "ORA-30006",  # resource busy; acquire with WAIT timeout expired
        "ORA-03113",  # end-of-file on communication channel
        "ORA-03114",  # not connected to ORACLE
        "ORA-03135",  # connection lost contact
        "ORA-00018",  # maximum number of sessions exceeded
        "ORA-00020",  # maximum number of processes exceeded
        "ORA-12170",  # TNS: connect timeout occurred
        "ORA-12541",  # TNS: no listener
        "DPY-4011",  # the database or network closed the connection
        "DPY-1001",  # not connected to database
        "DPY-6005",  # cannot connect to database
    }
)
_TIMEOUT = frozenset(
    {
        "ORA-01013",  # user requested cancel of current operation: our cancel()
        "DPY-4024",  # call timeout exceeded (thin mode call_timeout)
        "DPI-1067",  # call timeout exceeded (thick mode call_timeout)
    }
)
_CODE = re.compile(r"\b(ORA|DPY|DPI)-(\d{4,5})\b")

# Statements that are PL/SQL units: their trailing ';' belongs to them.
_PLSQL = re.compile(
    r"(DECLARE|BEGIN|CREATE\s+(OR\s+REPLACE\s+)?((NON)?EDITIONABLE\s+)?"
    r"(PROCEDURE|FUNCTION|PACKAGE|TRIGGER|TYPE|LIBRARY|JAVA))\b",
    re.IGNORECASE,
)
_SCHEMA = "COALESCE(:catalog_schema, SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA'))"
# Tables in the recycle bin, nested tables, IOT overflow segments and the tables holding
# materialized views are left out: none is a table a user made and would drop.
_RELATIONS = f"""
SELECT t.table_name AS name, t.owner AS schema_name, 0 AS is_view FROM all_tables t
WHERE t.owner = {_SCHEMA} AND t.dropped = 'NO' AND t.nested = 'NO' AND t.secondary = 'N'
  AND (t.iot_type IS NULL OR t.iot_type = 'IOT')
  AND NOT EXISTS (
    SELECT 1 FROM all_mviews m WHERE m.owner = t.owner AND m.mview_name = t.table_name)
UNION ALL
SELECT v.view_name, v.owner, 1 FROM all_views v WHERE v.owner = {_SCHEMA}
ORDER BY 1
"""
_DEPENDENCIES = f"""
SELECT c.owner, c.table_name, 0, p.owner, p.table_name, 0, c.constraint_name
FROM all_constraints c
JOIN all_constraints p ON p.owner = c.r_owner AND p.constraint_name = c.r_constraint_name
WHERE c.constraint_type = 'R' AND p.owner = {_SCHEMA}
UNION
SELECT d.owner, d.name, 1, d.referenced_owner, d.referenced_name,
       CASE WHEN d.referenced_type = 'VIEW' THEN 1 ELSE 0 END, NULL
FROM all_dependencies d
WHERE d.type IN ('VIEW', 'MATERIALIZED VIEW') AND d.referenced_type IN ('TABLE', 'VIEW')
  AND d.referenced_owner = {_SCHEMA}
"""
_LEADING_COMMENTS = re.compile(r"\A(\s+|--[^\n]*(\n|\Z)|/\*.*?\*/)*", re.DOTALL)


class OracleDialect(Dialect):
    backend = "oracle"
    upserts = False  # no MERGE yet: see Dialect.upserts
    names = ("oracle",)
    driver_modules = ("oracledb", "cx_Oracle")
    transactional_ddl = False  # DDL commits implicitly, before and after
    ddl_commits_implicitly = True
    implicit_commit_words = Dialect.implicit_commit_words | {
        "COMMENT", "AUDIT", "NOAUDIT", "ANALYZE", "PURGE", "FLASHBACK", "ASSOCIATE", "DISASSOCIATE",
    }  # fmt: skip
    migration_lock = "dbms_lock"
    probe_query = "SELECT 1 FROM DUAL"  # no SELECT without FROM before Oracle 23ai
    connect_timeout_arg = "tcp_connect_timeout"
    script_syntax = ScriptSyntax(slash_lines=True, plsql_units=True)

    @classmethod
    def offline_sa_dialect(cls, name: str) -> SADialect:
        # deferred: only the backend in use
        from sqlalchemy.dialects.oracle.base import OracleDialect as SAOracle

        return SAOracle()

    def limit_rows(self, query: str, count: int) -> str:
        # FETCH FIRST: Oracle 12c and newer, as the rest of this dialect assumes
        return f"SELECT * FROM ({query}) sample_rows FETCH FIRST {int(count)} ROWS ONLY"

    def fold(self, identifier: str) -> str:
        return identifier.upper()

    def drop_table_sql(self, table: TableName) -> str:
        # PURGE: skip the recycle bin, so the name and the space are free at once.
        return f"DROP TABLE {self.quote_table(table)} PURGE"

    def table_exists_query(self, table: TableName) -> Executable:
        """Count the table in ``all_tables`` (look before dropping).

        Without a schema the owner is the session's *current schema*, which is what an
        unqualified ``DROP TABLE`` resolves against (it differs from ``USER`` after
        ``ALTER SESSION SET CURRENT_SCHEMA``).
        """
        all_tables = sa.table("all_tables", sa.column("owner"), sa.column("table_name"))
        owner = (
            sa.literal(self._value(table.schema))
            if table.schema is not None
            else sa.func.sys_context("USERENV", "CURRENT_SCHEMA")
        )
        return (
            sa.select(sa.func.count())
            .select_from(all_tables)
            .where(all_tables.c.owner == owner)
            .where(all_tables.c.table_name == sa.literal(self._value(table.table)))
        )

    def _value(self, part: NamePart) -> str:
        return part.text if part.quoted else self.fold(part.text)

    # The catalog: tables, views and what depends on what

    knows_what_views_read = True  # all_dependencies

    def catalog_relations_query(self, schema: str | None) -> TextClause:
        return catalog_query(_RELATIONS, schema)

    def catalog_dependencies_query(self, schema: str | None) -> TextClause:
        return catalog_query(_DEPENDENCIES, schema)

    def drop_relation_sql(self, table: TableName, *, view: bool) -> str:
        return super().drop_relation_sql(table, view=view) + ("" if view else " PURGE")

    def quote_string(self, value: str) -> str:
        """Doubled quotes. Oracle stores ``''`` as NULL and limits literals to 4000 bytes."""
        return "'" + value.replace("'", "''") + "'"

    def quote_bool(self, value: bool) -> str:
        return "1" if value else "0"  # no SQL BOOLEAN before Oracle 23ai

    def quote_datetime(self, value: dt.datetime) -> str:
        naive = value.replace(tzinfo=None).isoformat(sep=" ")
        offset = value.utcoffset()
        if offset is None:
            return f"TIMESTAMP '{naive}'"
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        hours, minutes = divmod(abs(minutes), 60)
        return f"TIMESTAMP '{naive} {sign}{hours:02d}:{minutes:02d}'"

    def execute(self, conn: Connection, sql: str, *, fetch: bool = True) -> StatementResult:
        """As ``Dialect.execute``, after removing what SQL*Plus would not send to the server."""
        return super().execute(conn, strip_sqlplus_terminator(sql), fetch=fetch)

    def cancel(self, dbapi_connection: Any) -> None:
        # python-oracledb documents Connection.cancel() for use from another thread; the
        # interrupted call fails with ORA-01013 and the connection stays usable.
        dbapi_connection.cancel()

    @classmethod
    def classify(cls, error: BaseException) -> ErrorKind:
        code = _code(error)
        if code in _TIMEOUT:
            return ErrorKind.TIMEOUT
        if code in _TRANSIENT:
            return ErrorKind.TRANSIENT
        detail = error.args[0] if error.args else None
        if getattr(detail, "isrecoverable", False):
            return ErrorKind.TRANSIENT
        return ErrorKind.PERMANENT

    @classmethod
    def describe(cls, error: BaseException) -> str:
        # The first line already starts with the ORA- code; the next is a documentation link.
        return first_line(str(error))

    # Creating and filling tables (seeds, loads)

    type_names = {
        "integer": "NUMBER(19)",
        "decimal": "NUMBER",
        "float": "BINARY_DOUBLE",
        "boolean": "NUMBER(1)",
        "date": "DATE",
        "timestamp": "TIMESTAMP(6)",
        "timestamptz": "TIMESTAMP(6) WITH TIME ZONE",
        "time": "INTERVAL DAY(0) TO SECOND(6)",
        "text": "CLOB",
        "binary": "BLOB",
        "json": "CLOB",
    }
    drop_cascade = "CASCADE CONSTRAINTS"

    def insert_sql(self, table_sql: str, columns_sql: Sequence[str]) -> str:
        """Oracle's markers are numbered: ``:1, :2``."""
        marks = ", ".join(f":{i}" for i in range(1, len(columns_sql) + 1))
        return f"INSERT INTO {table_sql} ({', '.join(columns_sql)}) VALUES ({marks})"

    def table_columns(self, conn: Connection, table: TableName) -> list[tuple[str, str]] | None:
        """From ``all_tab_columns`` (no ``information_schema`` here)."""
        query = sa.text(
            "SELECT column_name, data_type FROM all_tab_columns "
            "WHERE owner = COALESCE(:schema, SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA')) "
            "AND table_name = :table ORDER BY column_id"
        )
        schema = self.stored_name(table.schema) if table.schema else None
        rows = conn.execute(query, {"schema": schema, "table": self.stored_name(table.table)})
        return [(str(name), str(kind)) for name, kind in rows.all()] or None


def strip_sqlplus_terminator(sql: str) -> str:
    """Drop a trailing SQL*Plus ``/`` line, and the ``;`` ending a plain SQL statement.

    Files written for SQL*Plus end statements with ``;`` and PL/SQL blocks with a ``/`` line.
    The server rejects both (ORA-00911/ORA-00933) in a plain statement, while a PL/SQL block
    needs its final ``END;``. So: a ``/`` alone on the last line goes; then a trailing ``;``
    goes unless the statement is PL/SQL (``DECLARE``, ``BEGIN``, ``CREATE ... PROCEDURE`` ...).
    """
    text = sql.rstrip()
    lines = text.splitlines()
    if len(lines) > 1 and lines[-1].strip() == "/":
        text = "\n".join(lines[:-1]).rstrip()
    comments = _LEADING_COMMENTS.match(text)
    body = text[comments.end() :] if comments else text
    if text.endswith(";") and not _PLSQL.match(body):
        text = text[:-1].rstrip()
    return text


def _code(error: BaseException) -> str | None:
    detail = error.args[0] if error.args else None
    full_code = getattr(detail, "full_code", None)
    if isinstance(full_code, str) and full_code:
        return full_code
    match = _CODE.search(str(error))
    return f"{match.group(1)}-{match.group(2)}" if match else None
