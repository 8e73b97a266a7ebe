"""From a manifest to a plan: every check that can be made without touching a database.

Planning reads files, renders templates, resolves connections, forms units (one step, or a
transaction group) and orders them by their dependencies (``ordo.graph``), and reports every
problem it finds at once. ``select``/``exclude`` narrow the plan (``ordo.selection``); only the
steps taken are prepared, so a step left out cannot stop the others with its problems (the
graph itself, names and cycles, is always checked whole). Printing the plan is the dry run;
nothing here opens a connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordo._hints import did_you_mean
from ordo.db.dialects import dialect_for
from ordo.errors import ManifestInvalid, OrdoError, Problem, StepProblem
from ordo.kinds import get_kind
from ordo.kinds.base import PrepareContext, PreparedStep
from ordo.kinds.options import RetryPolicy
from ordo.kinds.templating import Renderer
from ordo.planning.graph import build_graph, topological_order
from ordo.planning.model import Plan, Unit
from ordo.planning.rollback import prepare_rollback
from ordo.planning.selection import choose

if TYPE_CHECKING:
    from ordo.config import Settings
    from ordo.db.dialects import Dialect
    from ordo.manifest.model import Manifest, StepEntry
    from ordo.project import Project

__all__ = ["build_plan"]


def build_plan(
    manifest: Manifest,
    project: Project,
    settings: Settings,
    params: Mapping[str, Any] | None = None,
    *,
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> Plan:
    """Validate and prepare every enabled step; raises ``ManifestInvalid`` with all problems.

    ``select`` and ``exclude`` are selectors (``ordo.selection``); an unknown one is a problem
    like any other.
    """
    problems: list[Problem] = list(manifest.problems)
    graph, graph_problems = build_graph(manifest)
    problems.extend(graph_problems)
    chosen: set[str] | None = None
    if select or exclude:
        chosen, selection_problems = choose(graph, select, exclude, manifest.path)
        problems.extend(selection_problems)
    pipeline = manifest.pipeline
    given = dict(params or {})  # --param: the most explicit, so it wins over the manifest
    dialects: dict[str, Dialect | None] = {}

    def dialect_of(name: str, entry: StepEntry) -> Dialect | None:
        if name not in dialects:
            dialects[name] = None
            if not settings.has_connection(name):
                problems.append(
                    Problem(
                        f"unknown connection '{name}'",
                        file=manifest.path,
                        line=entry.line_of("connection"),
                        step=entry.name,
                        hint=f"set {settings.env_name.upper()}_GLOBAL_{name.upper()}"
                        "_CONNECTION_STRING",
                    )
                )
                return None
            try:
                dialects[name] = dialect_for(settings.connection(name).url.drivername)
            except OrdoError as exc:
                problems.append(
                    Problem(exc.message, file=manifest.path, step=entry.name, hint=exc.hint)
                )
        return dialects[name]

    renderer = Renderer()
    prepared: list[tuple[PreparedStep, StepEntry]] = []
    rollbacks: dict[str, PreparedStep] = {}
    for entry in manifest.steps:
        if not entry.options.enabled or (chosen is not None and entry.name not in chosen):
            continue
        kind = get_kind(entry.options.type)
        connection = (
            (entry.options.connection or pipeline.connection) if kind.uses_connection else None
        )
        dialect = dialect_of(connection, entry) if connection else None
        ctx = PrepareContext(
            project=project,
            manifest_dir=manifest.path.parent,
            settings=settings,
            params={**pipeline.params, **entry.options.params, **given},
            renderer=renderer.for_dialect(dialect),
            dialect=dialect,
            connection=connection,
            group=_group_key(entry),
            line=entry.line,
        )
        try:
            step = kind.prepare(entry.options, ctx)
        except StepProblem as exc:
            problems.append(
                Problem(
                    exc.message,
                    file=exc.file or manifest.path,
                    line=exc.line if exc.file else entry.line_of(exc.key),
                    step=entry.name,
                    hint=exc.hint,
                )
            )
            continue
        prepared.append((step, entry))
        if entry.options.rollback is not None:
            try:
                rollbacks[entry.name] = prepare_rollback(
                    step, ctx, pipeline.connection, partial(dialect_of, entry=entry)
                )
            except StepProblem as exc:
                problems.append(
                    Problem(
                        f"rollback: {exc.message}",
                        file=exc.file or manifest.path,
                        line=exc.line if exc.file else entry.line_of("rollback"),
                        step=entry.name,
                        hint=exc.hint,
                    )
                )

    transactional = _transactional_on(dialects)
    problems.extend(_check_groups(manifest, prepared, transactional))
    problems.extend(_check_implicit_commits(manifest, prepared, dialects))
    if problems:
        raise ManifestInvalid(problems)
    disabled = tuple(e.name for e in manifest.steps if not e.options.enabled)
    after = graph.effective({step.name for step, _ in prepared}, set(disabled))
    units = _order_units(_form_units(prepared, pipeline.retry, transactional), after)
    unselected = tuple(
        e.name
        for e in manifest.steps
        if e.options.enabled and chosen is not None and e.name not in chosen
    )
    return Plan(
        manifest,
        project,
        settings,
        units,
        disabled,
        unselected,
        {name: tuple(deps) for name, deps in after.items()},
        rollbacks,
        _unused_params(manifest, given, renderer.used),
    )


def _unused_params(
    manifest: Manifest, given: Mapping[str, Any], used: set[str]
) -> tuple[tuple[str, str], ...]:
    """The ``--param`` names that no template of the plan refers to and no ``params:`` of the
    manifest declares (a python step reads its params from ``ORDO_PARAMS``: declaring one
    there says the step wants it), each with a hint."""
    declared = set(manifest.pipeline.params)
    for entry in manifest.steps:
        declared |= set(entry.options.params)
    known = declared | used
    return tuple(
        (
            name,
            did_you_mean(
                name,
                sorted(known),
                "check the spelling; a python step that reads it from ORDO_PARAMS should "
                "declare it under params in the manifest",
            ),
        )
        for name in given
        if name not in known
    )


def _order_units(units: list[Unit], after: Mapping[str, Sequence[str]]) -> tuple[Unit, ...]:
    """Units after what they wait for, ties in file order; each told the indices it waits for.

    The graph was checked for cycles, between steps and between groups, so every unit sorts.
    """
    unit_of = {name: i for i, unit in enumerate(units) for name in unit.names}
    waits = {
        i: sorted({unit_of[d] for name in unit.names for d in after[name]} - {i})
        for i, unit in enumerate(units)
    }
    order = topological_order(list(range(len(units))), waits)
    assert len(order) == len(units), "cycle between units"  # build_graph reports cycles
    new_index = {old: new for new, old in enumerate(order)}
    return tuple(
        replace(units[old], depends_on=tuple(sorted(new_index[d] for d in waits[old])))
        for old in order
    )


def _transactional_on(dialects: Mapping[str, Dialect | None]) -> Callable[[PreparedStep], bool]:
    """Whether a step may share a transaction, asked of its kind on that step's own database
    (a kind may join groups on some databases only)."""

    def transactional(step: PreparedStep) -> bool:
        dialect = dialects.get(step.connection) if step.connection is not None else None
        return not step.autocommit and get_kind(step.kind).transactional(dialect)

    return transactional


def _group_key(entry: StepEntry) -> str | None:
    group = entry.options.transaction_group
    return None if group is None else str(group)


def _check_groups(
    manifest: Manifest,
    prepared: list[tuple[PreparedStep, StepEntry]],
    transactional: Callable[[PreparedStep], bool],
) -> list[Problem]:
    """A group must be contiguous in the file, on one connection, and only transactional kinds."""
    problems: list[Problem] = []
    path: Path = manifest.path
    last_index: dict[str, int] = {}
    for entry in manifest.steps:  # contiguity is a property of the file, done steps included
        group = _group_key(entry)
        if group is None:
            continue
        previous = last_index.get(group)
        if previous is not None and previous != entry.index - 1:
            between = manifest.steps[previous + 1].name
            problems.append(
                Problem(
                    f"transaction group {group} is not contiguous: "
                    f"step '{between}' stands between its steps",
                    file=path,
                    line=entry.line_of("transaction_group"),
                    step=entry.name,
                    hint="put a group's steps next to each other, or give them different groups",
                )
            )
        last_index[group] = entry.index
    connections: dict[str, tuple[str | None, str]] = {}
    for step, entry in prepared:
        if step.group is None:
            continue
        if step.autocommit:
            problems.append(
                Problem(
                    "a step with 'transaction: false' cannot be in a transaction group",
                    file=path,
                    line=entry.line_of("transaction_group"),
                    step=step.name,
                    hint="it runs in autocommit, outside any transaction: remove its "
                    "transaction_group, or remove 'transaction: false' if it can share one",
                )
            )
            continue
        if not transactional(step):
            problems.append(
                Problem(
                    f"a {step.kind} step cannot be in a transaction group",
                    file=path,
                    line=entry.line_of("transaction_group"),
                    step=step.name,
                    hint=f"{step.kind} steps are not transactional: remove transaction_group",
                )
            )
            continue
        first = connections.setdefault(step.group, (step.connection, step.name))
        if first[0] != step.connection:
            problems.append(
                Problem(
                    f"transaction group {step.group} spans connections "
                    f"('{first[0]}' in step '{first[1]}', '{step.connection}' here)",
                    file=path,
                    line=entry.line_of("connection"),
                    step=step.name,
                    hint="a transaction lives on one connection: split the group",
                )
            )
    return problems


def _check_implicit_commits(
    manifest: Manifest,
    prepared: list[tuple[PreparedStep, StepEntry]],
    dialects: Mapping[str, Dialect | None],
) -> list[Problem]:
    """Refuse DDL in a transaction group where DDL commits on its own, unless opted in.

    On MySQL, MariaDB and Oracle a ``CREATE TABLE`` commits the group's work before it and
    itself: a later failure cannot roll those back, and the group's promise (all or nothing)
    would be broken without a word. ``allow_implicit_commit: true`` on a step of the group,
    or at pipeline level, accepts that; the runner then says what was committed.
    """
    if manifest.pipeline.allow_implicit_commit:
        return []
    opted_in = {
        step.group for step, _entry in prepared if step.options.allow_implicit_commit and step.group
    }
    problems: list[Problem] = []
    for step, entry in prepared:
        if step.options.allow_implicit_commit and step.group is None:
            problems.append(
                Problem(
                    "allow_implicit_commit is for a step in a transaction group",
                    file=manifest.path,
                    line=entry.line_of("allow_implicit_commit"),
                    step=step.name,
                    hint="a step outside any group may hold DDL as it is: remove the key",
                )
            )
        if step.group is None or step.group in opted_in or not step.implicit_commits:
            continue
        dialect = dialects.get(step.connection or "")
        backend = dialect.name if dialect is not None else "this database"
        problems.append(
            Problem(
                f"transaction group {step.group} holds DDL, which commits on its own on "
                f"{backend}: {'; '.join(step.implicit_commits)}. A failure later in the group "
                "could not roll back what ran up to it",
                file=manifest.path,
                line=entry.line_of("transaction_group"),
                step=step.name,
                hint="run the DDL as a step of its own, outside the group, or accept that it "
                "commits with 'allow_implicit_commit: true' on a step of the group or at "
                "pipeline level",
            )
        )
    return problems


def _form_units(
    prepared: list[tuple[PreparedStep, StepEntry]],
    default_retry: RetryPolicy,
    transactional: Callable[[PreparedStep], bool],
) -> list[Unit]:
    units: list[Unit] = []
    current: list[PreparedStep] = []

    def close() -> None:
        if current:
            first = current[0]
            units.append(
                Unit(
                    steps=tuple(current),
                    group=first.group,
                    connection=first.connection,
                    transactional=transactional(first),
                    autocommit=first.autocommit,
                    retry=first.options.retry or default_retry,
                )
            )
            current.clear()

    for step, _entry in prepared:
        if not (current and step.group is not None and current[0].group == step.group):
            close()
        current.append(step)
    close()
    return units
