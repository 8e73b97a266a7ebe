"""A process writing done marks, killed with SIGKILL at random moments, never leaves a broken
manifest: the file is always the old bytes or a whole new version (atomic replace)."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from pathlib import Path

from ordo._files import TEMP_MARKER
from ordo.manifest import state as state_module
from tests.support.manifests import enabled_values, write

ORDO_DIR = str(Path(state_module.__file__).parents[1])


# The child imports only the module under test: ``import ordo`` would load the whole library,
# which is slow and unrelated to what this test is about.
CRASHER = """
import random, sys, types
from pathlib import Path
package = types.ModuleType("ordo")
package.__path__ = [sys.argv.pop(1)]
sys.modules["ordo"] = package
from ordo.manifest.state import ManifestState
state = ManifestState.from_file(Path(sys.argv[1]))
names = sys.argv[2:]
print("ready", flush=True)
count = 0
while True:  # every write changes the bytes: a new count in the note
    random.shuffle(names)
    for name in names:
        count += 1
        state.mark_done([name], f"2026-01-01 00:00:00 crash test {count}")
"""


def crash_manifest() -> tuple[str, dict[str, object]]:
    """Sixty steps: with 'enabled: true', with 'enabled: yes', and with no 'enabled' key."""
    parts, old = ["# crash test\nsteps:\n"], {}
    for i in range(60):
        extra = ["    enabled: true  # on\n", "    enabled: yes\n", ""][i % 3]
        parts.append(f"  - name: s{i}\n    file: s{i}.sql  # é\n{extra}\n")
        old[f"s{i}"] = [True, True, "missing"][i % 3]  # `yes` is true in YAML 1.1 (libyaml)
    return "".join(parts), old


def test_a_killed_writer_never_leaves_a_broken_manifest(tmp_path: Path) -> None:
    original, old = crash_manifest()
    path = write(tmp_path / "manifest.yaml", original)
    other_lines = [line for line in original.splitlines() if "enabled" not in line]
    rng = random.Random(2026)
    versions = {original}
    for _ in range(20):
        with subprocess.Popen(
            [sys.executable, "-c", CRASHER, ORDO_DIR, str(path), *old],
            stdout=subprocess.PIPE,
            text=True,
        ) as proc:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0, 0.05))
            proc.kill()  # SIGKILL: no cleanup runs
            proc.wait()
        text = path.read_text(encoding="utf-8")
        values = enabled_values(text)
        assert set(values) == set(old)
        for name, value in values.items():
            assert value in (old[name], False), name
        assert [line for line in text.splitlines() if "enabled" not in line] == other_lines
        for line in text.splitlines():
            if "Done" in line:
                assert re.fullmatch(
                    r"    enabled: false  # Done: 2026-01-01 00:00:00 crash test \d+", line
                )
        versions.add(text)
        for leftover in tmp_path.iterdir():
            assert leftover.name == "manifest.yaml" or leftover.name.startswith(
                f".manifest.yaml{TEMP_MARKER}"
            )
    assert len(versions) > 10  # the writer was killed at many different points
