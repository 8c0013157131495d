"""Setting up: `init` (a commented config), `login` and `logout`."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import click

from followupd import paths
from followupd.cli.context import current
from followupd.errors import FollowupdError


def example_config() -> str:
    """The commented example config, shipped as package data."""
    return (files("followupd") / "data" / "config.example.toml").read_text(encoding="utf-8")


@click.command()
@click.option("--print", "print_only", is_flag=True, help="Print the commented config.")
@click.option("--force", is_flag=True, help="Overwrite an existing config.")
def init(print_only: bool, force: bool) -> None:
    """Write a commented config file to edit."""
    text = example_config()
    if print_only:
        click.echo(text, nl=False)
        return
    path = current().config_path
    if path.exists() and not force:
        raise FollowupdError(f"{path} exists already (use --force to overwrite it)")
    from followupd.config import system_timezone

    text = text.replace('timezone = "Europe/Berlin"', f'timezone = "{system_timezone()}"', 1)
    paths.atomic_write(path, text.encode(), mode=0o600)
    click.echo(f"Wrote {path}.")
    click.echo("Next: set your name and highlights under [profile], then run")
    click.echo("  followupd login --client-secrets ~/Downloads/client_secret_XXXX.json")


@click.command()
@click.option(
    "--client-secrets",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The OAuth client file (Desktop app) downloaded from Google Cloud Console.",
)
@click.option("--no-browser", is_flag=True, help="Print the URL instead of opening a browser.")
@click.option("--port", type=int, default=0, help="Loopback port (fixed, for SSH forwarding).")
@click.option("--timeout", type=float, default=300.0, help="Seconds to wait for consent.")
def login(client_secrets: Path | None, no_browser: bool, port: int, timeout: float) -> None:
    """Log in to Google once; the token is kept in the system keyring."""
    from followupd.adapters.google.login import login as do_login
    from followupd.adapters.tokens import token_store_for
    from followupd.app.requests import announce_login

    config = current().config
    result = do_login(
        config,
        client_secrets=client_secrets,
        open_browser=not no_browser,
        port=port,
        timeout=timeout,
        say=lambda line: click.echo(line, err=False),
        # Interactive: leave time to type the keyring's unlock password.
        token_store=token_store_for(config, keyring_timeout=120),
    )
    if not result.account:
        return
    pid = announce_login()
    if pid:
        click.echo(f"The running daemon (pid {pid}) now uses this login.")
    else:
        click.echo("Next: `followupd service install` (or `followupd run` in a terminal).")


@click.command()
def logout() -> None:
    """Revoke the token at Google and remove it from the keyring."""
    from followupd.adapters.google.revoke import logout as do_logout
    from followupd.adapters.tokens import token_store_for

    config = current().config
    do_logout(config, token_store_for(config, keyring_timeout=120), say=click.echo)
