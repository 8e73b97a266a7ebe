"""Start-up as users meet it: a one-step run on SQLite and ``ordo --help``, whole processes.

Issue 8, points 5 and 6. Each is timed as a subprocess with output to a pipe, side by side with
``python -c pass`` (the interpreter's own start) in the same run, alternating. Prints seconds
(median [min-max]) and the ratio to ``python -c pass``. Goals: a one-step run under 0.5 s,
``ordo --help`` under 0.3 s.

``--ordo PATH`` times another build's ``ordo`` as well, in the same rounds.

    uv run python bench/startup.py [--repeat 10] [--ordo /other/checkout/.venv/bin/ordo]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _process import ordo_command, spread, timed, write_project


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--ordo", help="another build's ordo command, timed alongside")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ordo-bench-"))
    try:
        # A project per build: each keeps its own run store, whose schema may differ.
        roots = {label: tmp / f"project{label.replace(' ', '-')}" for label in ("", " (other)")}
        for root in roots.values():
            write_project(root, 1, f"sqlite:///{tmp}/bench.db")
        pristine = (roots[""] / "queue" / "manifest.yaml").read_bytes()
        cases: dict[str, tuple[list[str], float | None]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], None)
        }
        builds = {"": ordo_command(), **({" (other)": args.ordo} if args.ordo else {})}
        for label, command in builds.items():
            cases[f"ordo --help{label}"] = ([command, "--help"], 0.3)
            cases[f"ordo run --force, 1 step{label}"] = (
                [command, "run", "--force", "--project", str(roots[label])],
                0.5,
            )
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.repeat + 1):  # the first round warms the caches and is dropped
            for name, (argv, _goal) in cases.items():
                samples[name].append(timed(argv))
                for root in roots.values():
                    (root / "queue" / "manifest.yaml").write_bytes(pristine)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = statistics.median(samples["python -c pass"][1:])
    for name, (_argv, goal) in cases.items():
        got = samples[name][1:]
        median = statistics.median(got)
        met = "met" if goal is not None and median < goal else "NOT met"
        verdict = "" if goal is None else f"  goal <{goal:g} s: {met}"
        print(f"{name:<34} {spread(got)} s  ratio {median / base:5.1f}x python -c pass{verdict}")


if __name__ == "__main__":
    main()
