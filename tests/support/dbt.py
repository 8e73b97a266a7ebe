"""A real dbt for the tests, in a virtualenv of its own (as users who install it with pipx).

dbt pins packages that ordo's dev tools cannot share (see ``[tool.uv] conflicts`` in
pyproject.toml), so it is not in the test environment: it is installed once into
``~/.cache/ordo-tests/`` (or ``ORDO_TEST_CACHE``) with the versions below, with uv when it is
on ``PATH`` and pip otherwise, and found by ordo through the ``ORDO_DBT`` setting. A failed
install fails the tests that need it, never skips them. DuckDB is pinned to the test
environment's own version, so both read the same database files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
from filelock import FileLock

__all__ = ["PACKAGES", "dbt_executable"]

PACKAGES = ("dbt-core==1.11.16", "dbt-duckdb==1.11.1", f"duckdb=={duckdb.__version__}")


def dbt_executable() -> Path:
    """The path of ``dbt``, installing it first if this machine has none yet."""
    cache = Path(os.environ.get("ORDO_TEST_CACHE", Path.home() / ".cache" / "ordo-tests"))
    digest = hashlib.sha256(" ".join(PACKAGES).encode()).hexdigest()[:12]
    venv = cache / f"dbt-{digest}"
    dbt = venv / "bin" / "dbt"
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache / f"dbt-{digest}.lock")):  # parallel test runs install it once
        if not (venv / ".complete").is_file():
            _install(venv)
    return dbt


def _install(venv: Path) -> None:
    # Installed where it stays (a virtualenv's scripts name their interpreter by its path),
    # and marked complete last: a half-made one from an interrupted run is made again.
    shutil.rmtree(venv, ignore_errors=True)
    python = venv / "bin" / "python"
    uv = shutil.which("uv")
    if uv is not None:
        commands = [
            [uv, "venv", "-q", "-p", sys.executable, str(venv)],
            [uv, "pip", "install", "-q", "-p", str(python), *PACKAGES],
        ]
    else:
        commands = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(python), "-m", "pip", "install", "-q", *PACKAGES],
        ]
    commands.append([str(python), "-c", "import dbt.cli.main, dbt.adapters.duckdb"])
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"installing dbt failed: {command}\n{done.stdout}{done.stderr}")
    (venv / ".complete").write_text(" ".join(PACKAGES) + "\n")
