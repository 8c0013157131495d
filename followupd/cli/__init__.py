"""The command line: parse, call the application layer (followupd.app), print
(followupd.cli.render). Commands live by subject in this package and are registered
here, in one list, each with the one error renderer (followupd.cli.errors).

Heavy imports (Google clients, rich, Jinja2, the store) happen inside the commands
that need them, so `followupd --help` and `followupd list` start fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from followupd import paths
from followupd.cli import cycle, demo, followups, health, service, setup, templates
from followupd.cli.context import Ctx
from followupd.cli.errors import handle_errors, run_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file (default: $FOLLOWUPD_CONFIG or $XDG_CONFIG_HOME/followupd/config.toml).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.version_option(package_name="followupd")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, debug: bool) -> None:
    """followupd: follow up after interviews, on time, in your own words.

    Watches Google Calendar for interviews, puts a personal thank-you note in your
    Gmail Drafts after each one, reminds you, and (mode "send", once you approve)
    sends it 24-48 hours after the interview.
    """
    ctx.obj = Ctx(paths.config_path(config_path), debug)


COMMANDS: list[click.Command] = [
    # setting up
    setup.init,
    setup.login,
    setup.logout,
    # the daemon and one cycle
    cycle.run,
    cycle.sync,
    # follow-ups: looking and deciding
    followups.list_,
    followups.show,
    followups.approve,
    followups.skip,
    followups.note,
    followups.preview,
    # how things stand
    health.status,
    health.check,
    templates.templates,
    service.service,
    demo.demo,
]

for _command in COMMANDS:
    cli.add_command(handle_errors(_command))


def main() -> None:
    run_group(cli)
