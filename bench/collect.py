"""A workbook of 100,000 rows by 10 columns to Parquet: ``ordo run`` of a collect step against
polars+calamine and pandas+openpyxl (pyxlsb for .xlsb).

Issue 13, item 12. One sheet of ``--rows`` rows of mixed types (integers, floats, dates,
date-times, text with leading zeros, text, an often empty note) is written as .xlsx (openpyxl)
and as .xlsb (the BIFF12 writer of the tests; its dates are Excel serial numbers). In the same
rounds, alternating, each as a fresh process reading the file and writing a Parquet file:

- ``ordo run`` of a one-step collect manifest (start-up, plan, reading, casting to the
  declared types, the content hash, the Parquet write, run store, ledger, manifest marks);
  the output is removed after each round, so every round writes it;
- polars+calamine: ``pl.read_excel(engine="calamine").write_parquet(...)``;
- pandas+openpyxl (.xlsx) or pandas+pyxlsb (.xlsb): ``pd.read_excel(...).to_parquet(...)``.

pandas, openpyxl, pyxlsb, polars and fastexcel live in a virtualenv of their own under
``~/.cache/ordo-bench/collect``, made when missing. One more line shows an ``ordo run`` that
finds the output unchanged (reads and hashes, writes nothing), and one the fixed cost of any
``ordo run`` (a one-row workbook). Prints medians [min-max] and
the ratios (goal: within 1.2x of polars+calamine; pandas is expected 10x slower or more).

    uv run python bench/collect.py [--rows 100000] [--repeat 3] [--no-pandas]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _process import ordo_command, spread, timed, write_project

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' workbook writers
from tests.support.workbooks import write_workbook

GOAL = 1.2
VENV = Path.home() / ".cache" / "ordo-bench" / "collect"
PACKAGES = ["pandas", "openpyxl", "pyxlsb", "polars", "fastexcel", "pyarrow"]
HEADER = ["id", "amount", "qty", "ratio", "day", "created", "code", "name", "shift", "note"]
COLUMNS = (
    "{id: int, amount: float, qty: int, ratio: float, day: date, created: timestamp, "
    "code: string, name: string, shift: string, note: string}"
)
POLARS = """
import sys, polars as pl
pl.read_excel(sys.argv[1], engine="calamine").write_parquet(sys.argv[2])
"""
PANDAS = """
import sys, pandas as pd
pd.read_excel(sys.argv[1], engine=sys.argv[3]).to_parquet(sys.argv[2])
"""


def body(rows: int) -> list[list[object]]:
    rng = random.Random(13)
    return [
        [
            i,
            rng.randint(-99999, 99999) / 100,
            rng.randint(0, 1000),
            rng.random(),
            dt.date(2024, i % 12 + 1, i % 28 + 1),
            dt.datetime(2024, 1, i % 28 + 1, i % 24, i % 60),
            f"{i % 100000:05d}",
            f"item {i}",
            "day" if i % 2 else "night",
            "a note" if i % 7 == 0 else None,
        ]
        for i in range(rows)
    ]


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    """openpyxl in write-only mode: the fast way to write a big .xlsx (dates as date cells)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def bench_python() -> Path:
    """The references' virtualenv python, made when missing."""
    python = VENV / "bin" / "python"
    check = [str(python), "-c", "import pandas, openpyxl, pyxlsb, polars, fastexcel"]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return python
    VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PACKAGES], check=True)
    return python


def collect_project(root: Path, workbook: Path) -> Path:
    write_project(root, 0, f"sqlite:///{root / 'data' / 'ordo.db'}")
    (root / "data").mkdir(exist_ok=True)
    (root / "reports").mkdir()
    shutil.copy(workbook, root / "reports" / workbook.name)
    manifest = root / "queue" / "manifest.yaml"
    manifest.write_text(
        "name: bench\nsteps:\n  - name: collect\n    type: collect\n"
        f"    sources: reports/{workbook.name}\n    output: out/records.parquet\n"
        f"    columns: {COLUMNS}\n"
    )
    return manifest


