"""The dependency graph of a manifest: what each step waits for, and the order units run in.

A step waits for the steps it names in ``depends_on``; a step that names none waits for the
step before it in the file, so a plain list keeps its one-after-the-other order, and
``depends_on: []`` waits for nothing. The graph is checked as written, done steps included:
unknown names and cycles are problems whatever is enabled, so enabling a step later cannot
reveal a cycle.

What a plan waits for is the written graph seen through the steps that do not run:

- a step that is not selected passes its dependencies on (``a -> b -> c`` with ``b`` left
  out still runs ``c`` after ``a``; dbt keeps such transitive edges the same way);
- a done (disabled) step that a step names in ``depends_on`` is satisfied: its work exists;
- a done step that a step waits for only because it stands before it in the file passes its
  own dependencies on, so the steps of a plain list that do run keep their order.

Units (one step, or a transaction group) wait for the union of their steps' dependencies;
they are ordered by Kahn's algorithm with a heap on file position, so ties keep
the list's order and a plain list runs exactly as written. ``Frontier`` does the same
bookkeeping at run time: which units may start, and which can no longer run after a failure.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from ordo._hints import did_you_mean
from ordo.errors import Problem

if TYPE_CHECKING:
    from ordo.manifest.model import Manifest, StepEntry

__all__ = ["StepGraph", "build_graph", "reachable", "topological_order"]

T = TypeVar("T")


@dataclass(frozen=True)
class StepGraph:
    """Every valid step of the file, in file order, with what it waits for as written."""

    order: tuple[str, ...]
    deps: Mapping[str, tuple[str, ...]]  # depends_on, or the step before it in the file
    explicit: frozenset[str]  # steps that say depends_on
    units: Mapping[str, tuple[str, ...]]  # each step's transaction group run (itself if none)
    tags: Mapping[str, tuple[str, ...]]

    def position(self, name: str) -> int:
        return self._positions[name]

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.order)}

    def dependents(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {name: [] for name in self.order}
        for name in self.order:
            for dep in self.deps[name]:
                children[dep].append(name)
        return children

    def ancestors(self, names: Iterable[str]) -> set[str]:
        """Everything ``names`` wait for, directly or not (``names`` not included)."""
        return reachable(names, lambda n: self.deps[n])

    def descendants(self, names: Iterable[str]) -> set[str]:
        """Everything that waits for ``names``, directly or not (``names`` not included)."""
        children = self.dependents()
        return reachable(names, lambda n: children[n])

    def effective(self, planned: Collection[str], done: Collection[str]) -> dict[str, list[str]]:
        """What each planned step waits for among the planned steps (see the module docstring).

        The graph must be acyclic. Steps are visited in a topological order, so a step's
        pass-through set is known before anything that waits for it.
        """
        through: dict[str, set[str]] = {}
        result: dict[str, list[str]] = {}
        for name in topological_order(self.order, self.deps):
            waits: set[str] = set()
            for dep in self.deps[name]:
                if dep in planned:
                    waits.add(dep)
                elif not (dep in done and name in self.explicit):
                    waits |= through[dep]
            if name in planned:
                result[name] = sorted(waits, key=self.position)
            else:
                through[name] = waits
        return result


def build_graph(manifest: Manifest) -> tuple[StepGraph, list[Problem]]:
    """The written graph of ``manifest``, and its unknown names and cycles as problems."""
    entries: dict[str, StepEntry] = {}
    for entry in manifest.steps:
        entries.setdefault(entry.name, entry)  # a duplicate name is the loader's problem
    order = tuple(entries)
    problems: list[Problem] = []
    deps: dict[str, tuple[str, ...]] = {}
    explicit: set[str] = set()
    # a step the loader refused is named in its own problem already: a step depending on it
    # needs no second error (with a did-you-mean pointing at some other step)
    refused = {p.step for p in manifest.problems if p.step is not None} - set(entries)
    previous: str | None = None
    for name, entry in entries.items():
        written = entry.options.depends_on
        if written is None:
            deps[name] = (previous,) if previous is not None else ()
        else:
            explicit.add(name)
            known = []
            for dep in dict.fromkeys(written):
                if dep in entries:
                    known.append(dep)
                    continue
                if dep in refused:
                    continue
                problems.append(
                    Problem(
                        f"depends_on names unknown step '{dep}'",
                        file=manifest.path,
                        line=entry.line_of("depends_on"),
                        step=name,
                        hint=did_you_mean(dep, order, "see the step names with `ordo plan`"),
                    )
                )
            deps[name] = tuple(known)
        previous = name
    graph = StepGraph(
        order=order,
        deps=deps,
        explicit=frozenset(explicit),
        units=_group_runs(list(entries.values())),
        tags={name: entry.options.tags for name, entry in entries.items()},
    )
    problems.extend(_cycles(graph, entries, manifest))
    return graph, problems


def topological_order(nodes: Sequence[T], deps: Mapping[T, Iterable[T]]) -> list[T]:
    """``nodes`` with every node after what it waits for; ties by position in ``nodes``.

    Kahn's algorithm with a heap on position. Nodes in a cycle are left out (callers check).
    """
    index = {node: i for i, node in enumerate(nodes)}
    waiting = {node: 0 for node in nodes}
    children: dict[T, list[T]] = {node: [] for node in nodes}
    for node in nodes:
        for dep in set(deps[node]):
            if dep in index and dep != node:
                waiting[node] += 1
                children[dep].append(node)
    heap = [index[node] for node in nodes if waiting[node] == 0]
    heapq.heapify(heap)
    out: list[T] = []
    while heap:
        node = nodes[heapq.heappop(heap)]
        out.append(node)
        for child in children[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(heap, index[child])
    return out


def reachable(start: Iterable[T], step: Callable[[T], Iterable[T]]) -> set[T]:
    """Everything reachable from ``start`` by ``step``, ``start`` itself only on a cycle."""
    seen: set[T] = set()
    stack = list(start)
    while stack:
        for nxt in step(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _group_runs(entries: list[StepEntry]) -> dict[str, tuple[str, ...]]:
    """Each step's unit as the file has it: a run of neighbours with the same group, or itself."""
    runs: list[list[StepEntry]] = []
    for entry in entries:
        group = entry.options.transaction_group
        last = runs[-1][-1] if runs else None
        if (
            group is not None
            and last is not None
            and str(last.options.transaction_group) == str(group)
        ):
            runs[-1].append(entry)
        else:
            runs.append([entry])
    return {e.name: tuple(x.name for x in run) for run in runs for e in run}


