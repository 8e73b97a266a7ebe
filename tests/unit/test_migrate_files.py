"""Migration files without a database: names, versions, order, Flyway's checksum."""

from __future__ import annotations

import logging
import zlib
from pathlib import Path

import pytest

from ordo.migrations import MigrationFilesInvalid, Version, checksum
from ordo.migrations.files import (
    abbreviate_description,
    abbreviate_script,
    discover,
    parse_name,
    read_migration,
    scan,
)

TWO_LINES = "CREATE TABLE a (x INT);\nINSERT INTO a VALUES (1);\n"
# Computed with Java's BufferedReader.readLine + java.util.zip.CRC32, as Flyway's
# ChecksumCalculator does (a throwaway Java program, outside the test suite).
TWO_LINES_CHECKSUM = -283531311
NON_ASCII = "INSERT INTO t VALUES ('h\u00e9llo \u20ac');\n"
NON_ASCII_CHECKSUM = -213606430


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return folder


# -- versions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown", "parts"),
    [
        ("1", "1", (1,)),
        ("001", "001", (1,)),
        ("1.2", "1.2", (1, 2)),
        ("2_1", "2.1", (2, 1)),
        ("1.10", "1.10", (1, 10)),
        ("2024_01_15", "2024.01.15", (2024, 1, 15)),
    ],
)
def test_versions_parse_into_numbers(text: str, shown: str, parts: tuple[int, ...]) -> None:
    version = Version(text)
    assert version.text == shown
    assert version.parts == parts


def test_versions_order_numerically() -> None:
    texts = ["1.10", "1.9", "2", "1", "10", "1.2", "2_1", "1.0.1"]
    ordered = [v.text for v in sorted(Version(t) for t in texts)]
    assert ordered == ["1", "1.0.1", "1.2", "1.9", "1.10", "2", "2.1", "10"]


def test_leading_and_trailing_zeros_do_not_make_a_new_version() -> None:
    assert Version("001") == Version("1") == Version("1.0") == Version("1_0_0")
    assert len({Version("001"), Version("1"), Version("1.0")}) == 1
    assert Version("1.01") == Version("1.1")


@pytest.mark.parametrize("text", ["", "a", "1.", ".1", "1..2", "1-2", "v1", "1 2"])
def test_malformed_versions_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a version"):
        Version(text)


# -- names ------------------------------------------------------------------------------


def test_names_give_version_and_description() -> None:
    assert parse_name("V001__Create_processed_surveys.sql") == (
        Version("1"),
        "Create processed surveys",
    )
    version, description = parse_name("V2_1__add_index.sql") or (None, "")
    assert version is not None
    assert version.text == "2.1"
    assert description == "add index"
    assert parse_name("R__refresh_views.sql") == (None, "refresh views")
    assert parse_name("V3__upper.SQL") is not None


@pytest.mark.parametrize(
    "name",
    [
        "README.md",
        "schema.sql",
        "notes.txt",
        "Rollback.sql",
        "V1.bak",
        "v2__lower.sql",
        "Views.sql",
        "V.txt",
    ],
)
def test_other_files_are_not_migrations(name: str) -> None:
    # Flyway's prefixes are case-sensitive: v2__lower.sql is no migration there either
    assert parse_name(name) is None


@pytest.mark.parametrize(
    ("name", "version", "description"),
    [
        # Flyway's ResourceNameParser: cut at the first "__"; without one, all is the version
        ("V1__.sql", "1", ""),
        ("V2.sql", "2", ""),
        ("V2.1.sql", "2.1", ""),
        ("V3_1.sql", "3.1", ""),
        ("V4__a__b.sql", "4", "a  b"),
        ("V5___lead.sql", "5", " lead"),
        ("R__.sql", None, ""),
        ("R.sql", None, ""),
    ],
)
def test_names_without_a_description_are_migrations_as_in_flyway(
    name: str, version: str | None, description: str
) -> None:
    parsed = parse_name(name)
    assert parsed is not None
    assert (parsed[0].text if parsed[0] else None, parsed[1]) == (version, description)


