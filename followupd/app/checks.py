"""`followupd check`: config, templates, login, keyring, scopes and the service,
each finding with what to do about it, and the exit code the findings call for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from followupd.app.preview import sample_context
from followupd.app.state import open_store
from followupd.app.status import AuthState, DaemonStatus
from followupd.errors import (
    EXIT_CONFIG,
    EXIT_NOPERM,
    ConfigError,
    FollowupdError,
    KeyringUnavailable,
)

if TYPE_CHECKING:
    from followupd.core.settings import Config


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    area: str
    level: Level
    message: str
    fix: str


class Findings(list[Finding]):
    def add(
        self, area: str, ok: bool, message: str, fix: str = "", level: Level | None = None
    ) -> None:
        self.append(Finding(area, level or (Level.OK if ok else Level.ERROR), message, fix))


@dataclass(frozen=True)
class CheckReport:
    findings: list[Finding]
    exit_code: int


def run_checks(config_path: Path, load_config: Callable[[], Config]) -> CheckReport:
    """Every check; exit code 0 only when all is well."""
    findings = Findings()
    try:
        config = load_config()
        where = str(config_path) if config_path.exists() else "defaults (no file)"
        findings.add("config", True, f"config valid: {where}")
    except ConfigError as exc:
        for problem in exc.problems:
            findings.add(
                "config", False, problem, "edit the file; `followupd init --print` shows every key"
            )
        # The checks below need a config to stand on; 78: DESIGN.md's bad config.
        return CheckReport(findings, EXIT_CONFIG)
    check_templates(config, findings)
    check_login(config, findings)
    check_service(findings)
    return CheckReport(findings, exit_code_for(findings))


def exit_code_for(findings: list[Finding]) -> int:
    errors = [f for f in findings if f.level is Level.ERROR]
    warnings = [f for f in findings if f.level is Level.WARNING]
    if any(f.area in ("login", "keyring") for f in errors):
        return EXIT_NOPERM  # DESIGN.md: 77, not logged in or token refused
    return 1 if errors or warnings else 0


def check_templates(config: Config, findings: Findings) -> None:
    from followupd.app.wiring import template_store
    from followupd.core.drafting import compose_draft
    from followupd.core.template_rules import rule_problems
    from followupd.core.templates import TemplateProblem

    store = template_store(config)
    for problem in rule_problems(config.drafts.rules, set(store.names())):
        findings.add("templates", False, problem, "fix [[drafts.rules]] in the config")
    for name in store.names():
        context = sample_context(config)
        try:
            # Rendered and proofread as the daemon does (core.drafting.compose_draft).
            composed = compose_draft(
                store.source(name),
                context,
                drafts=config.drafts,
                profile=config.profile,
                notes=context["notes"] or ["a sample note"],
            )
        except TemplateProblem as exc:
            findings.add("templates", False, str(exc), "fix the template, then `followupd preview`")
            continue
        problems = composed.findings
        if problems:
            findings.add(
                "templates",
                False,
                f"template {name}: " + "; ".join(f.message for f in problems),
                "edit it with `followupd templates edit " + name + "`",
                level=Level.WARNING,
            )
        else:
            findings.add("templates", True, f"template {name} renders and proofreads cleanly")
    if not config.profile.name:
        findings.add(
            "profile",
            False,
            "profile.name is empty: drafts are signed without your name",
            'set [profile] name = "Your Name"',
            level=Level.WARNING,
        )


def check_login(config: Config, findings: Findings) -> None:
    from followupd.adapters.google.account import current_account
    from followupd.adapters.google.scopes import scope_gaps
    from followupd.adapters.tokens import token_store_for

    try:
        store = token_store_for(config)
        account = current_account(config)
        if not account:
            findings.add(
                "login", False, "not logged in", "run `followupd login --client-secrets FILE`"
            )
            return
        record = store.load(account)
        if record is None:
            findings.add(
                "login",
                False,
                f"no token for {account} in {store.describe()}",
                "run `followupd login`",
            )
            return
        findings.add("login", True, f"token for {account} in {store.describe()}")
        warning = getattr(store, "warning", "")
        if warning:
            findings.add("keyring", False, warning, 'prefer token_store = "keyring"', Level.WARNING)
        granted = set(record.get("scopes") or [])
        for info in scope_gaps(config, granted):
            findings.add(
                "scopes",
                False,
                f"{info.scope} not granted: {info.feature} is off",
                "run `followupd login` again and keep it ticked",
                level=Level.WARNING,
            )
    except KeyringUnavailable as exc:
        findings.add("keyring", False, str(exc), "one of the ways out above, then `followupd sync`")
        return
    except FollowupdError as exc:
        findings.add("login", False, str(exc), "see the message")
        return
    check_daemon_login(findings)


def check_daemon_login(findings: Findings) -> None:
    """What the daemon found at its last attempt to use the login."""
    recorded = DaemonStatus.read(open_store())
    problem = recorded.auth_error or recorded.last_error
    if recorded.auth_state is AuthState.REFUSED:
        findings.add(
            "login",
            False,
            "Google refused the token at the daemon's last attempt: " + problem,
            'run `followupd login` (if the OAuth consent screen is in "Testing" status, '
            'tokens expire after 7 days: set it to "In production")',
        )
    elif recorded.auth_state is AuthState.KEYRING_UNAVAILABLE:
        findings.add(
            "keyring", False, "the daemon cannot read the keyring: " + problem, "see the message"
        )
    elif recorded.auth_state is AuthState.ERROR:
        findings.add(
            "login", False, "the daemon cannot log in: " + problem, "run `followupd login`"
        )


def check_service(findings: Findings) -> None:
    from followupd.adapters.service.inspection import inspect

    info = inspect()
    if not info.unit_installed:
        findings.add(
            "service",
            False,
            "the systemd user service is not installed",
            "run `followupd service install` (or use `followupd run` by hand)",
            level=Level.WARNING,
        )
        return
    findings.add("service", True, f"unit installed: {info.unit_path}")
    if info.enabled is False:
        findings.add(
            "service",
            False,
            "the service is not enabled",
            "systemctl --user enable --now followupd",
        )
    if info.linger is False:
        findings.add(
            "service",
            False,
            "linger is off: the daemon stops when you log out",
            "loginctl enable-linger $USER",
            level=Level.WARNING,
        )
    for problem in info.problems:
        findings.add("service", False, problem, "run `followupd service install` again")
