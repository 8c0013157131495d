"""The daemon and one cycle: `run` (the daemon, foreground) and `sync`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from followupd import paths
from followupd.cli.context import current
from followupd.core.text import terminal_safe

if TYPE_CHECKING:
    from followupd.core.model import FollowUp


@click.command()
def run() -> None:
    """Run the daemon in the foreground (systemd runs this)."""
    from followupd.config import load_isolated
    from followupd.daemon.process import Daemon
    from followupd.logsetup import configure_logging

    ctx = current()
    # Validated in a child process: pydantic never stays in the long-running daemon.
    config = load_isolated(ctx.config_path)
    configure_logging("DEBUG" if ctx.debug else config.log_level)
    sys.exit(Daemon(ctx.config_path, config).run())


@click.command()
def sync() -> None:
    """One full cycle: poll the calendars, act on what is due, exit."""
    from followupd.app.lock import InstanceLock
    from followupd.app.requests import ask_daemon_to_sync
    from followupd.app.wiring import build_engine
    from followupd.logsetup import configure_logging

    ctx = current()
    config = ctx.config
    configure_logging("DEBUG" if ctx.debug else "WARNING")
    lock = InstanceLock(paths.state_dir())
    if not lock.acquire():
        ask_daemon_to_sync()
        click.echo("The daemon is running: asked it to sync now.")
        return
    try:
        engine = build_engine(config, on_change=_print_change)
        report = engine.cycle()
    finally:
        lock.release()
    click.echo(
        f"Synced: {report.events_seen} event change(s), {len(report.new_followups)} new "
        f"follow-up(s), {report.drafts_created} draft(s) created, {report.sent} sent."
    )


def _print_change(fu: FollowUp, what: str) -> None:
    click.echo(f"  {fu.id}  {what:<14} {terminal_safe(fu.summary)}")
