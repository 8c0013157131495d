"""The less frequent commands: check, demo, service, templates, preview."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from followupd import paths
from followupd.cli import _ctx, catch_errors, cli
from followupd.errors import (
    EXIT_CONFIG,
    EXIT_NOPERM,
    ConfigError,
    FollowupdError,
    KeyringUnavailable,
)


def sample_context(config: Any) -> dict[str, Any]:
    from followupd.core.compose import example_context

    return example_context(zone=config.timing.zone, now=datetime.now(UTC))


@cli.command()
@catch_errors
def demo() -> None:
    """Run the real daemon against the built-in Google sandbox (no account needed)."""
    from followupd.demo import run_demo

    sys.exit(run_demo(say=lambda line: click.echo(line)))


@cli.group()
def service() -> None:
    """Install or remove the systemd user service."""


@service.command("install")
@click.option("--no-enable", is_flag=True, help="Write the unit but do not enable or start it.")
@catch_errors
def service_install(no_enable: bool) -> None:
    """Write ~/.config/systemd/user/followupd.service, enable and start it."""
    from followupd.adapters import service as svc

    ctx = _ctx()
    explicit = None if ctx.config_path == paths.default_config_path() else ctx.config_path
    for line in svc.install(svc.default_exec_start(explicit), enable=not no_enable):
        click.echo(line)


@service.command("uninstall")
@catch_errors
def service_uninstall() -> None:
    """Stop, disable and remove the systemd user service."""
    from followupd.adapters import service as svc

    for line in svc.uninstall():
        click.echo(line)


# --- check --------------------------------------------------------------------------


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@catch_errors
def check(as_json: bool) -> None:
    """Check config, templates, login, keyring, scopes and the service; exit 0 if all is well."""
    findings: list[dict[str, str]] = []

    def add(area: str, ok: bool, message: str, fix: str = "", level: str = "") -> None:
        findings.append(
            {
                "area": area,
                "level": level or ("ok" if ok else "error"),
                "message": message,
                "fix": fix,
            }
        )

    ctx = _ctx()
    try:
        config = ctx.config
        where = str(ctx.config_path) if ctx.config_path.exists() else "defaults (no file)"
        add("config", True, f"config valid: {where}")
    except ConfigError as exc:
        for problem in exc.problems:
            add("config", False, problem, "edit the file; `followupd init --print` shows every key")
        # The checks below need a config to stand on; 78: DESIGN.md's bad config.
        _report(findings, as_json, exit_code=EXIT_CONFIG)
        return
    _check_templates(config, add)
    _check_login(config, add)
    _check_service(add)
    _report(findings, as_json)


def _check_templates(config: Any, add: Any) -> None:
    from followupd.app import template_store
    from followupd.core.compose import TemplateProblem, context_words, render, rule_problems
    from followupd.core.proofread import proofread

    store = template_store(config)
    for problem in rule_problems(config.drafts.rules, set(store.names())):
        add("templates", False, problem, "fix [[drafts.rules]] in the config")
    for name in store.names():
        context = sample_context(config)
        try:
            rendered = render(store.source(name), context)
        except TemplateProblem as exc:
            add("templates", False, str(exc), "fix the template, then `followupd preview`")
            continue
        findings = proofread(
            rendered,
            known_words=config.drafts.words,
            max_words=config.drafts.max_words,
            notes=context["notes"] or ["a sample note"],
            context_names=context_words(context),
        )
        if findings:
            add(
                "templates",
                False,
                f"template {name}: " + "; ".join(f.message for f in findings),
                "edit it with `followupd templates edit " + name + "`",
                level="warning",
            )
        else:
            add("templates", True, f"template {name} renders and proofreads cleanly")
    if not config.profile.name:
        add(
            "profile",
            False,
            "profile.name is empty: drafts are signed without your name",
            'set [profile] name = "Your Name"',
            level="warning",
        )


def _check_login(config: Any, add: Any) -> None:
    from followupd.adapters import google_auth
    from followupd.adapters.tokens import token_store_for

    try:
        store = token_store_for(config)
        account = google_auth.current_account(config)
        if not account:
            add("login", False, "not logged in", "run `followupd login --client-secrets FILE`")
            return
        record = store.load(account)
        if record is None:
            add(
                "login",
                False,
                f"no token for {account} in {store.describe()}",
                "run `followupd login`",
            )
            return
        add("login", True, f"token for {account} in {store.describe()}")
        warning = getattr(store, "warning", "")
        if warning:
            add("keyring", False, warning, 'prefer token_store = "keyring"', level="warning")
        granted = set(record.get("scopes") or [])
        for info in google_auth.scopes_for(config):
            if info.scope not in granted:
                add(
                    "scopes",
                    False,
                    f"{info.scope} not granted: {info.feature} is off",
                    "run `followupd login` again and keep it ticked",
                    level="warning",
                )
    except KeyringUnavailable as exc:
        add("keyring", False, str(exc), "one of the ways out above, then `followupd sync`")
        return
    except FollowupdError as exc:
        add("login", False, str(exc), "see the message")
        return
    from followupd.app import open_store

    state = open_store()
    auth_state = state.get_meta("auth_state")
    problem = state.get_meta("auth_error") or state.get_meta("last_error")
    if auth_state == "refused":
        add(
            "login",
            False,
            "Google refused the token at the daemon's last attempt: " + problem,
            'run `followupd login` (if the OAuth consent screen is in "Testing" status, '
            'tokens expire after 7 days: set it to "In production")',
        )
    elif auth_state == "keyring_unavailable":
        add("keyring", False, "the daemon cannot read the keyring: " + problem, "see the message")
    elif auth_state == "error":
        add("login", False, "the daemon cannot log in: " + problem, "run `followupd login`")


def _check_service(add: Any) -> None:
    from followupd.adapters import service as svc

    info = svc.inspect()
    if not info.unit_installed:
        add(
            "service",
            False,
            "the systemd user service is not installed",
            "run `followupd service install` (or use `followupd run` by hand)",
            level="warning",
        )
        return
    add("service", True, f"unit installed: {info.unit_path}")
    if info.enabled is False:
        add(
            "service",
            False,
            "the service is not enabled",
            "systemctl --user enable --now followupd",
        )
    if info.linger is False:
        add(
            "service",
            False,
            "linger is off: the daemon stops when you log out",
            "loginctl enable-linger $USER",
            level="warning",
        )
    for problem in info.problems:
        add("service", False, problem, "run `followupd service install` again")


def _report(findings: list[dict[str, str]], as_json: bool, exit_code: int | None = None) -> None:
    errors = [f for f in findings if f["level"] == "error"]
    warnings = [f for f in findings if f["level"] == "warning"]
    if as_json:
        click.echo(json.dumps({"ok": not errors and not warnings, "findings": findings}, indent=2))
    else:
        marks = {"ok": "ok  ", "warning": "warn", "error": "FAIL"}
        for f in findings:
            click.echo(f"[{marks[f['level']]}] {f['area']}: {f['message']}")
            if f["level"] != "ok" and f["fix"]:
                click.echo(f"       fix: {f['fix']}")
    if exit_code is not None:
        sys.exit(exit_code)
    if any(f["area"] in ("login", "keyring") for f in errors):
        sys.exit(EXIT_NOPERM)  # DESIGN.md: 77, not logged in or token refused
    sys.exit(1 if errors or warnings else 0)


# --- templates and preview -----------------------------------------------------------


@cli.group()
def templates() -> None:
    """List, show or edit the draft templates."""


@templates.command("list")
@catch_errors
def templates_list() -> None:
    """The templates and where each comes from."""
    from followupd.app import template_store

    store = template_store(_ctx().config)
    for name in store.names():
        where = "built-in" if store.is_builtin(name) else str(store.user_path(name))
        click.echo(f"{name:<16} {where}")


@templates.command("show")
@click.argument("name", required=False)
@catch_errors
def templates_show(name: str | None) -> None:
    """Print a template's source (no name: the variables templates can use)."""
    from followupd.app import template_store
    from followupd.core.compose import context_help

    if name is None:
        click.echo(context_help())
        return
    store = template_store(_ctx().config)
    if name not in store.names():
        raise FollowupdError(f"no template {name!r}; `followupd templates list` shows them")
    click.echo(store.source(name).text, nl=False)


