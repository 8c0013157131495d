"""Wiring: build the engine and its adapters from a config. Shared by the daemon,
`sync`, `demo` and the CLI commands that talk to Google (imports stay lazy so that
`followupd --help` and `list` never load the Google client libraries)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from followupd import paths
from followupd.adapters.store import Store
from followupd.app.state import open_store

if TYPE_CHECKING:
    from followupd.adapters.notify.base import Notifier
    from followupd.adapters.templates import TemplateStore
    from followupd.core import timing
    from followupd.core.model import FollowUp
    from followupd.core.settings import Config
    from followupd.engine.cycle import Engine


def template_store(config: Config) -> TemplateStore:
    from followupd.adapters.templates import TemplateStore, resolve_template_dir

    return TemplateStore(resolve_template_dir(config.drafts.template_dir, paths.config_dir()))


def build_engine(
    config: Config,
    *,
    store: Store | None = None,
    clock: timing.Clock | None = None,
    on_change: Callable[[FollowUp, str], None] | None = None,
    notifiers: list[Notifier] | None = None,
    desktop: Notifier | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Engine:
    """The real engine: Google adapters with the stored login. `sleep`: the wait
    between retries (the daemon's is cut short by a stop)."""
    from followupd.adapters.calendar import resolve_calendars
    from followupd.adapters.google.account import current_account
    from followupd.adapters.google.calendar import GoogleCalendar
    from followupd.adapters.google.credentials import load_credentials, store_rotated_token
    from followupd.adapters.google.gmail import GoogleMailbox
    from followupd.adapters.google.transport import GoogleClients
    from followupd.adapters.notify.registry import NotifierRegistry
    from followupd.adapters.tokens import token_store_for
    from followupd.core import timing
    from followupd.engine.cycle import Engine

    token_store = token_store_for(config)
    credentials = load_credentials(config, token_store)
    account = current_account(config) or ""
    clients = GoogleClients(
        credentials,
        endpoint=config.google.endpoint,
        # A refresh token Google replaces while the engine runs is saved at once.
        on_refresh_token_rotated=functools.partial(store_rotated_token, token_store),
        sleep=sleep or time.sleep,
    )
    calendar = GoogleCalendar(clients)
    mailbox = GoogleMailbox(clients)
    resolved: list[str] = []

    def calendars() -> list[str]:
        # "selected" is resolved once per engine (a config reload rebuilds it).
        if not resolved:
            resolved.extend(resolve_calendars(calendar, list(config.detect.calendars)))
        return resolved

    return Engine(
        config=config,
        store=store or open_store(),
        calendar=calendar,
        mailbox=mailbox,
        templates=template_store(config),
        notifiers=(
            notifiers
            if notifiers is not None
            else NotifierRegistry.from_settings(
                config.nudge,
                mailbox=mailbox,
                account=account,
                from_name=config.profile.name,
                desktop=desktop,
            )
        ),
        account=account,
        clock=clock or timing.SystemClock(),
        calendars=calendars,
        on_change=on_change,
    )
