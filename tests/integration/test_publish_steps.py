"""``type: publish`` steps run by the real runner, and ``rollback: {type: restore}``.

The decision matrix of seed 002 end to end: a Restorable step fails, its restore succeeds and
``continue_on_rollback: true`` lets the publish after it run (``partial_success``); its restore
fails and the publish is skipped (``failed``).
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import ordo
from ordo.kinds import get_kind, registered
from ordo.kinds.contract import KindContract
from ordo.kinds.testing import RestorableEchoKind
from tests.support.project import make_project
from tests.support.published import (
    annotations,
    consistency_problems,
    files,
    products,
    write_schemas,
    write_table,
)
from tests.support.xlsx import write_xlsx

PRODUCTS = "database/dynamicDatabase/productRecords.parquet"
MACHINES = "database/staticDatabase/machineInfo.xlsx"
ROOT = "agents/shared_db/DataLoaderAgent"


def write_datasets(root: Path) -> None:
    write_schemas(root / "database" / "databaseSchemas.json")
    write_table(root / PRODUCTS, products(3))
    (root / MACHINES).parent.mkdir(parents=True, exist_ok=True)
    write_xlsx(root / MACHINES, {"Sheet1": [["code", "lines"], ["M1", 2], ["M2", 4]]})


STEP = f"""\
  - name: publish datasets
    type: publish
    schemas: database/databaseSchemas.json
    root: {ROOT}
    datasets:
      productRecords: {{parquet: {PRODUCTS}}}
      machineInfo: {{excel: {MACHINES}, sheet: 0}}
"""


class TestPublishKind(KindContract):
    kind = get_kind("publish")

    def step(self) -> dict[str, Any]:
        return {
            "schemas": "database/databaseSchemas.json",
            "root": ROOT,
            "datasets": {
                "productRecords": {"parquet": PRODUCTS},
                "machineInfo": {"excel": MACHINES, "sheet": 0},
            },
        }

    def write_files(self, project: Path) -> None:
        write_datasets(project)


def project(tmp_path: Path, steps: str) -> Path:
    root = make_project(tmp_path / "p", f"name: datasets\nsteps:\n{steps}")
    write_datasets(root)
    return root


def run(root: Path, fake: RestorableEchoKind | None = None) -> ordo.RunResult:
    with registered(fake) if fake is not None else nullcontext():
        return ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=True))


def problems(root: Path) -> list[str]:
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    return [str(p) for p in caught.value.problems]


def test_a_publish_step_versions_the_datasets_and_records_the_counts(tmp_path: Path) -> None:
    root = project(tmp_path, STEP)
    result = run(root)
    assert result.status == "success"
    listed = annotations(root / ROOT)
    assert list(listed) == ["productRecords", "machineInfo"]
    assert pq.read_table(listed["productRecords"]).num_rows == 3
    detail = ordo.show_run(result.run_id, project=root, environ={})
    [task] = detail.tasks
    assert task.details["total"] == 2
    assert task.details["changed_files"] == 2
    assert [d["status"] for d in task.details["datasets"]] == ["changed", "changed"]
    log = result.log_file.read_text() if result.log_file else ""
    assert "productRecords: changed (productRecords_" in log
    # the second run finds nothing changed: the step succeeds and writes nothing
    second = run(make_project(root, f"name: datasets\nsteps:\n{STEP}"))
    assert second.status == "success"
    assert annotations(root / ROOT) == listed


def test_a_failing_publish_changes_nothing_and_the_report_names_the_dataset(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, STEP)
    assert run(root).status == "success"
    before = files(root / ROOT)
    write_table(root / PRODUCTS, {"id": [1], "item": ["x"], "qty": ["lots"]})
    make_project(root, f"name: datasets\nsteps:\n{STEP}")  # the step is marked done: again
    result = run(root)
    assert result.status == "failed"
    error = result.step("publish datasets").error or ""
    assert "1 dataset of 2 failed, so nothing was published" in error
    assert "column 'qty' is text, the schema says float" in error
    assert files(root / ROOT) == before
    [report] = (root / "notifications").iterdir()
    text = report.read_text()
    assert "Datasets       : 2 total, 1 successful, 1 failed, 0 warnings" in text
    assert "    - productRecords: failed, dataset 'productRecords' does not match" in text
    assert "    - machineInfo: unchanged, machineInfo_" in text


def test_plan_time_problems_name_the_schema_file_the_dataset_and_the_workbook(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, STEP)
    schemas = root / "database" / "databaseSchemas.json"
    schemas.write_text(
        json.dumps({"datasets": {"productRecords": {"columns": {"id": "nmber"}}}}),
        encoding="utf-8",
    )
    [problem] = problems(root)
    assert str(schemas) in problem
    assert "datasets.productRecords.columns.id: 'nmber' is not a column type" in problem
    write_schemas(schemas, {"productRecords": {"id": "int"}})
    [problem] = problems(root)
    assert "'machineInfo' not in database/databaseSchemas.json" in problem
    write_schemas(schemas)
    (root / MACHINES).unlink()
    (root / PRODUCTS).unlink()  # a dynamic source may be missing at plan time: no problem
    [problem] = problems(root)
    assert f"dataset 'machineInfo': {MACHINES} not found" in problem


def test_a_restore_rollback_on_a_kind_that_cannot_restore_is_refused(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "  - name: load\n    sql: SELECT 1\n    rollback: {type: restore}\n",
    )
    [problem] = problems(root)
    assert "step 'load'" in problem
    assert "rollback: type restore: a sql step cannot restore what it wrote" in problem
    assert "the kinds that can: " in problem
    assert "publish" in problem


FAILING_COLLECT = """\
  - name: collect
    type: echo_restorable
    fail: permanent
    rollback: {{type: restore}}
    continue_on_rollback: true
    restore: {restore}
