"""``ordo init --example setup``: the setup workflow on DuckDB, end to end with real dbt.

Clear, a dozen CSV seeds in dependency order, dbt foundation models then configuration
models, checks, and the summary block; ``--select tag:quick`` runs the quick mode; a second
run does everything again (``mark_done: false``); ``ordo status`` counts the seeded tables.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import Runner
from tests.support.dbt import dbt_executable


def test_the_setup_example_runs_complete_then_quick(ordo_process: Runner, tmp_path: Path) -> None:
    root = tmp_path / "setup"
    made = ordo_process("init", "--example", "setup", str(root), cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    assert len(list((root / "seeds").glob("*.csv"))) == 12
    env = {"ORDO_DBT": str(dbt_executable())}

    complete = ordo_process("run", "--yes", cwd=root, env=env)

    said = complete.stdout + complete.stderr
    assert complete.returncode == 0, said
    assert "Overall Status: ✅ SUCCESS" in said
    assert "Steps Completed: 6/6" in said
    for step in ("clear", "seeds", "foundation models", "check foundation",
                 "configuration models", "check facts"):  # fmt: skip
        assert any(line.startswith(f"✅ {step} ") for line in said.splitlines()), step

    quick = ordo_process("run", "--yes", "--select", "tag:quick", cwd=root, env=env)

    said = quick.stdout + quick.stderr
    assert quick.returncode == 0, said
    assert "Steps Completed: 4/4" in said
    assert "dropped=[" in said  # the complete run's models went first
    assert "stg_orders" in said
    assert "configuration models" not in said.split("Overall Status")[1]

    status = ordo_process("status", cwd=root, env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "  default: order_items: 7 rows" in status.stdout
