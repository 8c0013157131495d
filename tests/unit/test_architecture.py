"""The layering of DESIGN.md, checked on the source, transitively.

- The core, followed through every runtime import (function-level ones included),
  reaches only `followupd.core` and `followupd.errors`, and no I/O or Google library.
- Adapters never reach the engine, the application layer, the CLI or the daemon; the
  engine never reaches the application layer or above; the sandbox shares no code
  with the product.
- No import circle among the product's modules (imports under TYPE_CHECKING aside).
- No module over 450 lines, no function over 80: a bigger one holds more than one
  subject.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from support.paths import REPO

ROOT = REPO
PACKAGE = ROOT / "followupd"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return ast.unparse(test).endswith("TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node but those under `if TYPE_CHECKING:` (never executed)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if MODULES[module].name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


@cache
def imported_names(module: str) -> frozenset[str]:
    """Every module name a runtime import statement of `module` names, third-party too."""
    names: set[str] = set()
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, node)
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return frozenset(names)


@cache
def product_imports(module: str) -> frozenset[str]:
    """The product modules `module` imports at run time (`from pkg import sub` counts)."""
    return frozenset(n for n in imported_names(module) if n in MODULES and n != module)


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def reachable(start: str) -> set[str]:
    """Every product module that importing `start` runs, parent packages included."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(product_imports(module))
        todo.extend(p for p in _parents(module) if p in MODULES)
    return seen


def third_party(module: str) -> set[str]:
    return {n.split(".")[0] for n in imported_names(module) if not n.startswith("followupd")}


def import_circles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in MODULES:
        if root in index:
            continue
        work = [(root, iter(sorted(product_imports(root))))]
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
                    work.append((child, iter(sorted(product_imports(child)))))
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
                    circles.append(sorted(component))
    return circles


def under(prefix: str) -> list[str]:
    return [m for m in MODULES if m == prefix or m.startswith(prefix + ".")]


CORE_MAY_USE = {
    "__future__", "collections", "dataclasses", "datetime", "enum", "functools",
    "hashlib", "html", "itertools", "math", "re", "typing", "unicodedata", "zoneinfo",
    "email", "string", "difflib", "fnmatch", "base64", "json", "textwrap", "abc",
    "contextlib", "operator", "bisect", "heapq", "uuid", "secrets",
    # pure libraries the core is built on (no I/O): templates, spelling, holidays
    "jinja2", "markupsafe", "spellchecker", "holidays",
    # the settings types' validation hooks import these lazily: only while the shell
    # validates a config (followupd.config), never in the daemon
    "pydantic", "pydantic_core",
}  # fmt: skip


@pytest.mark.parametrize("module", under("followupd.core"))
def test_the_core_reaches_only_the_core_and_the_error_root(module: str) -> None:
    allowed = {"followupd", "followupd.errors"} | set(under("followupd.core"))
    outside = reachable(module) - allowed
    assert not outside, f"{module} reaches {sorted(outside)}"


@pytest.mark.parametrize("module", under("followupd.core"))
def test_the_core_uses_no_io_or_google_library(module: str) -> None:
    bad = third_party(module) - CORE_MAY_USE
    assert not bad, f"{module} imports {sorted(bad)}"


@pytest.mark.parametrize("module", under("followupd.adapters"))
def test_adapters_never_reach_the_cli_the_daemon_or_the_engine(module: str) -> None:
    forbidden = ("followupd.cli", "followupd.daemon", "followupd.engine", "followupd.app")
    bad = {m for m in reachable(module) if m.startswith(forbidden)}
    assert not bad, f"{module} reaches {sorted(bad)}"


@pytest.mark.parametrize("module", under("followupd.engine"))
def test_the_engine_never_reaches_the_application_layer_or_above(module: str) -> None:
    forbidden = ("followupd.cli", "followupd.daemon", "followupd.app")
    bad = {m for m in reachable(module) if m.startswith(forbidden)}
    assert not bad, f"{module} reaches {sorted(bad)}"


@pytest.mark.parametrize("module", under("followupd.sandbox"))
def test_the_sandbox_is_an_independent_witness(module: str) -> None:
    bad = {m for m in reachable(module) if m not in ("followupd", *under("followupd.sandbox"))}
    assert not bad, f"{module} reaches {sorted(bad)}"


def test_no_import_circle_among_the_product_modules() -> None:
    assert import_circles() == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_holds_more_than_one_subject(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module}: {lines} lines"


def long_functions(module: str) -> list[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    return [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_function_is_over_eighty_lines(module: str) -> None:
    assert long_functions(module) == []


class TestTheCheckersThemselves:
    """The rules above would pass vacuously if the scanner saw nothing."""

    def test_a_runtime_import_inside_a_function_is_followed(self, tmp_path: Path) -> None:
        source = "def f():\n    from followupd.cli import main\n"
        tree = ast.parse(source)
        found = [n for n in _runtime_nodes(tree) if isinstance(n, ast.ImportFrom)]
        assert [n.module for n in found] == ["followupd.cli"]

    def test_an_import_under_type_checking_is_not_followed(self) -> None:
        tree = ast.parse("if TYPE_CHECKING:\n    from followupd.cli import main\n")
        assert not [n for n in _runtime_nodes(tree) if isinstance(n, ast.ImportFrom)]

    def test_the_engine_is_seen_reaching_the_core(self) -> None:
        engine = [m for m in MODULES if m.startswith("followupd.engine")]
        assert engine and any("followupd.core.lifecycle" in reachable(m) for m in engine)

    def test_the_cli_is_seen_reaching_most_of_the_product(self) -> None:
        assert len(reachable("followupd.cli")) > 10
