"""The modules of ``jiraguard`` import each other without a circle.

Every import counts, those under ``TYPE_CHECKING`` and inside functions included: a circle
closed only by a type-checking import is still two modules that cannot be understood, tested
or changed apart. Data flows one way (routes → auth → store).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import jiraguard

PACKAGE = Path(jiraguard.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The ``jiraguard`` modules ``name`` imports (a submodule when one is named, else its
    package)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                child = f"{target}.{alias.name}"
                if child in modules:
                    found.add(child)
                elif target in modules:
                    found.add(target)
    found.discard(name)
    return found


def _circles(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    yield sorted(component)


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert list(_circles(graph)) == [["a", "b", "c"]]


def test_no_module_imports_itself_back() -> None:
    modules = _modules()
    assert "jiraguard.auth.middleware" in modules
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "jiraguard.auth.request_path" in graph["jiraguard.auth.middleware"]
    assert list(_circles(graph)) == []


def test_auth_does_not_import_the_wiring() -> None:
    """The request path's steps know nothing of how the application is put together."""
    modules = _modules()
    wiring = {"jiraguard.app", "jiraguard.services", "jiraguard.cli"}
    for name, path in modules.items():
        if name.startswith("jiraguard.auth."):
            assert not _imports(name, path, modules) & wiring, name