def rounds(
    argvs: dict[str, list[str]], repeat: int, after: dict[str, Callable[[], object]]
) -> dict[str, list[float]]:
    """Each command ``repeat`` times (after one dropped warm-up round), alternating."""
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for number in range(repeat + 1):
        for name, argv in argvs.items():
            elapsed = timed(argv)
            reset = after.get(name)
            if reset is not None:
                reset()
            if number:
                times[name].append(elapsed)
    return times


def bench_format(tmp: Path, workbook: Path, python: Path, repeat: int, pandas: bool) -> list[str]:
    suffix = workbook.suffix
    root = tmp / f"ordo{suffix.replace('.', '-')}"
    manifest = collect_project(root, workbook)
    pristine = manifest.read_bytes()
    output = root / "out"
    ordo = [ordo_command(), "run", "--force", "--project", str(root)]
    argvs = {
        "ordo": ordo,
        "polars": [str(python), "-c", POLARS, str(workbook), str(tmp / "polars.parquet")],
    }
    engine = "openpyxl" if suffix == ".xlsx" else "pyxlsb"
    if pandas:
        argvs["pandas"] = [
            str(python),
            "-c",
            PANDAS,
            str(workbook),
            str(tmp / "pandas.parquet"),
            engine,
        ]

    def reset() -> None:
        manifest.write_bytes(pristine)
        shutil.rmtree(output, ignore_errors=True)

    times = rounds(argvs, repeat, {"ordo": reset})
    ordo_s, polars_s = times["ordo"], times["polars"]
    ratio = statistics.median(ordo_s) / statistics.median(polars_s)
    met = "met" if ratio < GOAL else "NOT met"
    lines = [
        f"{suffix} polars+calamine {spread(polars_s)} s  ordo run {spread(ordo_s)} s  "
        f"ratio {ratio:4.2f}x (goal <{GOAL:g}x: {met})"
    ]
    if pandas:
        pandas_s = times["pandas"]
        faster = statistics.median(pandas_s) / statistics.median(ordo_s)
        lines.append(
            f"{suffix} pandas+{engine} {spread(pandas_s)} s  ordo run is {faster:4.1f}x faster"
        )
    # the output in place: a run that finds it unchanged reads and hashes only
    timed(ordo)
    manifest.write_bytes(pristine)
    unchanged = rounds({"ordo": ordo}, repeat, {"ordo": lambda: manifest.write_bytes(pristine)})
    lines.append(f"{suffix} ordo run, output unchanged {spread(unchanged['ordo'])} s")
    return lines


def startup_line(tmp: Path, repeat: int) -> str:
    """What an ``ordo run`` costs whatever the workbook: a one-row collect, start to end."""
    tiny = write_workbook(tmp / "tiny.xlsx", [HEADER, body(1)[0]])
    root = tmp / "ordo-tiny"
    manifest = collect_project(root, tiny)
    pristine = manifest.read_bytes()

    def reset() -> None:
        manifest.write_bytes(pristine)
        shutil.rmtree(root / "out", ignore_errors=True)

    argv = [ordo_command(), "run", "--force", "--project", str(root)]
    times = rounds({"ordo": argv}, repeat, {"ordo": reset})
    return f"ordo run of a one-row workbook (start-up, plan, bookkeeping) {spread(times['ordo'])} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-pandas", action="store_true")
    args = parser.parse_args()
    python = bench_python()
    tmp = Path(tempfile.mkdtemp(prefix="ordo-bench-"))
    lines = [f"{args.rows} rows x {len(HEADER)} columns, {args.repeat} rounds"]
    try:
        rows = body(args.rows)
        xlsx, xlsb = tmp / "report.xlsx", tmp / "report.xlsb"
        write_xlsx(xlsx, rows)
        write_workbook(xlsb, [HEADER, *rows])
        for workbook in (xlsx, xlsb):
            lines += bench_format(tmp, workbook, python, args.repeat, not args.no_pandas)
        lines.append(startup_line(tmp, args.repeat))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
