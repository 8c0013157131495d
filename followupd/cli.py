"""The command line: parse, call the same services as the daemon, print.

Heavy imports (Google clients, rich, Jinja2) happen inside the commands that need
them, so `followupd --help` and `followupd list` start fast.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from followupd import paths
from followupd.core.text import terminal_safe
from followupd.errors import EXIT_USAGE, FollowupdError

if TYPE_CHECKING:  # pydantic costs ~80 ms: only commands that need the config load it
    from followupd.core.settings import Config

F = TypeVar("F", bound=Callable[..., Any])


class Ctx:
    def __init__(self, config_path: Path, debug: bool) -> None:
        self.config_path = config_path
        self.debug = debug
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from followupd import config as config_mod

            self._config = config_mod.load(self.config_path)
        return self._config


def _ctx() -> Ctx:
    obj = click.get_current_context().find_object(Ctx)
    assert obj is not None
    return obj


def catch_errors(func: F) -> F:
    """One place that turns errors into messages and exit codes."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FollowupdError as exc:
            click.echo(f"followupd: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # an unknown error: one line, traceback with --debug
            ctx = click.get_current_context().find_object(Ctx)
            if ctx is not None and ctx.debug:
                raise
            click.echo(
                f"followupd: unexpected error: {type(exc).__name__}: {exc} "
                "(run with --debug for details)",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


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


# --- set-up ---------------------------------------------------------------------------


def example_config() -> str:
    from importlib.resources import files

    return (files("followupd") / "data" / "config.example.toml").read_text(encoding="utf-8")


@cli.command()
@click.option("--print", "print_only", is_flag=True, help="Print the commented config.")
@click.option("--force", is_flag=True, help="Overwrite an existing config.")
@catch_errors
def init(print_only: bool, force: bool) -> None:
    """Write a commented config file to edit."""
    text = example_config()
    if print_only:
        click.echo(text, nl=False)
        return
    path = _ctx().config_path
    if path.exists() and not force:
        raise FollowupdError(f"{path} exists already (use --force to overwrite it)")
    from followupd.config import system_timezone

    text = text.replace('timezone = "Europe/Berlin"', f'timezone = "{system_timezone()}"', 1)
    paths.atomic_write(path, text.encode(), mode=0o600)
    click.echo(f"Wrote {path}.")
    click.echo("Next: set your name and highlights under [profile], then run")
    click.echo("  followupd login --client-secrets ~/Downloads/client_secret_XXXX.json")


@cli.command()
@click.option(
    "--client-secrets",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The OAuth client file (Desktop app) downloaded from Google Cloud Console.",
)
@click.option("--no-browser", is_flag=True, help="Print the URL instead of opening a browser.")
@click.option("--port", type=int, default=0, help="Loopback port (fixed, for SSH forwarding).")
@click.option("--timeout", type=float, default=300.0, help="Seconds to wait for consent.")
@catch_errors
def login(client_secrets: Path | None, no_browser: bool, port: int, timeout: float) -> None:
    """Log in to Google once; the token is kept in the system keyring."""
    from followupd.adapters.google_auth import login as do_login
    from followupd.adapters.tokens import token_store_for

    config = _ctx().config
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
    if result.account and not _tell_daemon_about_login():
        click.echo("Next: `followupd service install` (or `followupd run` in a terminal).")


def _tell_daemon_about_login() -> bool:
    """Stamp the new login in the state; a running daemon picks it up and, poked,
    retries right away instead of at its next (hourly, after a refusal) attempt.
    True when a daemon is running."""
    from followupd.app import open_store
    from followupd.daemon import InstanceLock

    now = datetime.now(UTC)
    pid = InstanceLock(paths.state_dir()).holder_pid()
    store = open_store()
    try:
        with store.transaction():
            store.set_meta("login_at", now.isoformat())
            if pid:
                store.add_request(now, None, "sync")
    finally:
        store.close()
    if pid:
        _poke_daemon()
        click.echo(f"The running daemon (pid {pid}) now uses this login.")
    return pid is not None


@cli.command()
@catch_errors
def logout() -> None:
    """Revoke the token at Google and remove it from the keyring."""
    from followupd.adapters.google_auth import logout as do_logout
    from followupd.adapters.tokens import token_store_for

    config = _ctx().config
    do_logout(config, token_store_for(config, keyring_timeout=120), say=click.echo)


# --- the daemon and one cycle ---------------------------------------------------------


@cli.command()
@catch_errors
def run() -> None:
    """Run the daemon in the foreground (systemd runs this)."""
    from followupd.config import load_isolated
    from followupd.daemon import Daemon
    from followupd.logsetup import configure_logging

    ctx = _ctx()
    # Validated in a child process: pydantic never stays in the long-running daemon.
    config = load_isolated(ctx.config_path)
    configure_logging("DEBUG" if ctx.debug else config.log_level)
    sys.exit(Daemon(ctx.config_path, config).run())


@cli.command()
@catch_errors
def sync() -> None:
    """One full cycle: poll the calendars, act on what is due, exit."""
    from followupd.app import build_engine
    from followupd.daemon import InstanceLock
    from followupd.logsetup import configure_logging

    ctx = _ctx()
    config = ctx.config
    configure_logging("DEBUG" if ctx.debug else "WARNING")
    lock = InstanceLock(paths.state_dir())
    if not lock.acquire():
        from followupd.app import open_store

        store = open_store()
        with store.transaction():
            store.add_request(datetime.now(UTC), None, "sync")
        _poke_daemon()
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


def _print_change(fu: Any, what: str) -> None:
    click.echo(f"  {fu.id}  {what:<14} {terminal_safe(fu.summary)}")


# --- looking ----------------------------------------------------------------------------


def followup_json(fu: Any) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": fu.id,
        "event_id": fu.event_id,
        "calendar_id": fu.calendar_id,
        "summary": fu.summary,
        "start": iso(fu.start),
        "end": iso(fu.end),
        "recipients": list(fu.recipients),
        "state": fu.state.value,
        "draft_ids": [d.draft_id for d in fu.drafts if d.draft_id],
        "window_start": iso(fu.window_start),
        "window_end": iso(fu.window_end),
        "send_at": iso(fu.send_at),
        "late": fu.late,
        "notes": list(fu.notes),
        "proofread": [
            {"code": f.code, "message": f.message, "blocking": f.blocking} for f in fu.proofread
        ],
        "company": fu.company,
        "role": fu.role,
        "kind": fu.kind,
        "template": fu.template,
        "draft_at": iso(fu.draft_at),
        "sent_at": iso(fu.sent_at),
        "replied_at": iso(fu.replied_at),
        "drafts": [
            {
                "recipients": list(d.recipients),
                "draft_id": d.draft_id,
                "status": d.status,
                "touched": d.touched,
                "subject": d.subject,
            }
            for d in fu.drafts
        ],
        "error": fu.error,
    }


def _local(value: datetime | None, config: Config) -> str:
    if value is None:
        return "-"
    return value.astimezone(config.timing.zone).strftime("%a %d %b %H:%M")


@cli.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--all", "show_all", is_flag=True, help="Include finished follow-ups.")
@catch_errors
def list_(as_json: bool, show_all: bool) -> None:
    """List follow-ups."""
    from followupd.app import open_store

    store = open_store()
    items = store.all()
    if not show_all and not as_json:
        items = [f for f in items if not f.state.final or f.state.value == "sent"]
    if as_json:  # needs no config (no time zone): skips pydantic for scripts
        click.echo(json.dumps([followup_json(f) for f in items], indent=2, ensure_ascii=False))
        return
    config = _ctx().config
    if not items:
        click.echo("No follow-ups yet. Interviews appear here once the daemon has seen them.")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False)
    for column in ("ID", "STATE", "INTERVIEW", "ENDED", "TO", "SEND AT"):
        table.add_column(column, overflow="fold")
    for fu in items:
        # Text(), not str: rich would read "[...]" in a hostile title as markup.
        table.add_row(
            fu.id,
            fu.state.value,
            Text(terminal_safe(fu.summary)),
            _local(fu.end, config),
            Text(terminal_safe(", ".join(fu.recipients))),
            _local(fu.send_at, config),
        )
    Console(highlight=False, soft_wrap=False).print(table)


