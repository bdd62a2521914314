"""No import cycles between the modules of each skecd subpackage (issue 31, item 8).

Every import of a skecd module counts, at module level or inside a function: a
function-local import hides a cycle from Python, not from the reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "skecd"


def _module_name(path):
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """The skecd modules ``path`` imports (``from . import x`` resolved to ``pkg.x``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("skecd")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("skecd"):
                target = node.module
            else:
                continue
            out.add(target)
            out |= {f"{target}.{a.name}" for a in node.names}
    return out


def _graph(package):
    """Edges between the modules of one subpackage (its ``__init__`` left out: it only
    re-exports, and every module imports through it when importing a sibling's name)."""
    files = {_module_name(p): p for p in (ROOT / package).glob("*.py") if p.name != "__init__.py"}
    return {m: sorted(_imports(p) & set(files) - {m}) for m, p in files.items()}


def _cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


PACKAGES = sorted(d.name for d in ROOT.iterdir() if (d / "__init__.py").is_file())


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package):
    assert _cycle(_graph(package)) is None


def _unit(module):
    """The layer a module belongs to: its subpackage, or a top-level module itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "skecd"


def _package_graph():
    """Edges between skecd's subpackages and top-level modules (io -> _atomic, ...)."""
    graph = {}
    for path in ROOT.rglob("*.py"):
        src = _unit(_module_name(path))
        dst = {_unit(m) for m in _imports(path) if m != "skecd"} - {src}
        graph.setdefault(src, set()).update(dst)
    for targets in list(graph.values()):
        for t in targets:
            graph.setdefault(t, set())
    return {k: sorted(v) for k, v in graph.items()}


def test_no_cycle_between_subpackages():
    # a cycle between subpackages means one of its arrows points up
    graph = _package_graph()
    assert {"io", "utils", "persistence", "_atomic"} <= set(graph)
    assert _cycle(graph) is None


def test_io_imports_no_higher_layer():
    # the readers sit at the bottom: they use only the top-level helper modules (no arrow
    # io -> utils, as the atomic writer once made)
    assert set(_package_graph()["io"]) <= {"_atomic", "_version"}
    assert _package_graph()["_atomic"] == []
