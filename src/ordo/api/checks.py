"""``ordo check``: a manifest's validate steps on their own, changing nothing.

Checks are what a team runs between loads, from CI or by hand after a fix, to ask "is the data
right now?" without running the pipeline. So only the validate steps of the manifest (within
``select``/``exclude``) run, as a rehearsal: inside a transaction that is rolled back, with no
done marks, no ledger rows and no notices. The exit codes are a run's: 0 when every check
passed (or only warned), 1 when one failed, 2 for a bad manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ordo.api.runs import RunOptions, plan, run
from ordo.errors import InvalidInput

if TYPE_CHECKING:
    from ordo.runner.result import RunResult

__all__ = ["check"]

_KIND = "validate"


def check(
    manifest: Path | str | None = None,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    options: RunOptions | None = None,
) -> RunResult:
    """Run the manifest's validate steps read-only; returns what they found.

    ``options`` as for ``run``: ``params``, ``select``/``exclude`` (narrowing which validate
    steps run), ``fail_on``, ``subscribers``. Raises ``InvalidInput`` when no validate step is
    left to run.
    """
    options = options or RunOptions()
    if options.resume is not None:
        raise InvalidInput("ordo check runs the checks again from the start: leave out --resume")
    the_plan = plan(manifest, project=project, env_file=env_file, environ=environ, options=options)
    names = [step.name for step in the_plan.steps if step.kind == _KIND]
    if not names:
        chosen = " among the selected steps" if options.select or options.exclude else ""
        raise InvalidInput(
            f"no validate steps to run{chosen} in {the_plan.manifest.path}",
            hint="a validate step has 'type: validate' and a list of 'checks'",
        )
    only_checks = replace(options, select=names, exclude=None, rehearse=True)
    return run(manifest, project=project, env_file=env_file, environ=environ, options=only_checks)
