"""The arrows between modules point one way: no import cycles (function-level imports
included, since a lazy import only hides a cycle), assets never import the jobs, and the core
sub-packages know no Dagster."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "gn_pipelines"
CORE = ("contracts", "ingest", "quality", "privacy", "publish", "reference", "water", "synth", "datalab")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _typing_only(tree: ast.Module) -> set[ast.AST]:
    """The nodes under `if TYPE_CHECKING:` (imports for annotations only, never run)."""
    return {inner for node in ast.walk(tree)
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            for statement in node.body for inner in ast.walk(statement)}


def imported_modules(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (top level or inside a function),
    except imports for type annotations only."""
    names = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _typing_only(tree)
    for node in ast.walk(tree):
        if node in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imported_modules(path) if m in files and m != name}
            for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                on_stack.discard(member)
                component.append(member)
            on_stack.discard(node)
            if component:
                found.append(sorted([node, *component]))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def subpackage(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_import_cycle_between_modules():
    graph = import_graph()
    # a package's __init__ re-exporting its own modules is not a cycle of meaning
    graph = {m: {t for t in targets if not t.startswith(m + ".") and not m.startswith(t + ".")}
             for m, targets in graph.items()}
    assert cycles(graph) == []


def test_no_import_cycle_between_subpackages():
    graph: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        graph.setdefault(subpackage(module), set()).update(
            subpackage(t) for t in targets if subpackage(t) != subpackage(module))
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_assets_do_not_import_jobs_sensors_or_definitions():
    graph = import_graph()
    upward = {"gn_pipelines.jobs", "gn_pipelines.sensors", "gn_pipelines.definitions"}
    offending = {m: graph[m] & upward for m in graph if m.startswith("gn_pipelines.assets") and graph[m] & upward}
    assert offending == {}


def test_the_core_knows_no_dagster():
    offending = sorted(
        module_name(path) for name in CORE for path in (PACKAGE / name).rglob("*.py")
        if any(m == "dagster" or m.startswith("dagster.") or m.startswith("dagster_")
               for m in imported_modules(path)))
    assert offending == []
