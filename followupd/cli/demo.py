"""`demo`: the real daemon against the built-in Google sandbox."""

from __future__ import annotations

import sys

import click


@click.command()
def demo() -> None:
    """Run the real daemon against the built-in Google sandbox (no account needed)."""
    from followupd.app.demo import run_demo

    sys.exit(run_demo(say=lambda line: click.echo(line)))