@pytest.mark.parametrize(
    "name", ["V1_create.sql", "V1.sql.sql", "V.sql", "R_x.sql", "R1__x.sql", "V_1__x.sql"]
)
def test_misnamed_migrations_are_errors(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid migration name"):
        parse_name(name)


def test_long_descriptions_and_scripts_are_abbreviated_as_flyway_does() -> None:
    assert abbreviate_description("d" * 200) == "d" * 200
    assert abbreviate_description("d" * 201) == "d" * 197 + "..."
    assert len(abbreviate_description("x" * 500)) == 200
    assert abbreviate_script("s" * 1000) == "s" * 1000
    long = "".join(str(i % 10) for i in range(1200))
    assert abbreviate_script(long) == "..." + long[3:1000]
    assert len(abbreviate_script(long)) == 1000


def test_a_migration_records_the_abbreviated_description(tmp_path: Path) -> None:
    words = "_".join(["word"] * 46)  # 229 characters (a file name holds at most 255 bytes)
    path = write(tmp_path / "m", {f"V1__{words}.sql": "SELECT 1;"}) / f"V1__{words}.sql"
    parsed = parse_name(path.name)
    assert parsed is not None
    migration = read_migration(path, *parsed)
    assert migration.description == words.replace("_", " ")
    assert migration.recorded_description == words.replace("_", " ")[:197] + "..."


# -- the folder -------------------------------------------------------------------------


def test_discover_orders_versions_numerically_then_repeatables_by_description(
    tmp_path: Path,
) -> None:
    folder = write(
        tmp_path / "m",
        {
            "R__views.sql": "SELECT 1;",
            "V1.10__ten.sql": "SELECT 10;",
            "V1.9__nine.sql": "SELECT 9;",
            "V2__two.sql": "SELECT 2;",
            "V1__one.sql": "SELECT 1;",
            "R__a_functions.sql": "SELECT 1;",
            "README.md": "not a migration",
        },
    )
    names = [m.script for m in discover(folder)]
    assert names == [
        "V1__one.sql",
        "V1.9__nine.sql",
        "V1.10__ten.sql",
        "V2__two.sql",
        "R__a_functions.sql",
        "R__views.sql",
    ]


def test_subfolders_are_scanned_and_named_by_their_relative_path(tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {"V2__two.sql": "SELECT 2;"})
    write(folder / "base", {"V1__first.sql": "SELECT 1;"})
    write(folder / "base" / "more", {"V3__three.sql": "SELECT 3;", "R__views.sql": "SELECT 4;"})
    write(folder / ".git", {"V9__hidden.sql": "SELECT 9;"})
    found = discover(folder)
    assert [m.script for m in found] == [
        "base/V1__first.sql",
        "V2__two.sql",
        "base/more/V3__three.sql",
        "base/more/R__views.sql",
    ]
    assert found[0].path == folder / "base" / "V1__first.sql"
    assert found[0].description == "first"


def test_one_version_in_two_subfolders_is_a_duplicate(tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {"V1__one.sql": "SELECT 1;"})
    write(folder / "old", {"V1__one.sql": "SELECT 1;", "V2__two.sql": "SELECT 2;"})
    files, problems = scan(folder)
    assert [m.script for m in files] == ["old/V2__two.sql"]
    assert "V1__one.sql, old/V1__one.sql" in problems[0].message


def test_files_that_are_not_migrations_are_ignored_with_a_warning_naming_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write(
        tmp_path / "m",
        {"V1__one.sql": "SELECT 1;", "v2__lower.sql": "SELECT 2;", "notes.txt": "hi"},
    )
    write(folder / "docs", {"README.md": "read me"})
    write(folder, {".gitkeep": ""})
    with caplog.at_level(logging.WARNING, logger="ordo"):
        files, problems = scan(folder)
    assert [m.script for m in files] == ["V1__one.sql"]
    assert problems == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ignored 3 files" in warnings[0]
    assert "docs/README.md, notes.txt, v2__lower.sql" in warnings[0]
    assert ".gitkeep" not in warnings[0]


def test_a_folder_of_migrations_only_logs_no_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write(tmp_path / "m", {"V1__one.sql": "SELECT 1;", "R__views.sql": "SELECT 1;"})
    with caplog.at_level(logging.WARNING, logger="ordo"):
        scan(folder)
    assert not caplog.records


def test_two_files_with_one_version_are_an_error_naming_both(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "m",
        {"V1__first.sql": "SELECT 1;", "V001__second.sql": "SELECT 2;", "V2__ok.sql": "SELECT 3;"},
    )
    with pytest.raises(MigrationFilesInvalid) as caught:
        discover(folder)
    message = str(caught.value)
    assert "V1__first.sql" in message
    assert "V001__second.sql" in message
    assert "same version 1" in message or "same version 001" in message


def test_two_repeatables_with_one_description_are_an_error(tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {"R__my_views.sql": "SELECT 1;", "R__my views.sql": "SELECT 2;"})
    files, problems = scan(folder)
    assert files == []
    assert len(problems) == 1
    assert "R__my_views.sql" in problems[0].message
    assert "R__my views.sql" in problems[0].message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "m",
        {
            "V1_create.sql": "SELECT 1;",
            "V2__latin1.sql": "SELECT '\u00e9';".encode("latin-1"),
            "V3__ok.sql": "SELECT 3;",
        },
    )
    files, problems = scan(folder)
    assert [m.script for m in files] == ["V3__ok.sql"]
    messages = " | ".join(p.message for p in problems)
    assert "V1_create.sql is not a valid migration name" in messages
    assert "V2__latin1.sql is not UTF-8" in messages
    with pytest.raises(MigrationFilesInvalid) as caught:
        discover(folder)
    assert len(caught.value.problems) == 2
    assert all(p.hint for p in caught.value.problems)


