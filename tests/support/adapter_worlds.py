"""The adapters against the sandbox and their twins, for the contract tests."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from followupd.adapters.calendar import CalendarSource
from followupd.adapters.calendar_memory import FakeCalendar
from followupd.adapters.google.calendar_events import event_from_api
from followupd.adapters.google.transport import GoogleClients
from followupd.adapters.mailbox import Mailbox
from followupd.adapters.mailbox_memory import FakeMailbox

ME = "ada@example.com"


CLIENT_ID = "test-client.apps.googleusercontent.com"


CLIENT_SECRET = "test-secret"  # the sandbox's made-up client


SCOPES = (
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/gmail.readonly",
)


METADATA_SCOPES = (
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/gmail.metadata",
)


def make_credentials(**kwargs: Any) -> Any:
    """google.oauth2.credentials.Credentials (untyped in google-auth's stubs)."""
    from google.oauth2.credentials import Credentials

    return Credentials(**kwargs)  # type: ignore[no-untyped-call]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def oauth_login(base_url: str, scopes: tuple[str, ...] = SCOPES) -> Any:
    """Credentials from the sandbox's OAuth code flow, done by hand with urllib."""
    query = urllib.parse.urlencode(
        {
            "client_id": CLIENT_ID,
            "redirect_uri": "http://127.0.0.1:9/",
            "response_type": "code",
            "scope": " ".join(scopes),
            "state": "xyz",
            "access_type": "offline",
        }
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(f"{base_url}/o/oauth2/auth?{query}", timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302, exc.code
        location = exc.headers["Location"]
    else:  # pragma: no cover - the sandbox always redirects
        raise AssertionError("no redirect from the consent page")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert params["state"] == ["xyz"]
    form = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": "http://127.0.0.1:9/",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    ).encode()
    with urllib.request.urlopen(f"{base_url}/token", data=form, timeout=10) as resp:
        import json

        token = json.load(resp)
    return make_credentials(
        token=token["access_token"],
        refresh_token=token["refresh_token"],
        token_uri=f"{base_url}/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=list(scopes),
    )


@dataclass
class Sleeps:
    """A sleep function that records instead of sleeping."""

    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_clients(sb: Any, sleeps: Sleeps, scopes: tuple[str, ...] = SCOPES) -> GoogleClients:
    return GoogleClients(oauth_login(sb.url, scopes), endpoint=sb.url, timeout=10, sleep=sleeps)


@dataclass
class CalendarWorld:
    """``source`` under test; ``control`` acts as Google's side (FakeCalendar or Sandbox).

    Events go in as Calendar v3 JSON on both sides: the twin, which holds core Events,
    gets them read by the Google parser."""

    kind: str
    source: CalendarSource
    control: Any

    def counts(self) -> dict[str, int]:
        return dict(self.control.counts())

    def expire_tokens(self) -> None:
        self.control.invalidate_sync_tokens()

    def add_event(self, data: dict[str, Any], calendar_id: str = "primary") -> str:
        """Store a Calendar v3 event; returns its id."""
        if isinstance(self.control, FakeCalendar):
            return self.control.add_event(event_from_api(calendar_id, data), calendar_id).id
        return str(self.control.add_event(data, calendar_id)["id"])

    def move_event(self, event_id: str, start: datetime, end: datetime) -> None:
        """The organizer reschedules a primary-calendar event."""
        if isinstance(self.control, FakeCalendar):
            self.control.update_event("primary", event_id, start=start, end=end)
            return
        times = {"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}}
        self.control.update_event("primary", event_id, times)


@dataclass
class MailWorld:
    kind: str
    mailbox: Mailbox
    control: Any

    def counts(self) -> dict[str, int]:
        return dict(self.control.counts())

    def draft_ids(self) -> set[str]:
        """The draft ids Gmail holds, as the test side sees them."""
        if isinstance(self.control, FakeMailbox):
            return {d.draft_id for d in self.control.drafts()}
        return {_field(d, "id", "draft_id") for d in self.control.drafts()}

    def sent_count(self) -> int:
        return len(self.control.sent_messages())

    def add_message(self, raw: bytes, labels: tuple[str, ...]) -> str:
        """File a message in Gmail, not through the adapter; returns its (new) thread."""
        if isinstance(self.control, FakeMailbox):
            # A new thread is named after its first message, as in Gmail.
            return self.control.add_message(raw, labels)
        return _field(self.control.add_message(raw, labels), "threadId", "thread_id")

    def drop_after(self, method: str) -> None:
        """The next call of a Mailbox method acts at Google, then its answer is lost."""
        if isinstance(self.control, FakeMailbox):
            from followupd.adapters.mailbox import SendUncertain

            self.control.fail_next(method, SendUncertain("dropped (fake)"), after=True)
        else:
            google_method = {"send_draft": "gmail.users.drafts.send"}[method]
            self.control.inject_fault("drop_after", method=google_method, count=1)


def _field(item: Any, *names: str) -> str:
    for name in names:
        if isinstance(item, dict) and name in item:
            return str(item[name])
        if hasattr(item, name):
            return str(getattr(item, name))
    raise KeyError(names)


def follow_up(
    to: str = "grace@corp.example",
    subject: str = "Thank you for today's interview",
    body: str = "Dear Grace,\n\nThank you for your time today.\n\nAda\n",
    *,
    message_id: str | None = None,
    in_reply_to: str | None = None,
) -> tuple[bytes, str]:
    """An RFC 822 follow-up and its Message-ID."""
    msg = EmailMessage()
    msg["From"] = f"Ada Lovelace <{ME}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="followupd.invalid")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    return msg.as_bytes(), str(msg["Message-ID"])
