"""The configured nudge channels, built from the nudge settings, in their order and
reachable by name (the engine answers an email approval on the email channel only).

The channel modules are imported when a channel is built: the desktop one loads
jeepney, the email one the Gmail adapter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from followupd.adapters.notify.base import Notifier

if TYPE_CHECKING:
    from followupd.adapters.mailbox import Mailbox
    from followupd.core.settings import Channel, NudgeSettings


class NotifierRegistry:
    """The channels a nudge goes to, in order; :meth:`get` finds one by its name."""

    def __init__(self, notifiers: Iterable[Notifier] = ()) -> None:
        self._notifiers = tuple(notifiers)

    def __iter__(self) -> Iterator[Notifier]:
        return iter(self._notifiers)

    def __len__(self) -> int:
        return len(self._notifiers)

    def get(self, channel: Channel) -> Notifier | None:
        """The notifier of *channel*, when it is configured."""
        return next((n for n in self._notifiers if n.name == channel), None)

    @classmethod
    def from_settings(
        cls,
        settings: NudgeSettings,
        *,
        mailbox: Mailbox | None = None,
        account: str = "",
        from_name: str = "",
        desktop: Notifier | None = None,
    ) -> NotifierRegistry:
        """The configured channels. `desktop`: the daemon's long-lived desktop notifier
        (the same instance must send and listen for the buttons). Email needs the
        mailbox and the account; `from_name` is the profile's name."""
        result: list[Notifier] = []
        for channel in settings.channels:
            if channel == "desktop":
                from followupd.adapters.notify.desktop import DesktopNotifier

                result.append(desktop or DesktopNotifier())
            elif channel == "command" and settings.command:
                from followupd.adapters.notify.command import CommandNotifier

                result.append(CommandNotifier(list(settings.command)))
            elif channel == "email" and mailbox is not None and account:
                from followupd.adapters.notify.email import EmailNotifier

                result.append(
                    EmailNotifier(
                        mailbox, account, from_name, reply_approval=settings.reply_approval
                    )
                )
        return cls(result)