"""


def test_matrix_the_restore_succeeds_and_the_publish_runs_on_the_last_good_data(
    tmp_path: Path,
) -> None:
    echo = RestorableEchoKind()
    root = project(tmp_path, FAILING_COLLECT.format(restore="ok") + STEP)
    result = run(root, echo)
    assert echo.restored == ["collect"]
    assert result.status == "partial_success"
    assert result.step("collect").status == "failed"
    assert result.step("publish datasets").status == "success"
    assert list(annotations(root / ROOT)) == ["productRecords", "machineInfo"]


def test_matrix_the_restore_fails_and_the_publish_is_skipped(tmp_path: Path) -> None:
    echo = RestorableEchoKind()
    root = project(tmp_path, FAILING_COLLECT.format(restore="fail") + STEP)
    result = run(root, echo)
    assert echo.restored == ["collect"]
    assert result.status == "failed"
    assert result.step("publish datasets").status == "skipped"
    assert not (root / ROOT).exists()


def test_a_publish_restore_puts_back_the_last_good_version(tmp_path: Path) -> None:
    root = project(tmp_path, STEP)
    assert run(root).status == "success"
    good = annotations(root / ROOT)["productRecords"]
    write_table(root / PRODUCTS, products(5))
    make_project(root, f"name: datasets\nsteps:\n{STEP}")
    assert run(root).status == "success"
    damaged = Path(annotations(root / ROOT)["productRecords"])
    damaged.write_bytes(damaged.read_bytes()[:100])  # a newest file cut short
    # a failing publish with a restore rollback: the restore finds the damage, puts back
    # the last good version, and the step after it runs
    write_table(root / PRODUCTS, {"id": [1], "item": ["x"], "qty": ["lots"]})
    steps = STEP.replace(
        "    type: publish\n",
        "    type: publish\n    rollback: {type: restore}\n    continue_on_rollback: true\n",
    )
    after = "  - name: after\n    sql: SELECT 1\n"
    make_project(root, f"name: datasets\nsteps:\n{steps}{after}")
    result = run(root)
    assert result.status == "partial_success"
    assert result.step("after").status == "success"
    assert annotations(root / ROOT)["productRecords"] == good
    log = result.log_file.read_text() if result.log_file else ""
    assert f"put back {Path(good).stem}" in log  # the restore says what it did
    [report] = (root / "notifications").iterdir()
    assert "1. [HIGH] ROLLBACK_TO_BACKUP at publish datasets → Status: SUCCESS" in (
        report.read_text()
    )
    assert not damaged.exists()
    assert consistency_problems(root / ROOT) == []


def test_a_publish_restore_with_nothing_good_left_fails(tmp_path: Path) -> None:
    root = project(tmp_path, STEP)
    assert run(root).status == "success"
    newest = Path(annotations(root / ROOT)["productRecords"])
    newest.unlink()
    write_table(root / PRODUCTS, {"id": [1]})
    steps = STEP.replace(
        "    type: publish\n",
        "    type: publish\n    rollback: {type: restore}\n    continue_on_rollback: true\n",
    )
    make_project(root, f"name: datasets\nsteps:\n{steps}  - name: after\n    sql: SELECT 1\n")
    result = run(root)
    assert result.status == "failed"
    assert result.step("after").status == "skipped"


def test_a_root_that_cannot_be_written_fails_the_step_in_words(tmp_path: Path) -> None:
    root = project(tmp_path, STEP)
    (root / "agents" / "shared_db").mkdir(parents=True)
    (root / ROOT).write_text("a file where the root should be")
    result = run(root)
    assert result.status == "failed"
    error = result.step("publish datasets").error or ""
    assert f"cannot write under {ROOT}: " in error
    assert "Traceback" not in error


def test_keep_versions_prunes_on_every_run(tmp_path: Path) -> None:
    root = project(tmp_path, STEP)
    for n in (1, 2, 3, 4):
        write_table(root / PRODUCTS, products(n))
        make_project(root, f"name: datasets\nsteps:\n{STEP}")
        assert run(root).status == "success"
    assert len(files(root / ROOT)["historical_db"]) == 3
    kept = STEP + "    keep_versions: 1\n"
    make_project(root, f"name: datasets\nsteps:\n{kept}")
    result = run(root)  # nothing changed, yet the lower keep_versions applies
    assert result.status == "success"
    assert len(files(root / ROOT)["historical_db"]) == 1
    detail = ordo.show_run(result.run_id, project=root, environ={})
    assert detail.tasks[0].details["pruned"] == 2


def test_a_restore_rollback_takes_no_sql_or_file(tmp_path: Path) -> None:
    steps = STEP.replace(
        "    type: publish\n", "    type: publish\n    rollback: {type: restore, sql: SELECT 1}\n"
    )
    [problem] = problems(project(tmp_path, steps))
    assert "a restore rollback takes no 'file' or 'sql'" in problem
