"""Splitting migration files into statements, per backend, without a database.

The cases marked "sqlparse" are the ones ``sqlparse.split`` (0.5/0.6) gets wrong, which is
why ordo has its own splitter; SQLite's own ``sqlite3.complete_statement`` cross-checks the
SQLite cases.
"""

from __future__ import annotations

import sqlite3

import pytest

from ordo.db.statements import split_statements

SERVER_BACKENDS = ["postgresql", "mysql", "sqlite", "duckdb", "oracle"]


def sqls(text: str, backend: str) -> list[str]:
    return [s.sql for s in split_statements(text, backend)]


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_semicolons_in_strings_names_and_comments_do_not_split(backend: str) -> None:
    text = (
        "-- a comment; with a semicolon\n"
        "INSERT INTO t VALUES ('a;b', 'it''s;');\n"
        '/* block; comment */ SELECT "odd;name" FROM t;\n'
        "SELECT 1"
    )
    assert sqls(text, backend) == [
        "INSERT INTO t VALUES ('a;b', 'it''s;')",
        'SELECT "odd;name" FROM t',
        "SELECT 1",
    ]


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_empty_statements_and_comment_only_tails_are_dropped(backend: str) -> None:
    assert sqls(";;\n  SELECT 1;;\n-- the end\n/* really */\n", backend) == ["SELECT 1"]
    assert sqls("-- nothing here\n", backend) == []


def test_statements_know_their_number_line_and_first_line() -> None:
    text = "-- header\n\nCREATE TABLE a (\n  x INT\n);\r\n\r\nINSERT INTO a\nVALUES (1);\rSELECT 2;"
    statements = split_statements(text, "postgresql")
    assert [(s.number, s.line) for s in statements] == [(1, 3), (2, 7), (3, 9)]
    assert statements[0].first_line == "CREATE TABLE a ("
    assert statements[1].sql == "INSERT INTO a\nVALUES (1)"


def test_a_long_first_line_is_shortened() -> None:
    (statement,) = split_statements("SELECT " + "x, " * 60 + "y", "postgresql")
    assert len(statement.first_line) == 80
    assert statement.first_line.endswith("...")


# -- PostgreSQL / DuckDB ----------------------------------------------------------------


@pytest.mark.parametrize("backend", ["postgresql", "duckdb"])
def test_dollar_quoted_bodies_are_one_statement(backend: str) -> None:
    text = (
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\n"
        "CREATE FUNCTION g() RETURNS int AS $body$ BEGIN PERFORM 'x;$$'; RETURN 1; END; "
        "$body$ LANGUAGE plpgsql;\n"
        "DO $x$ BEGIN IF 1 = 1 THEN RAISE NOTICE 'a;'; END IF; END $x$;\n"
        "SELECT $1, a$b$c FROM t;"
    )
    statements = sqls(text, backend)
    assert len(statements) == 4
    assert statements[1].endswith("$body$ LANGUAGE plpgsql")
    assert statements[3] == "SELECT $1, a$b$c FROM t"


def test_postgresql_string_ending_in_a_backslash() -> None:
    # sqlparse: reads \' as an escaped quote and merges the two statements.
    text = "INSERT INTO t VALUES ('C:\\');\nINSERT INTO t VALUES ('x');"
    assert sqls(text, "postgresql") == [
        "INSERT INTO t VALUES ('C:\\')",
        "INSERT INTO t VALUES ('x')",
    ]


def test_postgresql_escape_strings_honour_backslashes() -> None:
    text = "INSERT INTO t VALUES (E'a\\';b');\nSELECT 2;"
    assert sqls(text, "postgresql") == ["INSERT INTO t VALUES (E'a\\';b')", "SELECT 2"]


def test_postgresql_begin_atomic_body_and_nested_comments() -> None:
    text = (
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n"
        "/* outer /* inner; */ still comment; */ SELECT 3;"
    )
    assert sqls(text, "postgresql") == [
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
        "SELECT 3",
    ]


def test_transaction_begin_is_not_a_block() -> None:
    text = "BEGIN;\nINSERT INTO a VALUES (1);\nCOMMIT;\nBEGIN TRANSACTION; SELECT 1; END;"
    assert sqls(text, "postgresql") == [
        "BEGIN",
        "INSERT INTO a VALUES (1)",
        "COMMIT",
        "BEGIN TRANSACTION",
        "SELECT 1",
        "END",
    ]


