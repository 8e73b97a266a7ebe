"""A real Chromium for the UI's browser tests: Debian's package, driven by Playwright.

Playwright's own browser builds are downloaded from outside the package registries, which
these machines cannot reach; Debian's ``chromium`` is a package like any other, so the tests
use it through ``executable_path``. It is installed once with apt-get when missing (as
``dbt.py`` installs dbt), under a lock so parallel test runs install it once. A Chromium that
is missing and cannot be installed fails the tests that need it, with what to do: never a
skip, and so never under CI=true either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from filelock import FileLock

__all__ = ["ARTIFACTS", "CHROMIUM", "chromium_executable"]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # screenshots; ignored by git


def chromium_executable() -> Path:
    """The path of Debian's Chromium, installing the package first if it is missing."""
    cache = Path(os.environ.get("ORDO_TEST_CACHE", Path.home() / ".cache" / "ordo-tests"))
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache / "chromium.lock")):
        if not CHROMIUM.is_file():
            _install()
    return CHROMIUM


def _install() -> None:
    apt = shutil.which("apt-get")
    if apt is None:
        raise RuntimeError(
            f"the browser tests need Chromium at {CHROMIUM}, and this machine has no apt-get "
            "to install it: install Chromium there"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-q"], [apt, "install", "-y", "-q", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"installing Chromium failed ({' '.join(command)}): run "
                f"`apt-get install -y chromium` as root\n{done.stdout}{done.stderr}"
            )
    if not CHROMIUM.is_file():
        raise RuntimeError(f"apt-get installed chromium, but {CHROMIUM} is not there")
