"""List the import cycles between packages of ``app``: ``python -m tools.package_cycles``.

For every package (``app``, ``app.kit``, ...) its children (subpackages and modules) are nodes,
each standing for everything below it; an import from anywhere inside one child to anywhere
inside another is an edge. Every strongly connected group of two or more children is a cycle,
printed with one import per edge that closes it. Exit status 1 when there is any.

``make lint`` fails on a new cycle through import-linter's ``acyclic_siblings`` contract; this
command says which packages form it and through which imports. The one import the contracts
allow upward, ``app.models.base -> app.kit.clock`` (column defaults read the one clock, a
module that imports nothing of the app), is left out here too.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import grimp

ROOT = "app"
ALLOWED = {("app.models.base", "app.kit.clock")}


def _child(package: str, module: str) -> str | None:
    """The child of ``package`` that ``module`` is (or lies in), or None outside it."""
    prefix = package + "."
    if not module.startswith(prefix):
        return None
    return prefix + module[len(prefix) :].split(".", 1)[0]


def _strongly_connected(nodes: Iterable[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of nodes that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            groups.append(sorted(group))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return [group for group in groups if len(group) > 1]


def package_cycles(graph: grimp.ImportGraph) -> list[tuple[str, list[str], list[str]]]:
    """(package, the children in a cycle, the pairs importing each other and one example
    import per edge among them)."""
    found = []
    packages = sorted(m for m in graph.modules if m == ROOT or m.startswith(ROOT + "."))
    for package in packages:
        children = {c for m in graph.find_children(package) if (c := _child(package, m))}
        if len(children) < 2:
            continue
        edges: dict[str, set[str]] = {}
        example: dict[tuple[str, str], str] = {}
        for importer in graph.find_descendants(package):
            source = _child(package, importer)
            for imported in graph.find_modules_directly_imported_by(importer):
                target = _child(package, imported)
                if source and target and source != target and (importer, imported) not in ALLOWED:
                    edges.setdefault(source, set()).add(target)
                    example.setdefault((source, target), f"{importer} -> {imported}")
        for group in _strongly_connected(children, edges):
            members = set(group)
            imports = sorted(
                text for (a, b), text in example.items() if a in members and b in members
            )
            mutual = sorted(f"{a} <-> {b}" for a, b in example if a < b and (b, a) in example)
            found.append((package, group, [*mutual, *imports]))
    return found


def main() -> int:
    graph = grimp.build_graph(ROOT)
    cycles = package_cycles(graph)
    for package, group, imports in cycles:
        print(f"cycle in {package}: {' <-> '.join(group)}")  # noqa: T201
        for line in imports:
            print(f"    {line}")  # noqa: T201
    print(f"{len(cycles)} package-level import cycle(s) in {ROOT}/")  # noqa: T201
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