@pytest.mark.parametrize("backend", ["postgresql", "mysql", "duckdb"])
def test_case_expressions_keep_their_end(backend: str) -> None:
    text = "SELECT CASE WHEN x > 0 THEN 'a;' ELSE 'b' END AS c FROM t; SELECT 2;"
    assert len(sqls(text, backend)) == 2


# -- MySQL / MariaDB --------------------------------------------------------------------


def test_mysql_procedures_with_nested_blocks() -> None:
    text = (
        "CREATE PROCEDURE p() BEGIN\n"
        "  DECLARE x INT;\n"
        "  SET x = 1;\n"
        "  IF x = 1 THEN SELECT 1; END IF;\n"
        "  WHILE x < 3 DO SET x = x + 1; END WHILE;\n"
        "  REPEAT SET x = x - 1; UNTIL x = 0 END REPEAT;\n"  # sqlparse: splits here
        "  lbl: LOOP LEAVE lbl; END LOOP lbl;\n"
        "  CASE x WHEN 0 THEN SELECT 0; ELSE SELECT 1; END CASE;\n"
        "  BEGIN SELECT 'inner;'; END;\n"
        "END;\n"
        "CALL p();\n"
        "SELECT REPEAT('a', 3);"
    )
    statements = sqls(text, "mysql")
    assert len(statements) == 3
    assert statements[0].startswith("CREATE PROCEDURE p() BEGIN")
    assert statements[0].endswith("END")
    assert statements[1:] == ["CALL p()", "SELECT REPEAT('a', 3)"]


def test_mysql_triggers_and_functions() -> None:
    text = (
        "CREATE TRIGGER tr BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = NEW.x + 1; END;\n"
        "CREATE TRIGGER tr2 BEFORE UPDATE ON a FOR EACH ROW SET NEW.x = 0;\n"
        "CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC "
        "BEGIN RETURN CASE WHEN x > 0 THEN 1 ELSE 0 END; END;\n"
        "BEGIN NOT ATOMIC SELECT 1; END;\n"
        "SELECT f(1);"
    )
    assert len(sqls(text, "mysql")) == 5


def test_mysql_strings_comments_and_executable_comments() -> None:
    text = (
        "INSERT INTO t VALUES ('a\\';b', \"c\\\";d\");\n"
        "# a hash comment; here\n"
        "SELECT 5--3;\n"  # not a comment in MySQL: "--" needs a space after it
        "-- a real comment;\n"
        "/*!40101 SET NAMES utf8mb4 */;\n"
        "SELECT `odd;name` FROM t;"
    )
    assert sqls(text, "mysql") == [
        "INSERT INTO t VALUES ('a\\';b', \"c\\\";d\")",
        "SELECT 5--3",
        "/*!40101 SET NAMES utf8mb4 */",
        "SELECT `odd;name` FROM t",
    ]


def test_mysql_delimiter_lines() -> None:
    text = (
        "DELIMITER //\n"
        "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END //\n"
        "CREATE PROCEDURE q() SELECT 3 //\n"
        "DELIMITER ;\n"
        "CALL p();\n"
        "CALL q();"
    )
    statements = split_statements(text, "mysql")
    assert [s.sql for s in statements] == [
        "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END",
        "CREATE PROCEDURE q() SELECT 3",
        "CALL p()",
        "CALL q()",
    ]
    assert [s.line for s in statements] == [2, 3, 5, 6]


def test_mysql_delimiter_glued_to_end_ends_the_procedure() -> None:
    # Was read as one word "END$$": the procedure swallowed the rest of the file.
    text = (
        "DELIMITER $$\n"
        "CREATE PROCEDURE p() BEGIN SELECT 1; END$$\n"
        "CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END$$\n"
        "DELIMITER ;\n"
        "CALL p();\n"
        "SELECT f();"
    )
    assert sqls(text, "mysql") == [
        "CREATE PROCEDURE p() BEGIN SELECT 1; END",
        "CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END",
        "CALL p()",
        "SELECT f()",
    ]


