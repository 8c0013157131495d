"""What every nudge channel shares: the Notifier protocol, its error, what a delivery
reports, and the JSON form of a nudge.

A nudge's title and body may hold user data (names, companies): they are never
logged, and a :class:`~followupd.core.model.Nudge`'s repr leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from followupd.core.model import Nudge


class NotifyError(Exception):
    """A nudge could not be delivered on one channel.

    ``str()`` never holds the nudge's text; *detail* may hold a command's stderr,
    for showing to the user interactively (never for logs).
    """

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class Delivery:
    """What one channel delivered: its name, and the thread it used or started
    (None for channels without threads), for the next nudge to continue."""

    channel: str
    thread_id: str | None = None


@runtime_checkable
class Notifier(Protocol):
    name: str

    def send(self, nudge: Nudge) -> Delivery:
        """Deliver *nudge*; raise :class:`NotifyError` on failure."""
        ...


def nudge_to_json(nudge: Nudge) -> dict[str, object]:
    """The JSON object a command (or a script) receives for *nudge*.

    Payload keys come after the fixed ones and cannot replace them.
    """
    data: dict[str, object] = {
        "followup_id": nudge.followup_id,
        "kind": nudge.kind,
        "title": nudge.title,
        "body": nudge.body,
        "actions": list(nudge.actions),
        "open_url": nudge.open_url,
    }
    for key, value in nudge.payload.items():
        data.setdefault(key, value)
    return data
