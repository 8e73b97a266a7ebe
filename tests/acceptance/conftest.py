"""Two ways to run ``ordo``: ``ordo_cli`` in this process, ``ordo_process`` as a real process.

Use ``ordo_process`` only where the process boundary is what the test checks (see
``tests/support/cli.py``); everything else reads the same output and exit code in-process.
"""

from __future__ import annotations

import pytest

from tests.support.cli import Runner, run_in_process, run_process


@pytest.fixture
def ordo_cli() -> Runner:
    """Runs the ``ordo`` command in this process, as a user would see it."""
    return run_in_process


@pytest.fixture
def ordo_process() -> Runner:
    """Runs the ``ordo`` command in a new process, as a user's shell would."""
    return run_process
