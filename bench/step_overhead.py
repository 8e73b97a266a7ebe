"""Per-step cost of ``ordo run --force`` as users run it, against a bare SQLAlchemy loop.

Issue 8, points 4 and 6. A 1,000-step manifest of ``SELECT 1`` steps is run by the ``ordo``
command in a subprocess, output to a pipe, defaults on (manifest marks, the run store, the
ledger); the same 1,000 statements are run by a bare SQLAlchemy loop committing each one, in a
subprocess started the same way. Runs alternate, so a busy machine slows both. Both backends:
SQLite and PostgreSQL. Prints seconds (median [min-max]), the overhead per step in
milliseconds (ordo minus the loop, over the steps: start-up and planning included) and the
ratio. Goal: under 1 ms per step.

``--in-process`` adds the old figures: ``ordo.run`` called in this process, no console.
``--ordo PATH`` times another build's ``ordo`` command as well, in the same rounds (before and
after a change, on the same busy machine).

    uv run python bench/step_overhead.py [--steps 1000] [--repeat 5] [--only sqlite|postgresql]
        [--in-process] [--ordo /other/checkout/.venv/bin/ordo]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _process import (
    BARE_LOOP,
    ordo_command,
    postgres_schema,
    spread,
    timed,
    write_project,
)

GOAL_MS = 1.0


def time_in_process(root: Path, steps: int) -> float:
    import ordo

    manifest = root / "queue" / "manifest.yaml"
    pristine = manifest.read_bytes()
    started = time.perf_counter()
    result = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
    elapsed = time.perf_counter() - started
    assert result.status == "success", result.error
    manifest.write_bytes(pristine)
    return elapsed


def measure(
    name: str,
    url_factory: Callable[[Path], str],
    steps: int,
    repeat: int,
    in_process: bool,
    commands: dict[str, str],
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ordo-bench-"))
    try:
        url = url_factory(tmp)
        # A project per build: each keeps its own run store, whose schema may differ.
        roots = {label: tmp / f"project-{label}" for label in commands}
        for root in roots.values():
            write_project(root, steps, url)
        root = roots["this"]
        pristine = (root / "queue" / "manifest.yaml").read_bytes()
        bare_argv = [sys.executable, "-c", BARE_LOOP, url, str(steps)]
        bare: list[float] = []
        whole: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(repeat + 1):  # the first round warms the disk cache and is dropped
            bare.append(timed(bare_argv))
            for label, command in commands.items():
                project = roots[label]
                manifest = project / "queue" / "manifest.yaml"
                whole[label].append(timed([command, "run", "--force", "--project", str(project)]))
                marks = manifest.read_text().count("# Done: ")
                assert marks == steps, f"{marks} done marks, {steps} expected"
                manifest.write_bytes(pristine)
        bare = bare[1:]
        inside = [time_in_process(root, steps) for _ in range(repeat)] if in_process else []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for label, rounds in whole.items():
        samples = rounds[1:]
        per_step = [(o - b) / steps * 1000 for o, b in zip(samples, bare, strict=True)]
        overhead = statistics.median(per_step)
        print(
            f"{name:<11} {label:<6} {steps} steps, whole process: bare loop {spread(bare)} s  "
            f"ordo run {spread(samples)} s  overhead {overhead:6.3f} ms/step "
            f"[{min(per_step):.3f}-{max(per_step):.3f}]  "
            f"ratio {statistics.median(samples) / statistics.median(bare):4.1f}x  "
            f"goal <{GOAL_MS:g} ms/step: {'met' if overhead < GOAL_MS else 'NOT met'}"
        )
    if inside:
        print(f"{name:<11} {steps} steps, in process (ordo.run, no console): {spread(inside)} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--in-process", action="store_true", help="add in-process figures")
    parser.add_argument("--ordo", help="another build's ordo command, timed alongside")
    args = parser.parse_args()
    commands = {"this": ordo_command()}
    if args.ordo:
        commands["other"] = args.ordo
    if args.only in (None, "sqlite"):
        measure(
            "sqlite",
            lambda tmp: f"sqlite:///{tmp}/bench.db",
            args.steps,
            args.repeat,
            args.in_process,
            commands,
        )
    if args.only in (None, "postgresql"):
        with postgres_schema() as url:
            measure(
                "postgresql", lambda _tmp: url, args.steps, args.repeat, args.in_process, commands
            )


if __name__ == "__main__":
    main()
