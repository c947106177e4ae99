"""Fails when the project's own modules import each other in a cycle; `make lint` runs it.

    python -m tools.import_cycles [--root DIR]

The modules are the .py files under the folders of pyproject.toml's pytest `pythonpath` (each function's folder, and
the project root), named as Python imports them. Every import counts, at module level or inside a function, since a
deferred import only hides a cycle. A cycle is printed with the line of each import in it, and the exit status is 1.
"""

import argparse
import ast
import sys
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SKIPPED_FOLDERS = frozenset({"__pycache__", "node_modules"})


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    path: Path
    line: int


def search_paths(root: Path) -> list[Path]:
    """Where the project's modules are imported from: pytest's `pythonpath` in pyproject.toml, else the root."""
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        return [root]
    options = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("pytest", {})
    folders = options.get("ini_options", {}).get("pythonpath", ["."])
    return [(root / folder).resolve() for folder in folders]


def project_modules(paths: Sequence[Path]) -> dict[str, Path]:
    """Module name -> file, each file named from the deepest search path that holds it (hidden folders left out)."""
    modules: dict[str, Path] = {}
    for base in paths:
        others = [path for path in paths if path != base and path.is_relative_to(base)]
        for file in sorted(base.rglob("*.py")):
            relative = file.relative_to(base)
            if any(part.startswith(".") or part in _SKIPPED_FOLDERS for part in relative.parts):
                continue
            if any(file.is_relative_to(other) for other in others):
                continue
            parts = relative.with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if name:
                modules[name] = file
    return modules


def imports(modules: dict[str, Path]) -> Iterator[Import]:
    """Every import of one project module by another."""
    for importer, path in modules.items():
        package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for imported in _targets(node, package):
                found = _project_module(imported, modules)
                if found is not None and found != importer:
                    yield Import(importer, found, path, node.lineno)


def _targets(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: from the importer's package, one level up per extra dot
        anchor = package.split(".")[: len(package.split(".")) - node.level + 1] if package else []
        base = ".".join([*anchor, base] if base else anchor)
    # `from package import name`: the submodule package.name where there is one, else the package (_project_module)
    return [f"{base}.{alias.name}" if base else alias.name for alias in node.names]


def _project_module(name: str, modules: dict[str, Path]) -> str | None:
    """The project module an import runs: the name itself, or the longest package prefix of it."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def cycles(edges: Sequence[Import]) -> list[list[Import]]:
    """One import cycle per group of modules that reach each other (Tarjan's strongly connected components)."""
    graph: dict[str, dict[str, Import]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, {}).setdefault(edge.imported, edge)
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for neighbour in graph.get(module, {}):
            if neighbour not in index:
                visit(neighbour)
                lowest[module] = min(lowest[module], lowest[neighbour])
            elif neighbour in on_stack:
                lowest[module] = min(lowest[module], index[neighbour])
        if lowest[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return [_cycle_through(group, graph) for group in sorted(groups)]


def _cycle_through(group: list[str], graph: dict[str, dict[str, Import]]) -> list[Import]:
    """A shortest way from the group's first module back to itself, through the group (breadth first)."""
    members = set(group)
    start = group[0]
    came_by: dict[str, Import] = {}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for neighbour, edge in sorted(graph.get(module, {}).items()):
                if neighbour == start:
                    path = [edge]
                    while path[0].importer != start:
                        path.insert(0, came_by[path[0].importer])
                    return path
                if neighbour in members and neighbour not in came_by:
                    came_by[neighbour] = edge
                    following.append(neighbour)
        frontier = following
    raise AssertionError(f"{group} is not a cycle")  # pragma: no cover - Tarjan's groups always are


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.import_cycles", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="the project folder (default: this one)")
    root = parser.parse_args(argv).root.resolve()
    modules = project_modules(search_paths(root))
    found = cycles(list(imports(modules)))
    for cycle in found:
        print(f"import cycle: {' -> '.join([cycle[0].importer, *(edge.imported for edge in cycle)])}", file=sys.stderr)
        for edge in cycle:
            print(f"  {edge.path.relative_to(root)}:{edge.line} imports {edge.imported}", file=sys.stderr)
    if found:
        print(f"{len(found)} import cycle(s) between project modules: break each one", file=sys.stderr)
        return 1
    print(f"no import cycle between the project's {len(modules)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
