"""A ``load`` step's problems are found when the plan is made, before anything moves."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ordo
from tests.support.project import make_project


def load_project(
    tmp_path: Path,
    source: str = "{type: csv, path: data/in.csv}",
    target: str = "{type: table, table: t}",
    *,
    more: str = "",
    env: str = "DATABASE_URL=sqlite:///data/test.db\n",
) -> Path:
    """A project whose one load step (and ``more`` lines of it) reads ``data/in.csv``."""
    manifest = f"""\
        steps:
          - name: load
            type: load
            source: {source}
            target: {target}
        """
    root = make_project(tmp_path / "p", manifest.rstrip(" ") + more, env=env)
    (root / "data" / "in.csv").write_text("a\n1\n")
    return root


def problems(tmp_path: Path, source: str, target: str = "{type: parquet, path: o.parquet}") -> str:
    root = load_project(tmp_path, source, target)
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    assert not (root / "data" / "test.db").exists()
    return str(caught.value)


def test_unknown_source_type_suggests_the_close_one(tmp_path: Path) -> None:
    text = problems(tmp_path, "{type: cvs, path: data/in.csv}")
    assert "step 'load': source.type: unknown source type 'cvs'" in text
    assert "did you mean 'csv'?" in text


def test_unknown_target_type_lists_the_types(tmp_path: Path) -> None:
    text = problems(tmp_path, "{type: csv, path: data/in.csv}", "{type: parket, path: o}")
    assert "unknown target type 'parket'" in text
    assert "did you mean 'parquet'?" in text


def test_a_config_error_names_its_key_path(tmp_path: Path) -> None:
    text = problems(tmp_path, "{type: csv, path: data/in.csv, delimeter: ';'}")
    assert "source.delimeter: unknown key" in text
    assert "did you mean 'delimiter'?" in text
    text = problems(tmp_path, "{type: csv}")
    assert "source.path: missing required key" in text
    text = problems(tmp_path, "{type: csv, path: data/in.csv, column_types: {a: money}}")
    assert "source.column_types: column 'a': unknown column type 'money'" in text


def test_a_missing_file_or_an_empty_glob_is_a_plan_problem(tmp_path: Path) -> None:
    assert "source.path: file 'data/nope.csv' not found" in problems(
        tmp_path, "{type: csv, path: data/nope.csv}"
    )
    assert "source.path: no file matches 'data/*.tsv'" in problems(
        tmp_path, "{type: csv, path: 'data/*.tsv'}"
    )


BLOCKED = """
import sys
sys.modules["pyarrow"] = None  # as if the data extra were not installed
import ordo
try:
    ordo.plan(project=sys.argv[1], environ={})
except ordo.ManifestInvalid as exc:
    print(exc)
"""


def test_without_pyarrow_a_load_step_fails_at_plan_time_with_the_install_line(
    tmp_path: Path,
) -> None:
    root = load_project(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BLOCKED), str(root)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "a load step needs pyarrow, which is not installed" in done.stdout
    assert "pip install 'ordo[data]'" in done.stdout


def test_on_mariadb_a_table_load_in_a_group_is_refused_for_its_ddl(tmp_path: Path) -> None:
    group = """\
            transaction_group: g
          - name: after
            sql: UPDATE t SET a = 2
            transaction_group: g
        """
    env = "DATABASE_URL=mysql+pymysql://app@127.0.0.1:1/nowhere\n"  # planning connects to none
    root = load_project(tmp_path, more=group, env=env)
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    text = str(caught.value)
    assert "transaction group g holds DDL, which commits on its own" in text
    assert "CREATE, DROP or TRUNCATE TABLE t (the load's target)" in text


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("mssql+pymssql://app@127.0.0.1:1/nowhere", "SQL Server"),
        ("oracle+oracledb://app@127.0.0.1:1/?service_name=nowhere", "Oracle"),
    ],
)
def test_a_merge_where_ordo_cannot_upsert_is_refused_with_what_to_do(
    tmp_path: Path, url: str, database: str
) -> None:
    """Planning connects to no database: the refusal comes from the URL's dialect alone."""
    target = "{type: table, table: t, mode: merge, key: [a]}"
    root = load_project(tmp_path, target=target, env=f"DATABASE_URL={url}\n")
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    text = str(caught.value)
    assert f"target.mode: mode merge is not available on {database} yet" in text
    assert "MERGE it into the target in a sql step" in text


def test_a_sql_source_reads_its_query_from_a_file(tmp_path: Path) -> None:
    root = load_project(tmp_path, "{type: sql, file: queries/missing.sql}")
    with pytest.raises(ordo.ManifestInvalid, match=r"source\.file: file 'queries/missing\.sql'"):
        ordo.plan(project=root, environ={})
    (root / "queries").mkdir()
    (root / "queries" / "missing.sql").write_text("SELECT 1 AS one;\n")
    plan = ordo.plan(project=root, environ={})
    assert "LOAD: load - sql queries/missing.sql -> table t (replace)" in "\n".join(plan.lines())
