"""Seed and collect steps whose files were read ahead (``ordo.api.read_ahead``, as ``ordo run``
does before the rest of the library is imported) load what the files hold when the step gets
to them, also when they changed in between."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine

from ordo import _read_ahead
from ordo.api.read_ahead import read_ahead
from ordo.errors import ManifestInvalid
from tests.support.project import make_project
from tests.support.runs import query, run
from tests.support.workbooks import write_workbook

SEED = """
name: seeds
steps:
  - name: load customers
    file: customers.csv
"""
COLLECT = """
name: collect
steps:
  - name: collect reports
    type: collect
    sources: reports/*.xlsx
    output: out/records.parquet
    columns: {code: string, qty: int}
"""


def csv_of(rows: int, first: int = 0) -> str:
    return "id,code\n" + "".join(f"{i},{i:06d}\n" for i in range(first, first + rows))


def seed_project(tmp_path: Path, text: str) -> Path:
    root = make_project(tmp_path / "project", SEED)
    (root / "seeds").mkdir()
    (root / "seeds" / "customers.csv").write_text(text)
    return root


def customers(root: Path) -> list[tuple[object, ...]]:
    engine = create_engine(f"sqlite:///{root / 'data' / 'test.db'}")
    try:
        return query(engine, "SELECT count(*), min(id), max(code) FROM customers")
    finally:
        engine.dispose()


def nothing_left_unread(root: Path) -> bool:
    """No read of this project's files waits to be taken (other tests' runs may leave
    theirs: a run that fails before its plan takes nothing)."""
    return not [key for key in _read_ahead._READER.started if str(root) in repr(key)]


# 200 rows go the standard library's way; 80,000 (1.1 MB) pyarrow's
@pytest.mark.parametrize("rows", [200, 80_000])
def test_a_seed_read_ahead_loads_what_was_read(tmp_path: Path, rows: int) -> None:
    root = seed_project(tmp_path, csv_of(rows))
    read_ahead(project=root)
    result = run(root)
    assert result.status == "success", [s.error for s in result.steps]
    assert customers(root) == [(rows, 0, f"{rows - 1:06d}")]
    assert nothing_left_unread(root)  # the step took what was read for it


@pytest.mark.parametrize("rows", [200, 80_000])
def test_a_seed_changed_after_the_read_ahead_loads_as_it_is_now(tmp_path: Path, rows: int) -> None:
    root = seed_project(tmp_path, csv_of(rows))
    read_ahead(project=root)
    (root / "seeds" / "customers.csv").write_text(csv_of(rows + 5, first=10))
    result = run(root)
    assert result.status == "success", [s.error for s in result.steps]
    assert customers(root) == [(rows + 5, 10, f"{rows + 14:06d}")]


def test_a_bad_seed_read_ahead_fails_the_plan_as_it_would_have(tmp_path: Path) -> None:
    root = seed_project(tmp_path, "id,code\n1,a\n2,b,c\n")
    read_ahead(project=root)
    with pytest.raises(ManifestInvalid) as raised:
        run(root)
    assert str(raised.value).endswith(
        "seeds/customers.csv:3: step 'load customers': this row has 3 fields, the header has 2"
    )
    assert nothing_left_unread(root)


def collect_project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "project", COLLECT)
    write_workbook(root / "reports" / "a.xlsx", [["code", "qty"], ["00123", 1], ["00456", 2]])
    return root


def test_a_collect_read_ahead_writes_what_was_read(tmp_path: Path) -> None:
    root = collect_project(tmp_path)
    read_ahead(project=root)
    result = run(root)
    assert result.status == "success", [s.error for s in result.steps]
    table = pq.read_table(root / "out" / "records.parquet").to_pylist()
    assert [(r["code"], r["qty"]) for r in table] == [("00123", 1), ("00456", 2)]
    assert nothing_left_unread(root)


def test_a_workbook_changed_after_the_read_ahead_is_read_again(tmp_path: Path) -> None:
    root = collect_project(tmp_path)
    read_ahead(project=root)
    write_workbook(root / "reports" / "a.xlsx", [["code", "qty"], ["00789", 3]])
    result = run(root)
    assert result.status == "success", [s.error for s in result.steps]
    table = pq.read_table(root / "out" / "records.parquet").to_pylist()
    assert [(r["code"], r["qty"]) for r in table] == [("00789", 3)]


def test_an_output_changed_after_the_read_ahead_is_compared_as_it_is_now(tmp_path: Path) -> None:
    """The read compares the workbooks with the output's stored hash: an output written (or
    removed) in between is looked at again, so the step neither skips nor rewrites wrongly."""
    root = collect_project(tmp_path)
    assert run(root).status == "success"
    (root / "queue" / "manifest.yaml").write_text(textwrap.dedent(COLLECT))
    read_ahead(project=root)  # reads, finds the output unchanged
    (root / "out" / "records.parquet").unlink()
    result = run(root)
    assert result.status == "success", [s.error for s in result.steps]
    assert (root / "out" / "records.parquet").exists()


def test_nothing_is_read_ahead_for_a_selection_or_a_bad_manifest(tmp_path: Path) -> None:
    root = seed_project(tmp_path, csv_of(10))
    read_ahead(project=root, select=["load customers"])
    read_ahead(project=root, resume="last")
    assert nothing_left_unread(root)
    (root / "queue" / "manifest.yaml").write_text("steps: [")
    read_ahead(project=root)  # says nothing: the run says what is wrong
    read_ahead(project=tmp_path / "no project here")
    assert nothing_left_unread(root)


def test_a_dry_run_reads_ahead_what_its_plan_reads_and_no_more(tmp_path: Path) -> None:
    """A seed's file is read by the plan: a dry run reads it ahead. A collect step's
    workbooks are read by the step itself, which a dry run never gets to."""

    def files_read(root: Path) -> list[str]:
        started = _read_ahead._READER.started
        return [key[0] for key in started if str(root) in repr(key) and key[0] != "manifest"]

    seeds = seed_project(tmp_path / "s", csv_of(10))
    workbooks = collect_project(tmp_path / "c")
    try:
        read_ahead(project=seeds, plan_only=True)
        assert files_read(seeds) == ["seed"]
        read_ahead(project=workbooks, plan_only=True)
        assert files_read(workbooks) == []
        read_ahead(project=workbooks)
        assert files_read(workbooks) == ["collect"]
    finally:  # nothing of these reads for a later test to find
        for root in (seeds, workbooks):
            for key in [k for k in _read_ahead._READER.started if str(root) in repr(k)]:
                _read_ahead._READER.take(key)


def test_reading_ahead_imports_no_sqlalchemy(tmp_path: Path) -> None:
    """The point of it: the reading starts before SQLAlchemy is imported, and overlaps it."""
    root = collect_project(tmp_path)
    script = (
        "import sys\n"
        "import ordo.cli.app\n"
        "from ordo.api.read_ahead import read_ahead\n"
        f"read_ahead(project={str(root)!r})\n"
        "from ordo import _read_ahead\n"
        "assert _read_ahead._READER.started, 'nothing was started'\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'psycopg')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_run_plans_the_manifest_read_ahead_unless_it_changed(tmp_path: Path) -> None:
    root = seed_project(tmp_path, csv_of(10))
    read_ahead(project=root)
    assert run(root).steps[0].name == "load customers"
    assert nothing_left_unread(root)  # the manifest and the file were both taken
    (root / "queue" / "manifest.yaml").write_text(textwrap.dedent(SEED))
    read_ahead(project=root)
    renamed = textwrap.dedent(SEED).replace("load customers", "load the customers again")
    (root / "queue" / "manifest.yaml").write_text(renamed)
    assert run(root).steps[0].name == "load the customers again"


def test_a_kind_whose_read_ahead_fails_is_left_to_its_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a kind's ``read_ahead`` raises (a plugin's own bug), the run goes on and the
    step reads its files when the plan prepares it."""
    from ordo.kinds.seed import SeedKind

    def broken(*args: object) -> None:
        raise TypeError("a bug in read_ahead")

    monkeypatch.setattr(SeedKind, "read_ahead", broken)
    root = seed_project(tmp_path, csv_of(10))
    read_ahead(project=root)
    assert run(root).status == "success"
    assert customers(root) == [(10, 0, "000009")]