@cli.command()
@click.argument("followup_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@catch_errors
def show(followup_id: str, as_json: bool) -> None:
    """Show one follow-up: timing, drafts, proofreading, history."""
    from followupd.app import open_store

    config = _ctx().config
    store = open_store()
    fu = store.find(followup_id)
    if as_json:
        data = followup_json(fu)
        data["history"] = store.history(fu.id)
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    lines = [
        f"{fu.id}  {fu.summary}",
        f"  state        {fu.state.value}" + (f"  ({fu.error})" if fu.error else ""),
        f"  interview    {_local(fu.start, config)} - {_local(fu.end, config)}",
        f"  company/role {fu.company or '-'} / {fu.role or '-'}  ({fu.kind})",
        f"  recipients   {', '.join(fu.recipients) or '-'}",
        f"  draft at     {_local(fu.draft_at, config)}",
        f"  window       {_local(fu.window_start, config)} - {_local(fu.window_end, config)}",
        f"  send at      {_local(fu.send_at, config)}" + ("  (late)" if fu.late else ""),
        f"  template     {fu.template or '-'}",
    ]
    for draft in fu.drafts:
        mark = " (edited by you)" if draft.touched else ""
        lines.append(
            f"  draft        {draft.draft_id or '-'} {draft.status}{mark} "
            f"to {', '.join(draft.recipients)}"
        )
    for note in fu.notes:
        lines.append(f"  note         {note}")
    for finding in fu.proofread:
        lines.append(f"  proofread    {finding.message}")
    if fu.replied_at:
        lines.append(f"  replied      {_local(fu.replied_at, config)}")
    history = store.history(fu.id, limit=10)
    if history:
        lines.append("  history")
        for item in history:
            at = datetime.fromisoformat(item["at"])
            lines.append(f"    {_local(at, config)}  {item['kind']}: {item['detail']}")
    click.echo(terminal_safe("\n".join(lines)))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@catch_errors
def status(as_json: bool) -> None:
    """Is the daemon running, when did it last sync, what comes next."""
    from followupd.app import open_store
    from followupd.daemon import InstanceLock
    from followupd.errors import ConfigError

    # A broken config file must not hide the state: the daemon may well be running
    # with the previous one (a refused reload), and this is where the user looks.
    try:
        config = _ctx().config
        config_problem = ""
    except ConfigError as exc:
        from followupd.config import validate

        config, config_problem = validate({}, "defaults"), str(exc)
    store = open_store()
    pid = InstanceLock(paths.state_dir()).holder_pid()
    timers = sorted(store.timers(), key=lambda t: t[1])[:5]
    config_error = (store.get_meta("config_error") if pid else "") or config_problem
    auth_state = store.get_meta("auth_state")
    if not auth_state and not config_problem:
        from followupd.adapters.google_auth import current_account

        auth_state = "unknown" if current_account(config) else "not logged in"
    data: dict[str, Any] = {
        "running": pid is not None,
        "pid": pid,
        # The running daemon's mode (a changed file counts after a reload, SIGHUP).
        "mode": (store.get_meta("daemon_mode") if pid else "") or config.mode,
        "last_sync": store.get_meta("last_sync") or None,
        "next_poll": store.get_meta("next_poll") or None if pid else None,
        "auth_state": auth_state or "unknown",
        "auth_error": store.get_meta("auth_error") or None,
        "config_error": config_error or None,
        "last_error": config_error or store.get_meta("last_error") or None,
        "counts": store.counts(),
        "next_actions": [{"id": i, "at": at.isoformat()} for i, at in timers],
        "recent": store.history(limit=5),
        "recent_errors": [h for h in store.history(limit=500) if h["kind"] == "error"][-5:],
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    state = f"running (pid {pid})" if pid else "not running"
    click.echo(f"daemon      {state}, mode {data['mode']}")
    if config_error:
        for line in config_error.splitlines():
            click.echo(f"config      {line}")
    last = data["last_sync"]
    click.echo(f"last sync   {_local(datetime.fromisoformat(last), config) if last else 'never'}")
    auth = data["auth_state"]
    headline = {
        "refused": "REFUSED by Google (the daemon retries hourly; `followupd login` fixes it)",
        "keyring_unavailable": "the keyring holding the login cannot be read (the daemon "
        "retries with backoff; once it is usable, `followupd sync` retries now)",
        "error": "not usable: run `followupd login` (see `followupd check`)",
    }
    click.echo(f"login       {headline.get(auth, auth)}")
    if data["auth_error"]:
        for line in data["auth_error"].splitlines():
            click.echo(f"            {line}")
    last_error = store.get_meta("last_error")
    if last_error and last_error != data["auth_error"]:
        click.echo(f"problem     {last_error}")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(data["counts"].items())) or "none yet"
    click.echo(f"follow-ups  {counts}")
    for fu_id, at in timers:
        click.echo(f"next        {_local(at, config)}  {fu_id}")
    for item in data["recent_errors"]:
        at = datetime.fromisoformat(item["at"])
        click.echo(f"error       {_local(at, config)}  {item['detail'].splitlines()[0]}")


# --- deciding ---------------------------------------------------------------------------


def _poke_daemon() -> None:
    """Wake the daemon (it sleeps between polls) to apply a queued request now."""
    import contextlib
    import os
    import signal

    from followupd.daemon import InstanceLock

    pid = InstanceLock(paths.state_dir()).holder_pid()
    if pid:
        with contextlib.suppress(OSError):  # it will see the request at its next tick
            os.kill(pid, signal.SIGUSR1)


def _sentence(text: str) -> str:
    """'approved via cli; sent Mon 09:00 UTC' -> 'Approved via cli; sent Mon 09:00 UTC.'
    (str.capitalize would lower-case the rest: 'gmail', 'mon', 'utc')."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _request(action: str, followup_id: str, arg: str = "") -> None:
    from followupd.app import open_store
    from followupd.daemon import InstanceLock
    from followupd.requests import apply_request

    config = _ctx().config
    store = open_store()
    store.find(followup_id)  # a clear message for a wrong id, daemon or not
    lock = InstanceLock(paths.state_dir())
    if lock.acquire():
        try:
            ok, message, _ = apply_request(
                store, config, datetime.now(UTC), action, followup_id, arg, "cli"
            )
        finally:
            lock.release()
        if not ok:
            raise FollowupdError(message)
        click.echo(_sentence(message))
        if action in ("approve", "note"):
            click.echo("The daemon is not running: start it, or run `followupd sync`.")
        return
    with store.transaction():
        request_id = store.add_request(datetime.now(UTC), followup_id, action, arg)
    _poke_daemon()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        result = store.request_result(request_id)
        if result is not None:
            if result.startswith("error: "):
                raise FollowupdError(result[len("error: ") :])
            click.echo(_sentence(result.removeprefix("ok: ")))
            return
        time.sleep(0.2)
    click.echo("Queued: the daemon will apply it shortly (it is busy right now).")


@cli.command()
@click.argument("followup_id")
@catch_errors
def approve(followup_id: str) -> None:
    """Confirm a follow-up: its drafts are sent as you left them, in the window."""
    _request("approve", followup_id)


@cli.command()
@click.argument("followup_id")
@catch_errors
def skip(followup_id: str) -> None:
    """Drop a follow-up: nothing is sent; the drafts stay in Gmail."""
    _request("skip", followup_id)


@cli.command()
@click.argument("followup_id")
@click.argument("text", nargs=-1, required=True)
@catch_errors
def note(followup_id: str, text: tuple[str, ...]) -> None:
    """Add what you discussed; untouched drafts are refreshed with it."""
    _request("note", followup_id, " ".join(text))


def main() -> None:
    from followupd import cli_extra  # noqa: F401  (registers check, demo, service, templates)

    try:
        cli(standalone_mode=False, prog_name="followupd")
    except click.exceptions.NoSuchOption as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    sys.exit(0)
