from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Runner = Callable[..., subprocess.CompletedProcess[str]]


def ordo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ordo", *args]


@pytest.fixture
def ordo_cli() -> Runner:
    """Runs the ``ordo`` command in a subprocess, as a user would."""

    def run(
        *args: str,
        cwd: Path,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DB_", "DATABASE_URL", "TELEGRAM_"))
        }
        full_env.update(env or {})
        return subprocess.run(
            ordo_command(*args),
            cwd=cwd,
            input=input,
            env=full_env,
            text=True,
            capture_output=True,
            timeout=timeout,
            check=False,
        )

    return run
