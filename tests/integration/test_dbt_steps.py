"""``dbt`` steps against a real dbt-duckdb project, through ``ordo.run``.

dbt runs from a virtualenv of its own (``tests/support/dbt.py``), found through the
``ORDO_DBT`` setting. One DuckDB file is shared by ordo's own steps and dbt's, as a seed-004
workflow shares ``simulation.duckdb``: ordo must let go of it before dbt starts, and open it
again after.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import ordo
from ordo.errors import ManifestInvalid
from ordo.events import RunStatus, StepFailed, StepOutput, StepSucceeded
from tests.support.dbt import dbt_executable
from tests.support.events import EventRecorder
from tests.support.project import make_project
from tests.support.runs import run

PROFILES = """\
shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('SHOP_DB') }}"
      threads: 1
"""

SCHEMA = """\
version: 2
models:
  - name: orders
    columns:
      - name: id
        data_tests:
          - unique
          - not_null
          - accepted_values:
              arguments: {values: [1, 2]}
              config: {severity: warn}
"""


def _project(tmp_path: Path, manifest: str, models: dict[str, str]) -> Path:
    database = tmp_path / "shop.duckdb"
    env = f"DATABASE_URL=duckdb:///{database}\nSHOP_DB={database}\nORDO_DBT={dbt_executable()}\n"
    root = make_project(tmp_path / "p", manifest, env=env)
    dbt = root / "dbt"
    (dbt / "models").mkdir(parents=True)
    (dbt / "dbt_project.yml").write_text("name: shop\nversion: '1.0'\nprofile: shop\n")
    (dbt / "profiles.yml").write_text(PROFILES)
    for name, text in models.items():
        (dbt / "models" / name).write_text(textwrap.dedent(text))
    return root


def test_a_dbt_build_between_ordo_steps_on_one_duckdb_file(tmp_path: Path) -> None:
    manifest = """\
    name: shop
    steps:
      - name: raw
        sql: CREATE TABLE raw_orders AS SELECT * FROM range(1, 4) t(id)
      - name: models
        type: dbt
        vars: {min_id: "{{ 1 + 0 }}"}
      - name: audit
        type: validate
        checks:
          - {type: row_count, table: orders, min: 3, max: 3}
    """
    models = {
        "orders.sql": "select id from raw_orders where id >= {{ var('min_id') }}",
        "schema.yml": SCHEMA,
    }
    root = _project(tmp_path, manifest, models)
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.SUCCESS, result.error
    said = "\n".join(e.line for e in recorder.of(StepOutput) if e.step == "models")
    assert "Completed with 1 warning" in said  # dbt's own output, streamed into the run
    models_done = next(e for e in recorder.of(StepSucceeded) if e.step == "models")
    nodes = {n["node"]: n["status"] for n in models_done.details["nodes"]}
    assert nodes["model.shop.orders"] == "success"
    assert [s for n, s in nodes.items() if n.startswith("test.shop.unique")] == ["pass"]
    assert [s for n, s in nodes.items() if "accepted_values" in n] == ["warn"]
    [warning] = models_done.warnings  # the warn-severity test that found id 3
    assert "accepted_values" in warning
    audit = next(e for e in recorder.of(StepSucceeded) if e.step == "audit")
    assert audit.details["passed"] == 1  # ordo opened the file again after dbt


def test_a_failing_model_and_a_failing_test_fail_the_step_naming_them(tmp_path: Path) -> None:
    manifest = """\
    name: shop
    steps:
      - name: models
        type: dbt
    """
    models = {
        "orders.sql": "select 1 as id union all select 1",  # unique fails
        "broken.sql": "select nope from (select 1 as id) t",
        "schema.yml": SCHEMA,
    }
    root = _project(tmp_path, manifest, models)
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    [failed] = recorder.of(StepFailed)
    assert failed.error.startswith("dbt build failed: 2 nodes failed: ")
    assert "model.shop.broken: " in failed.error
    assert "test.shop.unique_orders_id" in failed.error
    statuses = {n["node"]: n["status"] for n in failed.details["nodes"]}
    assert statuses["model.shop.broken"] == "error"


def test_a_dbt_step_past_its_timeout_is_killed(tmp_path: Path) -> None:
    manifest = """\
    name: shop
    steps:
      - name: slow
        type: dbt
        command: run
        timeout: 25
    """
    slow = """\
    def model(dbt, session):
        import time
        time.sleep(600)
        return session.sql("select 1 as id")
    """
    root = _project(tmp_path, manifest, {"slow.py": slow})
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    [failed] = recorder.of(StepFailed)
    assert "dbt run ran past its timeout of 25 s and was killed" in failed.error


@pytest.mark.parametrize(
    ("step", "words"),
    [
        ("command: bulid", "'bulid' is not a dbt command (hint: did you mean 'build'?)"),
        ("project_dir: nowhere", "no dbt_project.yml in nowhere"),
    ],
)
def test_a_dbt_step_that_cannot_run_is_refused_at_plan_time(
    tmp_path: Path, step: str, words: str
) -> None:
    manifest = f"name: shop\nsteps:\n  - name: models\n    type: dbt\n    {step}\n"
    root = _project(tmp_path, manifest, {"orders.sql": "select 1 as id"})

    with pytest.raises(ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})

    assert words in str(caught.value.problems[0])


def test_without_dbt_the_plan_says_how_to_install_it(tmp_path: Path) -> None:
    manifest = "name: shop\nsteps:\n  - name: models\n    type: dbt\n"
    root = _project(tmp_path, manifest, {"orders.sql": "select 1 as id"})

    with pytest.raises(ManifestInvalid) as caught:
        ordo.plan(project=root, environ={"ORDO_DBT": str(tmp_path / "no-dbt")})

    problem = caught.value.problems[0]
    assert "ORDO_DBT is" in problem.message
    assert "not a program that can be run" in problem.message
