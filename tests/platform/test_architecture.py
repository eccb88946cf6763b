"""The layering of docs/architecture.md, checked on the code: the import graph of the application packages (every
import statement, at module top level or inside a function) has no upward edge and no circle, and `engines/`
imports without Django."""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Each package and the packages it may import (transitively below it). `vision` and `engines` are framework-free:
# vision imports nothing of the project, engines only vision.
ALLOWED: dict[str, set[str]] = {
    "vision": set(),
    "engines": {"vision"},
    "tryon_project": set(),
    "accounts": {"tryon_project"},
    "customers": {"tryon_project", "accounts", "vision"},
    "products": {"tryon_project", "accounts"},
    "watermark": {"tryon_project", "accounts"},
    "generations": {"tryon_project", "accounts", "customers", "products", "watermark", "vision", "engines"},
    "webhooks": {
        "tryon_project",
        "accounts",
        "customers",
        "products",
        "watermark",
        "vision",
        "engines",
        "generations",
    },
}
PACKAGES = tuple(ALLOWED)


def _modules() -> dict[str, pathlib.Path]:
    """Every application module (migrations excluded: they are generated history, not architecture)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(*, module: str, path: pathlib.Path, known: set[str]) -> set[str]:
    """The application modules `module` imports, wherever the import statement is."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from a.b import c` imports the module a.b.c when there is one, else the name c of a.b.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name.split(".")[0] in ALLOWED:
                targets.add(name)
    targets.discard(module)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {module: _imports(module=module, path=path, known=known) for module, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
                        components.append(sorted(component))
    return components


def _package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {package: set() for package in PACKAGES}
    for module, targets in graph.items():
        packages[module.split(".")[0]] |= {target.split(".")[0] for target in targets}
    for package, targets in packages.items():
        targets.discard(package)
    return packages


def test_the_graph_sees_function_level_and_relative_imports(tmp_path):
    source = tmp_path / "pkg" / "mod.py"
    source.parent.mkdir()
    (source.parent / "__init__.py").write_text("")
    source.write_text("import os\n\ndef f():\n    from generations.models import Generation\n    from . import other\n")
    known = {"pkg", "pkg.mod", "pkg.other", "generations", "generations.models"}
    assert _imports(module="pkg.mod", path=source, known=known) == {"generations.models"}


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_package_imports_upward_or_sideways():
    graph = _graph()
    offending = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if target.split(".")[0] != module.split(".")[0] and target.split(".")[0] not in ALLOWED[module.split(".")[0]]
    )
    assert offending == []


def test_no_circle_between_packages_or_modules():
    graph = _graph()
    assert _cycles(_package_graph(graph)) == []
    assert _cycles(graph) == []


def test_no_package_holds_thirty_percent_of_the_code():
    """The architecture stays visible from the folders: no application package grows to dominate the code (lines
    of the non-migration modules)."""
    lines = {package: 0 for package in PACKAGES}
    for module, path in _modules().items():
        lines[module.split(".")[0]] += len(path.read_text().splitlines())
    total = sum(lines.values())
    shares = {package: round(count / total, 3) for package, count in lines.items()}
    assert max(shares.values()) < 0.30, shares


def test_engines_import_without_django():
    """Every module under engines/ and vision/ imported in a fresh interpreter with Django unconfigured: none of
    them may pull in django, the platform package or an app."""
    modules = sorted(module for module in _modules() if module.split(".")[0] in ("engines", "vision"))
    assert "engines.base" in modules and "engines.registry" in modules and "vision.pose" in modules
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"apps = {sorted(set(PACKAGES) - {'engines', 'vision'})!r} + ['django']\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in apps)))\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