@pytest.mark.parametrize("delimiter", ["#", "$", "|", "//", "$$"])
def test_mysql_one_character_delimiters_are_delimiters_not_comments(delimiter: str) -> None:
    # "DELIMITER #" used to end at a "#" comment: everything after it was one statement.
    text = (
        "# a hash comment before; still a comment\n"
        f"DELIMITER {delimiter}\n"
        f"CREATE PROCEDURE p() BEGIN SELECT 1; END {delimiter}\n"
        f"CREATE TRIGGER tr BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; END{delimiter}\n"
        "DELIMITER ;\n"
        "# a comment again; after the delimiter is back\n"
        "CALL p();"
    )
    statements = split_statements(text, "mysql")
    assert [s.sql for s in statements] == [
        "CREATE PROCEDURE p() BEGIN SELECT 1; END",
        "CREATE TRIGGER tr BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; END",
        "CALL p()",
    ]
    assert [s.line for s in statements] == [3, 4, 7]


# -- parentheses and BEGIN, on both server syntaxes ---------------------------------------


@pytest.mark.parametrize("backend", ["postgresql", "mysql", "duckdb", "oracle"])
def test_a_semicolon_inside_parentheses_does_not_end_the_statement(backend: str) -> None:
    text = (
        "CREATE RULE r AS ON DELETE TO a DO ALSO (DELETE FROM b; DELETE FROM c);\n"
        "SELECT (1);\n"
        "SELECT ((2));"
    )
    assert sqls(text, backend) == [
        "CREATE RULE r AS ON DELETE TO a DO ALSO (DELETE FROM b; DELETE FROM c)",
        "SELECT (1)",
        "SELECT ((2))",
    ]


@pytest.mark.parametrize("backend", ["postgresql", "mysql", "duckdb", "oracle"])
def test_a_column_named_begin_opens_no_block(backend: str) -> None:
    # Merged the rest of the file into one statement (MariaDB failed on it).
    text = (
        "CREATE TABLE t (begin INT, x INT);\n"
        "INSERT INTO t (begin, x) VALUES (1, 2);\n"
        "UPDATE t SET begin = 2 WHERE t.begin = 1;\n"
        "SELECT begin FROM t;\n"
        "CREATE INDEX t_begin ON t (begin);"
    )
    assert len(sqls(text, backend)) == 5


@pytest.mark.parametrize("backend", ["postgresql", "mysql", "duckdb"])
def test_begin_alone_is_transaction_control(backend: str) -> None:
    text = "BEGIN;\nINSERT INTO a VALUES (1);\nCOMMIT;\nBEGIN WORK;\nSELECT 1;\nCOMMIT WORK;"
    assert len(sqls(text, backend)) == 6


def test_mysql_routine_event_and_labelled_bodies_are_blocks() -> None:
    text = (
        "CREATE DEFINER=`root`@`%` PROCEDURE p(IN begin INT) BEGIN\n"
        "  outer_block: BEGIN SELECT begin; END outer_block;\n"
        "  IF begin > 0 THEN BEGIN SELECT 1; END; END IF;\n"
        "END;\n"
        "CREATE OR REPLACE DEFINER = CURRENT_USER FUNCTION f() RETURNS INT DETERMINISTIC\n"
        "BEGIN DECLARE x INT; SET x = 1; RETURN x; END;\n"
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO\n"
        "BEGIN DELETE FROM t; INSERT INTO t VALUES (1); END;\n"
        "BEGIN NOT ATOMIC SELECT 1; SELECT 2; END;\n"
        "SELECT 3;"
    )
    statements = sqls(text, "mysql")
    assert len(statements) == 5, statements
    assert statements[0].endswith("END IF;\nEND")
    assert statements[-1] == "SELECT 3"


def test_mysql_comments_around_a_routine_begin_keep_the_block() -> None:
    text = (
        "CREATE PROCEDURE p()\n"
        "/* the body */ BEGIN -- starts here; really\n"
        "  SELECT 1;\n"
        "END;\n"
        "CREATE PROCEDURE q() BEGIN # hash comment\n  SELECT 2;\nEND;\n"
        "CREATE PROCEDURE r() BEGIN /* block */\n  SELECT 3;\nEND;\n"
        "CALL p();"
    )
    assert len(sqls(text, "mysql")) == 4