def test_a_missing_folder_is_a_problem_with_a_hint(tmp_path: Path) -> None:
    files, problems = scan(tmp_path / "nope")
    assert files == []
    assert "does not exist" in problems[0].message
    assert problems[0].hint


def test_no_transaction_marker_is_read_from_the_first_line_only(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "m",
        {
            "V1__marked.sql": "-- ordo:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n",
            "V2__spaced.sql": "  --   ORDO:no-transaction  \r\nVACUUM;",
            "V3__second_line.sql": "SELECT 1;\n-- ordo:no-transaction\n",
            "V4__plain.sql": "SELECT 1;",
            "V5__bom.sql": "\ufeff-- ordo:no-transaction\nVACUUM;",
        },
    )
    marked = {m.script: m.no_transaction for m in discover(folder)}
    assert marked == {
        "V1__marked.sql": True,
        "V2__spaced.sql": True,
        "V3__second_line.sql": False,
        "V4__plain.sql": False,
        "V5__bom.sql": True,
    }


# -- checksum ---------------------------------------------------------------------------


def test_checksum_of_a_known_file() -> None:
    assert checksum(TWO_LINES) == TWO_LINES_CHECKSUM
    assert checksum(NON_ASCII) == NON_ASCII_CHECKSUM


def test_checksum_follows_flyways_definition() -> None:
    """CRC32 updated with each line's UTF-8 bytes, without line endings, as a signed int."""
    crc = 0
    for line in ["CREATE TABLE a (x INT);", "INSERT INTO a VALUES (1);"]:
        crc = zlib.crc32(line.encode("utf-8"), crc)
    signed = crc - 2**32 if crc >= 2**31 else crc
    assert checksum(TWO_LINES) == signed
    assert -(2**31) <= signed < 2**31


def test_line_endings_and_bom_do_not_change_the_checksum(tmp_path: Path) -> None:
    lf = TWO_LINES
    variants = {
        "V1__lf.sql": lf.encode(),
        "V2__crlf.sql": lf.replace("\n", "\r\n").encode(),
        "V3__cr.sql": lf.replace("\n", "\r").encode(),
        "V4__bom.sql": b"\xef\xbb\xbf" + lf.replace("\n", "\r\n").encode(),
        "V5__no_final_newline.sql": lf.rstrip("\n").encode(),
    }
    folder = write(tmp_path / "m", dict(variants))
    assert {m.checksum for m in discover(folder)} == {TWO_LINES_CHECKSUM}


def test_checksum_changes_when_the_text_does() -> None:
    assert checksum(TWO_LINES.replace("(1)", "(2)")) != TWO_LINES_CHECKSUM
    assert checksum("") == 0


def test_other_line_separators_are_content_not_line_breaks() -> None:
    # Java's readLine splits on \n, \r and \r\n only; str.splitlines would also split here.
    assert checksum("a\x0cb") != checksum("a\nb")
    assert checksum("a\u2028b") != checksum("a\nb")
