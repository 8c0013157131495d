"""Follow-ups: looking (`list`, `show`, `preview`) and deciding (`approve`, `skip`,
`note`; the daemon applies a decision when it runs, else the CLI does)."""

from __future__ import annotations

from pathlib import Path

import click

from followupd.cli.context import current
from followupd.cli.render import (
    echo_json,
    followup_json,
    followup_table,
    followup_text,
    preview_output,
    sentence,
)


@click.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--all", "show_all", is_flag=True, help="Include finished follow-ups.")
def list_(as_json: bool, show_all: bool) -> None:
    """List follow-ups."""
    from followupd.app.state import open_store
    from followupd.core.model import State

    items = open_store().all()
    if not show_all and not as_json:
        items = [f for f in items if not f.state.final or f.state is State.SENT]
    if as_json:  # needs no config (no time zone): skips pydantic for scripts
        echo_json([followup_json(f) for f in items])
        return
    config = current().config
    if not items:
        click.echo("No follow-ups yet. Interviews appear here once the daemon has seen them.")
        return
    followup_table(items, config)


@click.command()
@click.argument("followup_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show(followup_id: str, as_json: bool) -> None:
    """Show one follow-up: timing, drafts, proofreading, history."""
    from followupd.app.state import open_store

    config = current().config
    store = open_store()
    fu = store.find(followup_id)
    if as_json:
        data = followup_json(fu)
        data["history"] = store.history(fu.id)
        echo_json(data)
        return
    click.echo(followup_text(fu, store, config))


def _request(action: str, followup_id: str, arg: str = "") -> None:
    from followupd.app.requests import submit

    outcome = submit(current().config, action, followup_id, arg)
    if not outcome.answered:
        click.echo("Queued: the daemon will apply it shortly (it is busy right now).")
        return
    click.echo(sentence(outcome.message))
    if not outcome.daemon_running and action in ("approve", "note"):
        click.echo("The daemon is not running: start it, or run `followupd sync`.")


@click.command()
@click.argument("followup_id")
def approve(followup_id: str) -> None:
    """Confirm a follow-up: its drafts are sent as you left them, in the window."""
    _request("approve", followup_id)


@click.command()
@click.argument("followup_id")
def skip(followup_id: str) -> None:
    """Drop a follow-up: nothing is sent; the drafts stay in Gmail."""
    _request("skip", followup_id)


@click.command()
@click.argument("followup_id")
@click.argument("text", nargs=-1, required=True)
def note(followup_id: str, text: tuple[str, ...]) -> None:
    """Add what you discussed; untouched drafts are refreshed with it."""
    _request("note", followup_id, " ".join(text))


@click.command()
@click.argument("followup_id", required=False)
@click.option(
    "--fixture",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Render for a Calendar event JSON file instead.",
)
@click.option("--sample", is_flag=True, help="Render for a built-in sample interview.")
@click.option("--template", "template_name", help="Use this template instead of the rules.")
def preview(
    followup_id: str | None, fixture: Path | None, sample: bool, template_name: str | None
) -> None:
    """Render a draft without touching Gmail: a follow-up, an event file, or a sample."""
    from followupd.app import preview as previews
    from followupd.app.wiring import template_store

    config = current().config
    store = template_store(config)
    if sample or (not followup_id and not fixture):
        subject = previews.sample_subject(config)
    elif fixture:
        subject = previews.fixture_subject(config, fixture)
        click.echo(f"# detection: {subject.detection}", err=True)
    else:
        assert followup_id is not None
        subject = previews.followup_subject(config, followup_id)
    preview_output(previews.render_preview(config, store, subject, template_name))