@templates.command("edit")
@click.argument("name")
@catch_errors
def templates_edit(name: str) -> None:
    """Copy a template to your template directory (if needed) and open $EDITOR."""
    from followupd.app import template_store

    store = template_store(_ctx().config)
    path = store.user_path(name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = (
            store.source(name).text if name in store.names() else (store.source("thank_you").text)
        )
        path.write_text(text, encoding="utf-8")
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or shutil.which("nano") or "vi"
    if sys.stdin.isatty():
        subprocess.run([*editor.split(), str(path)], check=False)
    click.echo(f"{path} (check it with `followupd preview --sample --template {name}`)")


@cli.command()
@click.argument("followup_id", required=False)
@click.option(
    "--fixture",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Render for a Calendar event JSON file instead.",
)
@click.option("--sample", is_flag=True, help="Render for a built-in sample interview.")
@click.option("--template", "template_name", help="Use this template instead of the rules.")
@catch_errors
def preview(
    followup_id: str | None, fixture: Path | None, sample: bool, template_name: str | None
) -> None:
    """Render a draft without touching Gmail: a follow-up, an event file, or a sample."""
    from followupd.app import open_store, template_store
    from followupd.core.compose import TemplateProblem, build_context, pick_template, render
    from followupd.core.proofread import proofread

    config = _ctx().config
    store = template_store(config)
    now = datetime.now(UTC)
    if sample or (not followup_id and not fixture):
        context = sample_context(config)
        kind, title, domains, calendar_id, notes = (
            "interview",
            "Interview",
            [],
            "primary",
            ["the migration to event sourcing"],
        )
    else:
        if fixture:
            from followupd.core.detect import detect
            from followupd.core.events import event_from_api

            data = json.loads(fixture.read_text(encoding="utf-8"))
            event = event_from_api("primary", data)
            account = config.google.account or "you@example.com"
            detection = detect(event, config.detect, account)
            click.echo(f"# detection: {detection.reason}", err=True)
            people = list(detection.recipients)
            start = event.start or now
            end = event.end or now
            summary, location = event.summary, event.location
            company, role, kind, interviewers = (
                detection.company,
                detection.role,
                detection.kind,
                list(detection.interviewers),
            )
            notes = []
            calendar_id = "primary"
        else:
            assert followup_id is not None
            fu = open_store().find(followup_id)
            people = list(fu.people)
            start, end, summary, location = fu.start, fu.end, fu.summary, fu.location
            company, role, kind, interviewers = fu.company, fu.role, fu.kind, list(fu.interviewers)
            notes = list(fu.notes)
            account = config.google.account or "you@example.com"
            calendar_id = fu.calendar_id
        title = summary
        domains = [p.email.rpartition("@")[2] for p in people]
        context = build_context(
            recipient=people[0] if len(people) == 1 else None,
            recipients=people,
            interviewers=interviewers or people,
            company=company,
            role=role,
            summary=summary,
            start=start,
            end=end,
            kind=kind,
            location=location,
            notes=notes,
            profile=config.profile,
            user_email=account,
            zone=config.timing.zone,
            now=max(now, end + timedelta(minutes=10)),
        )
    name = template_name or pick_template(
        config.drafts.rules,
        title=title,
        calendar_id=calendar_id,
        domains=domains,
        kind=kind,
        available=set(store.names()),
    )
    try:
        rendered = render(store.source(name), context)
    except TemplateProblem as exc:
        raise FollowupdError(str(exc)) from None
    click.echo(f"Subject: {rendered.subject}\n")
    click.echo(rendered.text.rstrip())
    findings = proofread(
        rendered, known_words=config.drafts.words, max_words=config.drafts.max_words, notes=notes
    )
    click.echo(
        f"\n# template {name}; proofreading: "
        + ("; ".join(f.message for f in findings) or "no findings"),
        err=True,
    )
