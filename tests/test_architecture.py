"""The layering of DESIGN.md, checked on the source: a pure core, adapters that never
reach the CLI, and a sandbox that shares no code with the product."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "followupd"


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def files(folder: str) -> list[Path]:
    """Every module of a folder, its subpackages included."""
    return sorted((PACKAGE / folder).rglob("*.py"))


def module_id(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


@pytest.mark.parametrize("path", files("core"), ids=module_id)
def test_core_is_pure(path: Path) -> None:
    forbidden = (
        "followupd.adapters", "followupd.engine", "followupd.daemon", "followupd.cli",
        "followupd.app", "followupd.sandbox", "googleapiclient", "google", "httplib2",
        "keyring", "jeepney", "apscheduler", "sqlite3", "socket", "subprocess", "urllib",
    )  # fmt: skip
    bad = {n for n in imports_of(path) if n.startswith(forbidden)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", files("adapters"), ids=module_id)
def test_adapters_never_import_the_cli(path: Path) -> None:
    bad = {n for n in imports_of(path) if n.startswith(("followupd.cli", "followupd.daemon"))}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", files("sandbox"), ids=module_id)
def test_sandbox_is_an_independent_witness(path: Path) -> None:
    bad = {
        n for n in imports_of(path)
        if n.startswith("followupd") and not n.startswith("followupd.sandbox")
    }  # fmt: skip
    assert not bad, f"{path.name} imports {sorted(bad)}"