def test_postgresql_begin_atomic_procedure_is_one_statement() -> None:
    text = (
        "CREATE PROCEDURE p(begin int) LANGUAGE sql\n"
        "BEGIN ATOMIC INSERT INTO t VALUES (begin); INSERT INTO t VALUES (begin + 1); END;\n"
        "CALL p(1);"
    )
    assert len(sqls(text, "postgresql")) == 2


# -- SQLite -----------------------------------------------------------------------------


def test_sqlite_triggers_follow_sqlites_own_rule() -> None:
    text = (
        "CREATE TABLE a (x INT);\n"
        "CREATE TRIGGER tr AFTER INSERT ON a BEGIN\n"
        "  INSERT INTO b VALUES (new.x);\n"
        "  UPDATE b SET y = CASE WHEN new.x > 0 THEN 1 ELSE 0 END;\n"
        "END;\n"
        "INSERT INTO a VALUES (1);\n"
        "SELECT [odd;name] FROM a;"
    )
    statements = sqls(text, "sqlite")
    assert len(statements) == 4
    assert statements[1].endswith("END")
    for statement in statements:
        assert sqlite3.complete_statement(statement + ";"), statement


# -- Oracle, SQL Server -----------------------------------------------------------------


def test_oracle_plsql_units_end_at_a_slash_line() -> None:
    text = (
        "CREATE TABLE t (x NUMBER);\n"
        "DECLARE\n  x NUMBER;\nBEGIN\n  x := 1;\nEND;\n/\n"  # sqlparse: splits after x NUMBER;
        "CREATE OR REPLACE PROCEDURE p IS\n  y NUMBER;\nBEGIN\n  NULL;\nEND;\n/\n"
        "SELECT 1 FROM dual;\n"
        "/\n"
    )
    statements = split_statements(text, "oracle")
    assert [s.sql for s in statements] == [
        "CREATE TABLE t (x NUMBER)",
        "DECLARE\n  x NUMBER;\nBEGIN\n  x := 1;\nEND;",
        "CREATE OR REPLACE PROCEDURE p IS\n  y NUMBER;\nBEGIN\n  NULL;\nEND;",
        "SELECT 1 FROM dual",
    ]
    assert [s.line for s in statements] == [1, 2, 8, 14]


def test_oracle_division_is_not_a_slash_line() -> None:
    assert sqls("SELECT 4\n/ 2 FROM dual;", "oracle") == ["SELECT 4\n/ 2 FROM dual"]


def test_sql_server_batches_are_split_on_go_lines_only() -> None:
    text = (
        "CREATE TABLE a (x INT); INSERT INTO a VALUES (1);\n"
        "GO\n"
        "CREATE PROCEDURE p AS BEGIN SELECT 1; SELECT 2; END\n"
        "  go  \n"
        "\n"
        "GO\n"
        "SELECT 'GO' AS going"
    )
    statements = split_statements(text, "mssql")
    assert [s.sql for s in statements] == [
        "CREATE TABLE a (x INT); INSERT INTO a VALUES (1);",
        "CREATE PROCEDURE p AS BEGIN SELECT 1; SELECT 2; END",
        "SELECT 'GO' AS going",
    ]
    assert [s.line for s in statements] == [1, 3, 7]


@pytest.mark.parametrize("backend", ["postgresql", "mysql", "sqlite"])
def test_a_large_data_file_keeps_every_statement_and_line(backend: str) -> None:
    # Lines are counted incrementally: a quadratic count took over a minute on this file.
    text = "".join(
        f"INSERT INTO t VALUES ({i}, 'name {i}', 'a note; with ''quotes''');\n"
        for i in range(15000)
    )
    statements = split_statements(text, backend)
    assert len(statements) == 15000
    assert (statements[-1].number, statements[-1].line) == (15000, 15000)
    assert statements[-1].sql.endswith("'a note; with ''quotes''')")


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_an_unterminated_string_runs_to_the_end(backend: str) -> None:
    # The database reports the syntax error, on the statement that holds it.
    assert sqls("SELECT 1;\nSELECT 'oops;\nSELECT 3;", backend) == [
        "SELECT 1",
        "SELECT 'oops;\nSELECT 3;",
    ]
