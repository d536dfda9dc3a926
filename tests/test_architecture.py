"""Import structure of ``sim`` (issue 11): no module imports itself through others.

The import graph is built with grimp (installed with import-linter), function-level
imports included, ``if TYPE_CHECKING:`` imports left out (they never run).
"""

from __future__ import annotations

import grimp

# Modules whose cycles this test would not check (a name covers its submodules). Empty:
# since the mechanism-contract rewrite the whole package is checked.
CYCLE_CHECK_EXCLUDED: frozenset[str] = frozenset()


def _excluded(module: str) -> bool:
    return any(module == x or module.startswith(f"{x}.") for x in CYCLE_CHECK_EXCLUDED)


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
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
                    imported = graph.find_modules_directly_imported_by(child) & modules
                    work.append((child, iter(sorted(imported))))
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
                    out.append(sorted(component))
    return out


def test_no_import_cycles():
    graph = grimp.build_graph("sim", exclude_type_checking_imports=True)
    checked = {m for m in graph.modules if not _excluded(m)}
    cycles = _cycles(graph, checked)
    lines = []
    for component in cycles:
        a = component[0]
        b = next(m for m in component[1:] if graph.chain_exists(importer=m, imported=a))
        there = " → ".join(graph.find_shortest_chain(importer=a, imported=b) or [])
        back = " → ".join(graph.find_shortest_chain(importer=b, imported=a) or [])
        lines.append(f"{', '.join(component)}: {there} and {back}")
    assert not cycles, "import cycles:\n" + "\n".join(lines)


def test_the_cycle_check_finds_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    assert _cycles(graph, set(graph.modules)) == [["pkg.a", "pkg.b"]]
    assert _cycles(graph, {"pkg.a", "pkg.c"}) == []
