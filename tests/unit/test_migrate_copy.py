"""PostgreSQL ``COPY ... FROM stdin`` with its data inline, as pg_dump writes it: the splitter
keeps the data block (up to the ``\\.`` line) with its COPY, never reading it as SQL."""

from __future__ import annotations

import pytest

from ordo.db.statements import CopyDataUnterminated, split_statements

DUMP = (
    "SET client_encoding = 'UTF8';\n"
    "CREATE TABLE t (a int, b text);\n"
    "\n"
    "COPY public.t (a, b) FROM stdin;\n"
    "1\tit's; not SQL\n"
    "2\t\\N\n"
    '3\ta\\tb -- $$ /* "\n'
    "\\.\n"
    "\n"
    "COPY t FROM STDIN;\n"
    "4\tx\n"
    "\\.\n"
    "ALTER TABLE t ADD COLUMN c int;\n"
)


def test_the_data_block_stays_with_its_copy() -> None:
    statements = split_statements(DUMP, "postgresql")
    assert [(s.number, s.line, s.sql) for s in statements] == [
        (1, 1, "SET client_encoding = 'UTF8'"),
        (2, 2, "CREATE TABLE t (a int, b text)"),
        (3, 4, "COPY public.t (a, b) FROM stdin"),
        (4, 10, "COPY t FROM STDIN"),
        (5, 13, "ALTER TABLE t ADD COLUMN c int"),
    ]
    assert [s.copy_data for s in statements] == [
        None,
        None,
        "1\tit's; not SQL\n2\t\\N\n3\ta\\tb -- $$ /* \"\n",
        "4\tx\n",
        None,
    ]


def test_an_empty_block_and_a_terminator_at_the_end_of_the_file() -> None:
    (empty, last) = split_statements(
        "COPY t (a) FROM stdin;\n\\.\nCOPY t (a) FROM stdin;\r\n1\r\n\\.", "postgresql"
    )
    assert (empty.sql, empty.copy_data) == ("COPY t (a) FROM stdin", "")
    assert (last.line, last.copy_data) == (3, "1\r\n")


def test_copy_from_a_file_or_to_stdout_has_no_data_block() -> None:
    text = "COPY t FROM '/tmp/t.csv';\nCOPY (SELECT a FROM stdin) TO STDOUT;\nSELECT 1;\n"
    statements = split_statements(text, "postgresql")
    assert [s.sql for s in statements] == [
        "COPY t FROM '/tmp/t.csv'",
        "COPY (SELECT a FROM stdin) TO STDOUT",
        "SELECT 1",
    ]
    assert all(s.copy_data is None for s in statements)


def test_a_block_without_its_terminator_is_an_error_naming_the_copy_line() -> None:
    text = "CREATE TABLE t (a int);\nCOPY t (a) FROM stdin;\n1\n2\nALTER TABLE t ADD b int;\n"
    with pytest.raises(CopyDataUnterminated) as caught:
        split_statements(text, "postgresql")
    assert caught.value.line == 2
    assert "COPY t (a) FROM stdin" in caught.value.message
    assert "\\." in caught.value.message


@pytest.mark.parametrize("backend", ["mysql", "sqlite", "duckdb"])
def test_other_backends_have_no_data_blocks(backend: str) -> None:
    statements = split_statements("COPY t FROM stdin;\nSELECT 1;\n", backend)
    assert [s.sql for s in statements] == ["COPY t FROM stdin", "SELECT 1"]
