"""`service install|uninstall`: the systemd user service."""

from __future__ import annotations

import click

from followupd import paths
from followupd.cli.context import current


@click.group()
def service() -> None:
    """Install or remove the systemd user service."""


@service.command("install")
@click.option("--no-enable", is_flag=True, help="Write the unit but do not enable or start it.")
def service_install(no_enable: bool) -> None:
    """Write ~/.config/systemd/user/followupd.service, enable and start it."""
    from followupd.adapters.service.install import install
    from followupd.adapters.service.unit import default_exec_start

    ctx = current()
    explicit = None if ctx.config_path == paths.default_config_path() else ctx.config_path
    for line in install(default_exec_start(explicit), enable=not no_enable):
        click.echo(line)


@service.command("uninstall")
def service_uninstall() -> None:
    """Stop, disable and remove the systemd user service."""
    from followupd.adapters.service.install import uninstall

    for line in uninstall():
        click.echo(line)
