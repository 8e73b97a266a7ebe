"""A python step that prints a lot, as users run it: ``ordo run`` against the bare script.

Issue "Correct and clear under real use", point 9. A script printing ``--lines`` lines (a
million by default) runs as a one-step manifest through the ``ordo`` command, its output to a
pipe, side by side with the same script run by the interpreter on its own, its output to a pipe
too, in the same rounds. ordo shows every line on the console and in the run's log within
0.1 s of its printing: the script's stdout stays buffered and is flushed every 0.1 s
(``ordo/kinds/_python_launcher.py``). A step that asks for ``PYTHONUNBUFFERED: "1"`` gets a
write per line, as the bare script run unbuffered does: both are timed too, which separates what
ordo costs from what the script's own writes cost. Prints seconds (median [min-max]) and the
ratios. Goal: within 2x of the bare script.

    uv run python bench/python_output.py [--lines 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _process import ordo_command, spread, timed

GOAL_RATIO = 2.0

SCRIPT = """\
import sys
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else {lines}):
    print(f"line {{i}} of what the step had to say")
"""


def write_project(root: Path, lines: int, *, unbuffered: bool = False) -> Path:
    for folder in ("config", "queue", "scripts/python", "logs"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "config" / ".env").write_text(f"DATABASE_URL=sqlite:///{root}/bench.db\n")
    script = root / "scripts" / "python" / "talk.py"
    script.write_text(SCRIPT.format(lines=lines))
    manifest = "name: talk\nsteps:\n  - name: talk\n    file: talk.py\n    enabled: true\n"
    if unbuffered:
        manifest += '    env: {PYTHONUNBUFFERED: "1"}\n'
    (root / "queue" / "manifest.yaml").write_text(manifest)
    return script


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ordo-bench-"))
    try:
        live, unbuffered = tmp / "live", tmp / "unbuffered"
        script = write_project(live, args.lines)
        write_project(unbuffered, args.lines, unbuffered=True)
        bare_argv = [sys.executable, str(script), str(args.lines)]
        cases = {
            "bare script": (bare_argv, None),
            "bare script, unbuffered": (bare_argv, {"PYTHONUNBUFFERED": "1"}),
            "ordo run": ([ordo_command(), "run", "--yes", "--project", str(live)], None),
            "ordo run, step unbuffered": (
                [ordo_command(), "run", "--yes", "--project", str(unbuffered)],
                None,
            ),
        }
        pristine = {
            root: (root / "queue" / "manifest.yaml").read_bytes() for root in (live, unbuffered)
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.repeat + 1):  # the first round warms the caches and is dropped
            for name, (argv, env) in cases.items():
                samples[name].append(timed(argv, env=env))
            for root, text in pristine.items():
                (root / "queue" / "manifest.yaml").write_bytes(text)
                for log in (root / "logs").glob("*.log"):
                    log.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    bare = statistics.median(samples["bare script"][1:])
    for name, rounds in samples.items():
        got = rounds[1:]
        ratio = statistics.median(got) / bare
        verdict = ""
        if name == "ordo run":
            verdict = f"  goal <{GOAL_RATIO:g}x: {'met' if ratio < GOAL_RATIO else 'NOT met'}"
        print(f"{args.lines} lines, {name:<27} {spread(got)} s  ratio {ratio:4.1f}x{verdict}")


if __name__ == "__main__":
    main()
