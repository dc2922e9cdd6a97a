"""No import cycles: the modules of a package, read from the source, import each other in one
direction only.

The graph is built with ``ast`` from module-level imports (those under ``if TYPE_CHECKING:``
are left out: they never run, and are how a module names a type of the layer above it). A
package's own ``__init__`` importing its modules is not an edge from them to it: Python runs
a parent package first whatever the child imports, so counting it would make every package
with re-exports a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import podium

PODIUM_DIR = Path(podium.__file__).parent

Graph = dict[str, set[str]]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(
    body: list[ast.stmt], type_checking: bool
) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: at top level, or inside top-level
    ``try`` / ``if`` blocks (not in functions or classes); those under ``if TYPE_CHECKING:``
    only if ``type_checking``."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if type_checking or not _is_type_checking(node.test):
                yield from _module_level_imports(node.body, type_checking)
            yield from _module_level_imports(node.orelse, type_checking)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _module_level_imports(block, type_checking)
            for handler in node.handlers:
                yield from _module_level_imports(handler.body, type_checking)


def import_graph(root: Path = PODIUM_DIR, *, type_checking: bool = False) -> Graph:
    """Module name -> the modules of the same package it imports at module level (and under
    ``if TYPE_CHECKING:`` too, if ``type_checking``)."""
    files = {_module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    packages = {name for name, path in files.items() if path.name == "__init__.py"}
    graph: Graph = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        package = name if name in packages else name.rpartition(".")[0]
        for node in _module_level_imports(tree.body, type_checking):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                # ``from pkg import mod`` imports the module pkg.mod; ``from mod import name``
                # imports mod.
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                ]
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]  # ``import a.b.c`` where c is a name
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: Graph, prefix: str) -> list[list[str]]:
    """The import cycles among the modules whose names start with ``prefix``: each strongly
    connected group of two or more modules, sorted (Tarjan's algorithm)."""
    nodes = sorted(n for n in graph if n == prefix or n.startswith(prefix + "."))
    inside = set(nodes)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node] & inside):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in nodes:
        if node not in index:
            visit(node)
    return sorted(found)


def _report(found: list[list[str]], graph: Graph) -> str:
    lines = []
    for group in found:
        members = set(group)
        edges = [f"{a} -> {b}" for a in group for b in sorted(graph[a] & members)]
        lines.append(f"cycle among {', '.join(group)}: {'; '.join(edges)}")
    return "\n".join(lines)


def test_the_engine_has_no_import_cycle() -> None:
    graph = import_graph()
    found = cycles(graph, "podium.engine")
    assert found == [], _report(found, graph)


def test_podium_has_no_module_level_import_cycle() -> None:
    # Modules that need each other still may, through an import inside a function or under
    # TYPE_CHECKING; at module level, the import order alone would decide what works.
    graph = import_graph()
    found = cycles(graph, "podium")
    assert found == [], _report(found, graph)


def test_only_the_engine_package_imports_the_decider() -> None:
    # Task types' handlers, compensation and rework see the decision through the
    # DecisionContext protocol, not the Decider, even to name a type: the decider depends
    # on them, never the other way round.
    graph = import_graph(type_checking=True)
    importers = {
        name
        for name, targets in graph.items()
        if name.startswith("podium.engine") and "podium.engine.decider" in targets
    }
    assert importers == {"podium.engine"}


def test_the_graph_sees_module_level_imports_only(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg import a\n")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg.a import thing\n"
        "def later():\n    from pkg import c\n"
        "from . import d\n"
    )
    (package / "c.py").write_text("import pkg.a\n")
    (package / "d.py").write_text("from .b import name\n")
    assert "pkg.a" in import_graph(package, type_checking=True)["pkg.b"]
    graph = import_graph(package)
    assert graph == {
        "pkg": {"pkg.a"},
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.d"},
        "pkg.c": {"pkg.a"},
        "pkg.d": {"pkg.b"},
    }
    assert cycles(graph, "pkg") == [["pkg.b", "pkg.d"]]
    assert cycles(graph, "pkg.a") == []
