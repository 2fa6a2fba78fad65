"""Dependencies inside the package run one way: the graph of which module imports which
(every `import`, at module level or inside a function) has no cycle.

The graph is read from the source with `ast`, so it sees the imports a function makes
when it runs as well as those at the top of a file, without importing anything.
Importing `behavstats.a.b` also runs `behavstats/a/__init__.py`, so that is an edge
too, unless the importer lies inside `behavstats.a`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx

import behavstats

ROOT = Path(behavstats.__file__).resolve().parent
PACKAGE = "behavstats"


def module_names() -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its own name)."""
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = (PACKAGE, *path.relative_to(ROOT).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported(name: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The package's modules that module `name` (its source at `path`) imports: for
    `from a import b`, module a.b when there is one, else a."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield sub if sub in modules else base


def with_packages(name: str, target: str) -> Iterator[str]:
    """`target` and the packages whose `__init__` importing it runs first, except those
    `name` lies in (already running when `name` runs)."""
    parts = target.split(".")
    for end in range(1, len(parts) + 1):
        package = ".".join(parts[:end])
        if end == len(parts) or not f"{name}.".startswith(f"{package}."):
            yield package


def import_graph() -> nx.DiGraph:
    """module -> module it imports, over the package's own modules."""
    modules = module_names()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        graph.add_edges_from((name, target) for imported_name in imported(name, path, modules)
                             for target in with_packages(name, imported_name)
                             if target in modules and target != name)
    return graph


def test_the_graph_sees_the_package():
    graph = import_graph()
    assert len(graph) > 50
    assert graph.has_edge("behavstats.geometry", "behavstats.maze.model")
    # a function-level import: the CLI imports the study inside its command
    assert graph.has_edge("behavstats.cli.study", "behavstats.study")
    # importing a module of another package runs that package's __init__ first ...
    assert graph.has_edge("behavstats.geometry", "behavstats.maze")
    # ... but not the importer's own package's, which is running already
    assert not graph.has_edge("behavstats.maze.codec", "behavstats.maze")


def test_nothing_inside_imports_the_public_api():
    """The package's `__init__` re-exports every layer (lazily), so a module that
    imported a name from it would depend on everything above itself."""
    graph = import_graph()
    assert list(graph.predecessors(PACKAGE)) == []


def test_no_import_cycles():
    cycles = sorted(" -> ".join([*cycle, cycle[0]]) for cycle in nx.simple_cycles(import_graph()))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
