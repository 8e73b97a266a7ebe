"""Every built-in kind, and the fake, passes the kind contract (``ordo.kinds.contract``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordo.kinds import get_kind
from ordo.kinds.contract import KindContract
from ordo.kinds.testing import DetachedEchoKind, EchoKind
from tests.support.dbt import dbt_executable


class TestSqlKind(KindContract):
    kind = get_kind("sql")

    def step(self) -> dict[str, Any]:
        return {"file": "create.sql"}

    def write_files(self, project: Path) -> None:
        (project / "scripts" / "sql" / "create.sql").write_text("CREATE TABLE t (id INTEGER)")


class TestSqlKindInline(KindContract):
    kind = get_kind("sql")

    def step(self) -> dict[str, Any]:
        return {"sql": "SELECT 1", "output_file": "results/one.csv"}

    def missing_file_step(self) -> dict[str, Any]:
        return {"file": "missing.sql"}


class TestPlsqlKind(KindContract):
    kind = get_kind("plsql")

    def step(self) -> dict[str, Any]:
        return {"file": "block.sql"}

    def missing_file_step(self) -> dict[str, Any]:
        return {"file": "no-such-block.sql"}

    def write_files(self, project: Path) -> None:
        (project / "scripts" / "sql" / "block.sql").write_text("SELECT 1;")


class TestPythonKind(KindContract):
    kind = get_kind("python")

    def step(self) -> dict[str, Any]:
        return {"file": "hello.py", "args": ["{{ 1 + 1 }}"]}

    def write_files(self, project: Path) -> None:
        (project / "scripts" / "python" / "hello.py").write_text("print('hello')\n")


class TestMigrateKind(KindContract):
    kind = get_kind("migrate")

    def step(self) -> dict[str, Any]:
        return {}

    def write_files(self, project: Path) -> None:
        folder = project / "core" / "migrations" / "default"
        folder.mkdir(parents=True)
        (folder / "V1__create.sql").write_text("CREATE TABLE t (id INTEGER);\n")


class TestValidateKind(KindContract):
    kind = get_kind("validate")

    def step(self) -> dict[str, Any]:
        return {"checks": [{"type": "sql", "sql": "SELECT 1 WHERE 1 = 0"}]}


class TestDbtKind(KindContract):
    """A real dbt (tests/support/dbt.py) compiles a one-model project on a DuckDB file."""

    kind = get_kind("dbt")

    def step(self) -> dict[str, Any]:
        return {"command": "compile", "timeout": 300}

    def write_files(self, project: Path) -> None:
        with (project / "config" / ".env").open("a") as env:
            env.write(f"ORDO_DBT={dbt_executable()}\nSHOP_DB={project / 'data' / 'shop.duckdb'}\n")
        dbt = project / "dbt"
        (dbt / "models").mkdir(parents=True)
        (dbt / "dbt_project.yml").write_text("name: shop\nversion: '1.0'\nprofile: shop\n")
        (dbt / "profiles.yml").write_text(
            "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
            "      path: \"{{ env_var('SHOP_DB') }}\"\n"
        )
        (dbt / "models" / "one.sql").write_text("select 1 as id\n")


class TestEchoKind(KindContract):
    kind = EchoKind()

    def step(self) -> dict[str, Any]:
        return {"file": "hello.echo", "rows": 2, "details": {"said": "hello"}, "sql": "SELECT 1"}

    def write_files(self, project: Path) -> None:
        (project / "scripts" / "echo" / "hello.echo").write_text("hello\n")


class TestDetachedEchoKind(KindContract):
    kind = DetachedEchoKind()

    def step(self) -> dict[str, Any]:
        return {"message": "hello {{ 'world' }}"}

    def missing_file_step(self) -> dict[str, Any]:
        return {"file": "missing.echo"}
