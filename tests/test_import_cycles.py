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