def _cycles(
    graph: StepGraph, entries: Mapping[str, StepEntry], manifest: Manifest
) -> list[Problem]:
    """A problem per cycle: between steps, or between units (a group and what it waits for)."""
    problems: list[Problem] = []
    step_sccs = _strongly_connected(graph.order, graph.deps)
    for scc in step_sccs:
        path = _cycle_path(scc, graph.deps, graph.position)
        problems.append(_cycle_problem(path, path, graph.explicit, entries, manifest))
    in_step_cycle = {name for scc in step_sccs for name in scc}
    unit_of = {name: graph.units[name][0] for name in graph.order}  # named by its first step
    heads = list(dict.fromkeys(unit_of.values()))
    unit_deps: dict[str, list[str]] = {head: [] for head in heads}
    for name in graph.order:
        unit_deps[unit_of[name]].extend(
            unit_of[d] for d in graph.deps[name] if unit_of[d] != unit_of[name]
        )
    for scc in _strongly_connected(heads, unit_deps):
        if any(name in in_step_cycle for head in scc for name in graph.units[head]):
            continue  # already reported between steps
        path = _cycle_path(scc, unit_deps, graph.position)
        shown = [_unit_label(graph.units[head], entries) for head in path]
        members = [name for head in path for name in graph.units[head]]
        problems.append(_cycle_problem(shown, members, graph.explicit, entries, manifest))
    return problems


def _unit_label(steps: tuple[str, ...], entries: Mapping[str, StepEntry]) -> str:
    if len(steps) == 1:
        return steps[0]
    group = entries[steps[0]].options.transaction_group
    return f"group {group} ({', '.join(steps)})"


def _cycle_problem(
    shown: list[str],
    members: list[str],
    explicit: Collection[str],
    entries: Mapping[str, StepEntry],
    manifest: Manifest,
) -> Problem:
    """Reported at the first ``depends_on`` of the cycle: a cycle always holds one."""
    named = [s for s in members if s in explicit] or members
    first = entries[named[0]]
    return Problem(
        f"dependency cycle: {' -> '.join(shown)}",
        file=manifest.path,
        line=first.line_of("depends_on"),
        step=first.name,
        hint="each step runs after the one before it in the cycle: remove one of these "
        "dependencies",
    )


def _strongly_connected(nodes: Sequence[str], deps: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm, without recursion: the components that hold a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(deps[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for dep in edges:
                if dep not in index:
                    index[dep] = low[dep] = len(index)
                    stack.append(dep)
                    on_stack.add(dep)
                    work.append((dep, iter(deps[dep])))
                    advanced = True
                    break
                if dep in on_stack:
                    low[node] = min(low[node], index[dep])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in deps[node]:
                    found.append(component)
    return found


def _cycle_path(
    component: list[str], deps: Mapping[str, Iterable[str]], position: Callable[[str], int]
) -> list[str]:
    """One cycle through the component's earliest node, in running order: ``a -> b -> a``.

    An arrow points from a step to a step that waits for it. Breadth first along the
    dependents, so the cycle printed is a shortest one.
    """
    members = set(component)
    start = min(component, key=position)
    children: dict[str, list[str]] = {m: [] for m in component}
    for member in sorted(component, key=position):
        for dep in deps[member]:
            if dep in members:
                children[dep].append(member)
    parent: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for child in children[node]:
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if child not in parent:
                parent[child] = node
                queue.append(child)
    return [start, start]  # unreachable for a true component
