"""``--select`` and ``--exclude``: which steps of a manifest a run (or a plan) takes.

A selector is a step name or ``tag:NAME``; ``+`` before it adds everything it waits for
(its ancestors), ``+`` after it everything that waits for it (its descendants): ``+load``,
``load+``, ``+load+``, ``tag:quick+``. Several selectors are a union; ``exclude`` then removes
what it matches. Run modes are tags: ``--select tag:quick``. A transaction group is one
unit of work, so it is taken or left as a whole: naming any of its steps takes (or excludes)
the group.

Selection only narrows the plan: steps left out stay as they are in the manifest (enabled or
done), and a selected step whose dependency is left out runs anyway, without it (dbt's
semantics); the order the left-out steps stood in is kept (see ``ordo.graph``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ordo._hints import did_you_mean
from ordo.errors import Problem
from ordo.planning.graph import StepGraph

__all__ = ["TAG_PREFIX", "choose"]

TAG_PREFIX = "tag:"


def choose(
    graph: StepGraph,
    select: Sequence[str] | None,
    exclude: Sequence[str] | None,
    path: Path | None = None,
) -> tuple[set[str], list[Problem]]:
    """The names of the steps ``select`` and ``exclude`` leave in, and any unknown selector."""
    problems: list[Problem] = []
    chosen = (
        _match(graph, select, "--select", problems, path)
        if select
        else set(graph.order)  # no --select: everything, before --exclude
    )
    if exclude:
        chosen -= _match(graph, exclude, "--exclude", problems, path)
    return chosen, problems


def _match(
    graph: StepGraph,
    selectors: Sequence[str],
    option: str,
    problems: list[Problem],
    path: Path | None,
) -> set[str]:
    found: set[str] = set()
    for raw in selectors:
        selector = raw.strip()
        if not selector:
            continue
        core = selector.removeprefix("+").removesuffix("+").strip()
        if core.startswith(TAG_PREFIX):
            tag = core[len(TAG_PREFIX) :]
            names = {name for name in graph.order if tag in graph.tags[name]}
            if not names:
                every = sorted({t for tags in graph.tags.values() for t in tags})
                fallback = "tags: " + ", ".join(every) if every else "no step has tags"
                problems.append(
                    Problem(
                        f"{option} '{selector}': no step has tag '{tag}'",
                        file=path,
                        hint=did_you_mean(tag, every, fallback),
                    )
                )
                continue
        elif core in graph.deps:
            names = {core}
        else:
            problems.append(
                Problem(
                    f"{option} '{selector}': no step named '{core}'",
                    file=path,
                    hint=did_you_mean(core, graph.order, "see the step names with `ordo plan`"),
                )
            )
            continue
        taken = set(names)
        if selector.startswith("+"):
            taken |= graph.ancestors(names)
        if selector.endswith("+") and len(selector) > 1:
            taken |= graph.descendants(names)
        found |= taken
    return {member for name in found for member in graph.units[name]}
