"""How things stand: `status` (the daemon and the follow-ups) and `check` (config,
templates, login, keyring, scopes and the service)."""

from __future__ import annotations

import json
import sys

import click

from followupd.cli.context import current
from followupd.cli.render import check_output, status_json, status_lines


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Is the daemon running, when did it last sync, what comes next."""
    from followupd.app.state import open_store
    from followupd.app.status import status_report

    report = status_report(current().load_config, open_store())
    if as_json:
        click.echo(json.dumps(status_json(report), indent=2))
        return
    for line in status_lines(report):
        click.echo(line)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def check(as_json: bool) -> None:
    """Check config, templates, login, keyring, scopes and the service; exit 0 if all is well."""
    from followupd.app.checks import run_checks

    ctx = current()
    report = run_checks(ctx.config_path, ctx.load_config)
    check_output(report, as_json)
    sys.exit(report.exit_code)
