"""Parents before children: the order tables are loaded in (and emptied in, reversed).

Seed 004 loads its CSV files by a dependency map; foreign keys between the tables say the
same thing. A cycle cannot be loaded in any order, so it is an error that shows the cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["CycleError", "parents_first"]


class CycleError(ValueError):
    """The dependencies go round: ``cycle`` lists it, its first name again at the end."""

    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__("the dependencies form a cycle: " + " -> ".join(cycle))
        self.cycle = tuple(cycle)


def parents_first(names: Sequence[str], parents: Mapping[str, Iterable[str]]) -> list[str]:
    """``names`` ordered so each comes after its ``parents`` (those among ``names``; others
    are ignored), otherwise keeping the given order; ``CycleError`` for a cycle."""
    known = set(names)
    needs = {name: [p for p in parents.get(name, ()) if p in known and p != name] for name in names}
    done: list[str] = []
    placed: set[str] = set()
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in placed:
            return
        if name in visiting:
            start = visiting.index(name)
            raise CycleError([*visiting[start:], name])
        visiting.append(name)
        for parent in needs[name]:
            visit(parent)
        visiting.pop()
        placed.add(name)
        done.append(name)

    for name in names:
        visit(name)
    return done
