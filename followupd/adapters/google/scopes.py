"""The OAuth scopes followupd asks Google for, why, and which a config needs.

The reasons and features here are what `followupd login` shows on the terminal and
`followupd check` reports for a scope the login lacks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from followupd.core.settings import Config

_AUTH = "https://www.googleapis.com/auth/"
CALENDAR_READONLY = _AUTH + "calendar.readonly"
GMAIL_COMPOSE = _AUTH + "gmail.compose"
GMAIL_METADATA = _AUTH + "gmail.metadata"
GMAIL_READONLY = _AUTH + "gmail.readonly"


@dataclass(frozen=True)
class ScopeInfo:
    """One permission followupd asks for, and why (shown at login and in README)."""

    scope: str
    reason: str
    feature: str
    core: bool = False

    @property
    def name(self) -> str:
        """The short name Google's consent page and docs use, e.g. ``gmail.compose``."""
        return self.scope.removeprefix(_AUTH)


SCOPES: dict[str, ScopeInfo] = {
    CALENDAR_READONLY: ScopeInfo(
        CALENDAR_READONLY,
        "read your calendars to find interviews, their times and who attended",
        "interview detection",
        core=True,
    ),
    GMAIL_COMPOSE: ScopeInfo(
        GMAIL_COMPOSE,
        "put follow-up notes in your Gmail Drafts and send the ones you approve",
        "drafts and sending",
        core=True,
    ),
    GMAIL_METADATA: ScopeInfo(
        GMAIL_METADATA,
        "read message headers and thread lists (never message bodies) to tell a draft you "
        "sent by hand from one you deleted, and to notice the interviewer's reply",
        "sent-by-hand and reply detection",
    ),
    GMAIL_READONLY: ScopeInfo(
        GMAIL_READONLY,
        "read your mail",
        "reading mail",
    ),
}
"""Every scope followupd may ask for, with its general reason."""


def scopes_for(config: Config) -> list[ScopeInfo]:
    """The scopes this config needs, each with the reason and the feature it serves.

    ``gmail.readonly`` replaces ``gmail.metadata`` rather than joining it: Gmail applies
    the metadata scope's limits (no ``q`` search, no ``format=full``) to any token that
    carries it, even alongside ``gmail.readonly`` (google-api-python-client #582).
    """
    wanted = [SCOPES[CALENDAR_READONLY], SCOPES[GMAIL_COMPOSE]]
    readers = []
    if config.google.readonly_scope:
        readers.append(("google.readonly_scope", "reading whole messages"))
    if config.nudge.reply_approval:
        readers.append(
            ("nudge.reply_approval", 'approving a draft by answering the nudge with "send"')
        )
    if config.drafts.thread_with_invite:
        readers.append(
            ("drafts.thread_with_invite", "threading the follow-up with the invitation email")
        )
    if readers:
        features = [text for _, text in readers]
        if config.google.metadata_scope:
            features.append(SCOPES[GMAIL_METADATA].feature)
        keys = ", ".join(key for key, _ in readers)
        wanted.append(
            ScopeInfo(
                GMAIL_READONLY,
                f"read your mail, for {', '.join(features)} (asked for because {keys} is on)",
                "; ".join(features),
            )
        )
    elif config.google.metadata_scope:
        wanted.append(SCOPES[GMAIL_METADATA])
    return wanted


def scope_gaps(config: Config, granted: Iterable[str]) -> list[ScopeInfo]:
    """The scopes this config needs that *granted* lacks (for `followupd check`)."""
    have = set(granted)
    return [info for info in scopes_for(config) if info.scope not in have]
