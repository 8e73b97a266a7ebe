"""No two modules of ordo import each other, directly or through others, in any way.

Imports inside functions and under ``TYPE_CHECKING`` count too: a cycle hidden in a function
still ties two modules together (neither can be understood, tested or moved alone), and it is
what made the layers of the package impossible to see before the re-layout.
"""

from __future__ import annotations

import grimp


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    imported = sorted(graph.find_modules_directly_imported_by(child))
                    work.append((child, iter(imported)))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
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
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def _witness(graph: grimp.ImportGraph, component: list[str]) -> str:
    """One import of the cycle per line, with where it is, so the failure says what to cut."""
    lines = []
    members = set(component)
    for importer in component:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            details = graph.get_import_details(importer=importer, imported=imported)
            where = ", ".join(f"line {d['line_number']}" for d in details) or "?"
            lines.append(f"  {importer} -> {imported} ({where})")
    return "\n".join(lines)


def test_the_finder_sees_a_cycle_through_a_function_level_import() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    graph.add_module("d")
    graph.add_import(importer="d", imported="a")
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_module_of_ordo_is_part_of_an_import_cycle() -> None:
    graph = grimp.build_graph("ordo", exclude_type_checking_imports=False)
    cycles = _cycles(graph)
    report = "\n\n".join(_witness(graph, c) for c in cycles)
    assert not cycles, f"import cycles:\n{report}"
