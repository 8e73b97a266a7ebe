"""A secret too short to mask safely leaves ordinary words alone and is warned about once.

With ``DB_PASS=data`` the output ``load data step`` once printed as ``load *** step``: the
word vanished and showed which word the password was. A real process, since "once" is per
process (an in-process run would share the warning's memory with earlier tests).
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import Runner
from tests.support.project import make_project


def test_a_short_password_does_not_mask_a_word_and_is_warned_about_once(
    ordo_process: Runner, tmp_path: Path
) -> None:
    root = make_project(
        tmp_path / "p",
        "steps:\n  - name: load\n    type: python\n    file: say.py\n",
        python={"say.py": "print('load data step')\n"},
        env="DATABASE_URL=sqlite:///data/test.db\nDB_PASS=data\n",
    )
    done = ordo_process("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "load data step" in done.stdout
    assert "***" not in done.stdout
    [log] = (root / "logs").glob("ordo_*.log")
    assert "load data step" in log.read_text()
    warnings = [line for line in done.stderr.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1, done.stderr
    assert "DB_PASS" in warnings[0]
    assert "too short to mask safely" in warnings[0]
    assert "data" not in warnings[0]
