"""The import graph of posed and its bundled backends has no cycles and keeps its layers.

The graph is read from the source (every import statement, including those inside
functions and under TYPE_CHECKING), so a cycle closed by a lazy import is still found.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ("posed_tflite", "posed_openvino", "posed_kserve")
# The only modules imported inside functions (docs/architecture.md, "Lazy imports"): heavy
# runtimes, optional extras, hardware libraries and test tools.
LAZY_ALLOWED = frozenset(
    {
        "cv2",
        "ai_edge_litert",
        "tflite_runtime",
        "openvino",
        "pycoral",
        "nncf",
        "tritonclient",
        "aiohttp",
        "picamera2",
        "pytest",
        "selenium",
        "mediapipe",
        "av",
    }
)
# posed's own modules that import one of those at their top (a camera source: OpenCV; the
# preview server and zone editor: aiohttp) are imported late for the same reason.
LAZY_ALLOWED_POSED = ("posed.cameras.sources.", "posed.preview.server", "posed.preview.zone_edit")
LINTED = ("posed", "backends", "tests", "tools", "bench")
SOURCES = ((ROOT, "posed"), *((ROOT / "backends", name) for name in PLUGINS))

Graph = dict[str, set[str]]


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for base, package in SOURCES:
        for path in sorted((base / package).rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _targets(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            anchor = module.split(".") if is_package else module.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            source = ".".join([*anchor, *([node.module] if node.module else [])])
        else:
            source = node.module or ""
        yield source
        for alias in node.names:
            yield f"{source}.{alias.name}"


def import_graph() -> Graph:
    """Module -> the posed/plugin modules it imports (anywhere in its body)."""
    modules = _modules()
    graph: Graph = {name: set() for name in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for name in _targets(node, module, path.name == "__init__.py"):
                # `from a.b import c` names a.b.c when c is a module, a.b otherwise.
                target = name
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    graph[module].add(target)
    return graph


def package_of(module: str) -> str:
    """posed.<sub> for posed's modules, the distribution's package for a plugin."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "posed" else parts[0]


def package_graph(graph: Graph) -> Graph:
    packages: Graph = {}
    for module, targets in graph.items():
        edges = packages.setdefault(package_of(module), set())
        edges.update(package_of(t) for t in targets if package_of(t) != package_of(module))
    return packages


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _describe(graph: Graph, component: list[str]) -> str:
    """One concrete loop through a component: a -> b -> ... -> a."""
    members = set(component)
    start = component[0]
    path = [start]
    seen = {start}
    node = start
    while True:
        nxt = sorted(t for t in graph[node] if t in members)
        back = [t for t in nxt if t == start]
        if back and len(path) > 1:
            return " -> ".join([*path, start])
        fresh = [t for t in nxt if t not in seen]
        if not fresh:
            return " <-> ".join(component)
        node = fresh[0]
        path.append(node)
        seen.add(node)


def _edges(graph: Graph, sources: Iterable[str], targets: Iterable[str]) -> list[str]:
    source_set, target_set = tuple(sources), tuple(targets)
    return sorted(
        f"{module} imports {target}"
        for module, imported in graph.items()
        if module.startswith(source_set)
        for target in imported
        if target.startswith(target_set)
    )


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph()


def test_the_graph_sees_function_level_imports() -> None:
    tree = ast.parse("def f():\n    from posed.errors import ConfigError\n")
    (node,) = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert "posed.errors" in set(_targets(node, "posed.x", False))
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_form_a_cycle(graph: Graph) -> None:
    loops = [_describe(graph, c) for c in cycles(graph)]
    assert not loops, "module import cycles:\n" + "\n".join(loops)


def test_no_packages_import_each_other_in_a_cycle(graph: Graph) -> None:
    packages = package_graph(graph)
    loops = [_describe(packages, c) for c in cycles(packages)]
    assert not loops, "package import cycles:\n" + "\n".join(loops)


def test_no_library_module_imports_the_cli(graph: Graph) -> None:
    library = [m for m in graph if not m.startswith(("posed.cli", "posed.__main__"))]
    crossings = _edges({m: graph[m] for m in library}, ("",), ("posed.cli",))
    assert not crossings, "the CLI is imported by library code:\n" + "\n".join(crossings)


def test_the_core_never_imports_a_plugin(graph: Graph) -> None:
    crossings = _edges(graph, ("posed.", "posed"), PLUGINS)
    crossings = [c for c in crossings if not c.startswith(PLUGINS)]
    assert not crossings, "posed imports a backend plugin:\n" + "\n".join(crossings)


def test_camera_configuration_does_not_depend_on_events(graph: Graph) -> None:
    crossings = _edges(graph, ("posed.cameras",), ("posed.events",))
    assert not crossings, "\n".join(crossings)


def _lazy_imports() -> Iterator[tuple[str, int, str]]:
    """(file, line, module) of every import marked `noqa: PLC0415`."""
    for folder in LINTED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if any(part.startswith(".venv") for part in path.parts) or "node_modules" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            if "PLC0415" not in text:
                continue
            lines = text.splitlines()
            for node in ast.walk(ast.parse(text, filename=str(path))):
                if isinstance(node, ast.Import | ast.ImportFrom) and "PLC0415" in lines[node.lineno - 1]:
                    name = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                    yield str(path.relative_to(ROOT)), node.lineno, name or ""


def test_only_the_documented_modules_are_imported_lazily() -> None:
    others = [
        f"{file}:{line}: {module}"
        for file, line, module in _lazy_imports()
        if module.split(".")[0] not in LAZY_ALLOWED and not module.startswith(LAZY_ALLOWED_POSED)
    ]
    assert not others, "imports inside functions outside the documented list:\n" + "\n".join(others)
