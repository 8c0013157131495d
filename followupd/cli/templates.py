"""`templates list|show|edit`: the draft templates and where each comes from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import click

from followupd.cli.context import current
from followupd.errors import FollowupdError


@click.group()
def templates() -> None:
    """List, show or edit the draft templates."""


@templates.command("list")
def templates_list() -> None:
    """The templates and where each comes from."""
    from followupd.app.wiring import template_store

    store = template_store(current().config)
    for name in store.names():
        where = "built-in" if store.is_builtin(name) else str(store.user_path(name))
        click.echo(f"{name:<16} {where}")


@templates.command("show")
@click.argument("name", required=False)
def templates_show(name: str | None) -> None:
    """Print a template's source (no name: the variables templates can use)."""
    from followupd.app.wiring import template_store
    from followupd.core.context import context_help

    if name is None:
        click.echo(context_help())
        return
    store = template_store(current().config)
    if name not in store.names():
        raise FollowupdError(f"no template {name!r}; `followupd templates list` shows them")
    click.echo(store.source(name).text, nl=False)


@templates.command("edit")
@click.argument("name")
def templates_edit(name: str) -> None:
    """Copy a template to your template directory (if needed) and open $EDITOR."""
    from followupd.app.wiring import template_store

    path = template_store(current().config).copy_for_edit(name)
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or shutil.which("nano") or "vi"
    if sys.stdin.isatty():
        subprocess.run([*editor.split(), str(path)], check=False)
    click.echo(f"{path} (check it with `followupd preview --sample --template {name}`)")
