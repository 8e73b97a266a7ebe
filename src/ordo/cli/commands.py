"""What each command prints around its one library call."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ordo._words import plural
from ordo.api import runs as api
from ordo.planning.model import Plan
from ordo.project.scaffold import fresh_demo, init_project
from ordo.subscribers.console import ConsoleReporter, PlainOutput, open_console, write_line

if TYPE_CHECKING:
    from rich.console import Console

PROMPT = "Plan loaded with {tasks}. Are you sure you want to execute? [y/N]: "


def _print_plan(console: Console | PlainOutput, plan: Plan) -> None:
    """The plan's lines, plain to a pipe (no markup rendering for each of a thousand lines)."""
    write_line(console, ("Execution plan", "bold"), f" for '{plan.name}' ({plan.manifest.path}):")
    masker = plan.settings.masker()  # one for the whole plan: building one scans the settings
    for line in plan.lines():
        write_line(console, "  " + masker.mask(line))


def _nothing_to_run(select: list[str] | None, exclude: list[str] | None) -> str:
    """Why a plan is empty: every step is done, or the selection (named) took none to run."""
    if not select and not exclude:
        return "Nothing to run: every step is done or disabled."
    parts = [f"--select {','.join(select)}"] if select else []
    parts += [f"--exclude {','.join(exclude)}"] if exclude else []
    chosen = " ".join(parts)
    return (
        f"Nothing to run: the selection {chosen} matched no step left to run (each step it "
        "takes is done, disabled or excluded; `ordo enable STEP` enables one again)."
    )


def ask(question: str) -> bool:
    """Ask on standard output, read one line from standard input (a terminal or a pipe)."""
    sys.stdout.write(question)
    sys.stdout.flush()
    try:
        answer = sys.stdin.readline() if sys.stdin is not None else ""
    except (OSError, ValueError):
        answer = ""
    if not answer.endswith("\n"):
        sys.stdout.write("\n")
    return answer.strip().lower() in ("y", "yes")


def run(
    manifest: Path | None,
    project: Path | None,
    env_file: Path | None,
    params: dict[str, Any],
    dry_run: bool,
    force: bool,
    *,
    select: list[str] | None = None,
    exclude: list[str] | None = None,
    resume: str | None = None,
    rehearse: bool = False,
    strict_params: bool = False,
    verbose: bool = False,
    fail_on: Literal["error", "warn"] = "error",
) -> int:
    console = open_console()  # Rich only on a terminal: its import is start-up time
    options = api.RunOptions(
        params=params,
        select=select,
        exclude=exclude,
        resume=resume,
        rehearse=rehearse,
        strict_params=strict_params,
        fail_on=fail_on,
    )
    if dry_run:
        the_plan = api.plan(manifest, project=project, env_file=env_file, options=options)
        if the_plan.units:
            _print_plan(console, the_plan)
        else:
            write_line(console, _nothing_to_run(select, exclude))
        write_line(console, "Dry Run Complete")
        return 0

    reporter = ConsoleReporter(console, verbose=verbose)

    def confirm(the_plan: Plan) -> bool:
        reporter.masker = the_plan.settings.masker()
        reporter.summary = the_plan.manifest.pipeline.summary
        _print_plan(console, the_plan)
        return force or ask(PROMPT.format(tasks=plural(len(the_plan.steps), "task")))

    options = replace(options, confirm=confirm, subscribers=[reporter])
    try:
        result = api.run(manifest, project=project, env_file=env_file, options=options)
    finally:
        reporter.close()  # the live display stops whatever happened to the run
    if rehearse and result.steps:
        write_line(console, "Rehearsal complete: everything it did was rolled back.")
    if not result.steps and result.exit_code == 0:
        write_line(console, _nothing_to_run(select, exclude))
    if result.log_file is not None:
        write_line(console, (f"log: {result.log_file}", "dim"))
    return result.exit_code


def check(
    manifest: Path | None,
    project: Path | None,
    env_file: Path | None,
    params: dict[str, Any],
    *,
    select: list[str],
    exclude: list[str],
    fail_on: Literal["error", "warn"],
    verbose: bool,
) -> int:
    from ordo.api.checks import check as check_manifest

    console = open_console()
    reporter = ConsoleReporter(console, verbose=verbose)

    def masked(the_plan: Plan) -> bool:  # no question: checks change nothing
        reporter.masker = the_plan.settings.masker()
        reporter.summary = the_plan.manifest.pipeline.summary
        return True

    options = api.RunOptions(
        params=params,
        select=select,
        exclude=exclude,
        fail_on=fail_on,
        confirm=masked,
        subscribers=[reporter],
    )
    try:
        result = check_manifest(manifest, project=project, env_file=env_file, options=options)
    finally:
        reporter.close()
    write_line(console, "Checks complete: nothing was changed.")
    if result.log_file is not None:
        write_line(console, (f"log: {result.log_file}", "dim"))
    return result.exit_code


def enable(
    steps: list[str],
    all_steps: bool,
    manifest: Path | None,
    project: Path | None,
    env_file: Path | None = None,
) -> int:
    changed = api.enable(
        steps, all_steps=all_steps, manifest=manifest, project=project, env_file=env_file
    )
    from rich.console import Console  # imported here: `ordo run` to a pipe never needs it
    from rich.markup import escape

    console = Console()
    if not changed:
        console.print("Nothing to enable: those steps are already enabled.")
    for name in changed:
        console.print(f"enabled: {escape(name)}", highlight=False)
    return 0


def init(directory: Path, example: str = "basic") -> int:
    from rich.console import Console

    root = init_project(directory, example)
    Console().print(f"Created project in {root}\nNext: cd {directory} && ordo run", highlight=False)
    return 0


def demo(directory: Path) -> int:
    """A fresh copy of the example every time, run without asking, then shown."""
    from rich.console import Console

    root = fresh_demo(directory)
    console = Console()
    console.print(f"[bold]Demo project:[/] {root}", highlight=False)
    code = run(None, root, None, {}, dry_run=False, force=True)
    for report in sorted((root / "results").glob("*")):
        console.print(f"\n[bold]{report.relative_to(root)}[/]:", highlight=False)
        console.print(report.read_text(encoding="utf-8"), highlight=False, markup=False)
    manifest = root / "queue" / "manifest.yaml"
    console.print(
        f"[bold]{manifest.relative_to(root)}[/] after the run (done steps are marked):",
        highlight=False,
    )
    console.print(manifest.read_text(encoding="utf-8"), highlight=False, markup=False)
    return code
