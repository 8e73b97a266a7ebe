"""Acceptance: the README's ``./dev demo`` works from a fresh clone on a machine without uv.

Issue 8 found ``./dev demo`` failing at once where uv was not installed (the ``uv()`` shell
function found itself instead of a program). This test is what keeps it fixed: it clones the
checkout the tests run from, makes a throwaway virtualenv with ``python3 -m venv``, and runs
``./dev demo`` with a ``PATH`` of that virtualenv's ``bin`` plus ``/usr/bin:/bin`` (no uv) and
a fresh ``HOME`` (no uv cache). The rest of the environment stays: the machine's certificate
and pip settings are what reach the package registry. It takes about a minute, so there is
only this one; it is never skipped, CI included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PATH = "/usr/bin:/bin"
# Variables that would point the clone at this checkout's environment or uv cache.
DROPPED = ("VIRTUAL_ENV", "UV_CACHE_DIR", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME")


def _environment(venv: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env["PATH"] = f"{venv / 'bin'}:{SYSTEM_PATH}"
    env["HOME"] = str(home)
    env.pop("XDG_CACHE_HOME", None)
    return env


@pytest.mark.timeout(900)
def test_dev_demo_from_a_fresh_clone_without_uv(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    python3 = shutil.which("python3", path=SYSTEM_PATH)
    assert python3 is not None, "the machine has no python3 in /usr/bin:/bin"
    venv = tmp_path / "venv"
    subprocess.run([python3, "-m", "venv", str(venv)], check=True)
    home = tmp_path / "home"
    home.mkdir()
    env = _environment(venv, home)
    assert shutil.which("uv", path=env["PATH"]) is None, "uv is installed system-wide"

    done = subprocess.run(
        ["./dev", "demo"],
        cwd=clone,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=840,
    )

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "command not found" not in output
    assert "Execution plan for 'demo'" in done.stdout
    assert "results/sales_by_region.csv:" in done.stdout  # the demo's report, printed
    assert "region,sales,total" in done.stdout
    manifest = (clone / ".demo" / "queue" / "manifest.yaml").read_text(encoding="utf-8")
    assert manifest.count("enabled: false  # Done: ") == 4  # every step marked done
    assert "after the run (done steps are marked)" in done.stdout
