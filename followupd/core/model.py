"""Plain data shared by the core, the engine and the adapters. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class State(StrEnum):
    PENDING = "pending"  # interview found, not over (or draft not yet due)
    DRAFTED = "drafted"  # drafts exist in Gmail, waiting for the user
    APPROVED = "approved"  # the user confirmed; sent at send_at (mode send)
    SENT = "sent"  # we sent it
    SENT_MANUALLY = "sent_manually"  # the user sent it from Gmail
    SKIPPED = "skipped"  # the user said no (or deleted the draft)
    CANCELLED = "cancelled"  # event cancelled, deleted or declined before it ended
    EXPIRED = "expired"  # the window closed unconfirmed; the draft is left alone

    @property
    def final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {State.SENT, State.SENT_MANUALLY, State.SKIPPED, State.CANCELLED, State.EXPIRED}
)


class AttendeeKind(StrEnum):
    """What an invited address is; the calendar adapter knows its provider's signs."""

    PERSON = "person"
    RESOURCE = "resource"  # a room or equipment
    GROUP = "group"  # a mailing list, a shared or imported calendar


class EventKind(StrEnum):
    """What sort of calendar entry an event is; only meetings and events made from an
    email can be interviews."""

    MEETING = "meeting"
    FROM_EMAIL = "from_email"  # e.g. a booking the calendar read from the user's mail
    BIRTHDAY = "birthday"
    FOCUS_TIME = "focus_time"
    OUT_OF_OFFICE = "out_of_office"
    WORKING_LOCATION = "working_location"
    OTHER = "other"  # a kind this code does not know


class DraftStatus(StrEnum):
    """Where one draft stands. CREATING and SENDING are intents written before the
    Gmail call: after a crash they mean "look in Gmail before doing it again"."""

    PLANNED = "planned"  # to be written
    CREATING = "creating"  # intent: drafts.create under way
    CREATED = "created"  # in Gmail Drafts
    SENDING = "sending"  # intent: drafts.send under way
    SENT = "sent"  # we sent it
    SENT_MANUALLY = "sent_manually"  # the user sent it from Gmail
    DELETED = "deleted"  # gone from Gmail unsent

    @property
    def in_flight(self) -> bool:
        """An intent whose outcome was never recorded."""
        return self in (DraftStatus.CREATING, DraftStatus.SENDING)


class NudgeKind(StrEnum):
    DRAFT_READY = "draft_ready"
    REMINDER = "reminder"
    CLOSING = "closing"
    CHECKIN = "checkin"
    SENT = "sent"
    EXPIRED = "expired"
    PROBLEM = "problem"
    # The answer to the user's reply to a nudge email (approval by reply): email only.
    CONFIRMATION = "confirmation"


@dataclass(frozen=True)
class Attendee:
    email: str  # lower-cased
    name: str = ""  # displayName as given (hostile: never template code, never a raw header)
    response: str = "needsAction"  # accepted | declined | tentative | needsAction
    is_self: bool = False
    is_organizer: bool = False
    kind: AttendeeKind = AttendeeKind.PERSON
    optional: bool = False


@dataclass(frozen=True)
class Event:
    """A calendar event, normalised by the calendar adapter (Google's:
    adapters.google.calendar_events)."""

    calendar_id: str
    id: str
    status: str = "confirmed"  # confirmed | tentative | cancelled
    summary: str = ""
    description: str = ""
    location: str = ""
    start: datetime | None = None  # timezone-aware; None for all-day or missing
    end: datetime | None = None
    all_day: bool = False
    kind: EventKind = EventKind.MEETING
    kind_label: str = ""  # the calendar's own name for the kind, for messages (hostile)
    attendees: tuple[Attendee, ...] = ()
    attendees_omitted: bool = False
    organizer_email: str = ""
    organizer_self: bool = False
    organizer_name: str = ""  # organizer.displayName as given (hostile, like Attendee.name)
    organizer_kind: AttendeeKind = AttendeeKind.PERSON
    recurring_event_id: str | None = None
    html_link: str = ""
    conference_url: str = ""

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True)
class Person:
    """Someone the note is about or addressed to. `email` may be "" when only a
    name is known (an interviewer listed in a scheduling tool's description)."""

    email: str
    name: str
    first_name: str


@dataclass(frozen=True)
class Detection:
    """What detection concluded about one event."""

    is_interview: bool
    reason: str  # why (or why not), for `show` and debug logs; never holds the description
    recipients: tuple[Person, ...] = ()  # who gets a note (have an email)
    interviewers: tuple[Person, ...] = ()  # everyone who interviewed, emails or not
    company: str = ""
    role: str = ""
    kind: str = "interview"  # phone_screen | interview | panel | onsite


@dataclass(frozen=True)
class Finding:
    """One proofreading finding. `blocking` findings stop a draft from being created."""

    code: str  # e.g. "spelling", "repeated_word", "too_long", "no_thanks", "no_detail", "template"
    message: str
    blocking: bool = False


@dataclass
class Draft:
    """One Gmail draft of a follow-up (one per recipient, or one for the panel)."""

    recipients: tuple[str, ...]  # emails on the To line
    rfc_message_id: str  # the Message-ID header we generated: finds our own duplicates
    draft_id: str | None = None  # Gmail's draft id (stable across edits)
    message_id: str | None = None  # Gmail's message id when we last wrote it
    thread_id: str | None = None
    subject: str = ""
    touched: bool = False  # the user edited it: never overwrite
    status: DraftStatus = DraftStatus.PLANNED
    sent_message_id: str | None = None


@dataclass
class FollowUp:
    id: str
    calendar_id: str
    event_id: str
    summary: str
    start: datetime
    end: datetime
    state: State = State.PENDING
    recipients: tuple[str, ...] = ()
    people: tuple[Person, ...] = ()  # recipients with names, for greetings
    interviewers: tuple[Person, ...] = ()
    location: str = ""
    company: str = ""
    role: str = ""
    kind: str = "interview"
    template: str = ""
    drafts: list[Draft] = field(default_factory=list)
    window_start: datetime | None = None
    window_end: datetime | None = None
    draft_at: datetime | None = None
    send_at: datetime | None = None  # null until confirmed
    late: bool = False  # send_at fell outside the window (late policy)
    notes: list[str] = field(default_factory=list)
    proofread: list[Finding] = field(default_factory=list)
    nudges_sent: list[NudgeKind] = field(default_factory=list)  # kinds already delivered
    replied_at: datetime | None = None
    reply_checked_at: datetime | None = None  # last look for a reply (hourly at most)
    sent_at: datetime | None = None
    approved_via: str = ""
    error: str = ""  # last problem acting on it, for `show`
    retry_at: datetime | None = None  # after a problem: not before this moment
    rerender: bool = False  # notes changed: refresh untouched drafts
    nudge_thread_id: str | None = None  # thread of the nudge email (approval by reply)
    created_at: datetime | None = None
    updated_at: datetime | None = None


NUDGE_KINDS = frozenset(NudgeKind)
ACTIONS: tuple[str, ...] = ("approve", "skip", "open")


@dataclass(frozen=True)
class Nudge:
    """A message to the user about a follow-up; the channels live in adapters.notify.
    `thread_id`: the thread to continue on channels that have threads (the nudge
    email thread the user may answer)."""

    followup_id: str
    kind: NudgeKind
    title: str = field(repr=False)
    body: str = field(repr=False)  # plain text; may hold user data: never log it
    actions: tuple[str, ...] = ()
    open_url: str | None = None
    payload: dict[str, object] = field(default_factory=dict, repr=False)
    thread_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in NUDGE_KINDS:
            raise ValueError(f"unknown nudge kind: {self.kind!r}")
        object.__setattr__(self, "kind", NudgeKind(self.kind))  # a plain string is accepted
        unknown = [a for a in self.actions if a not in ACTIONS]
        if unknown:
            raise ValueError(f"unknown nudge actions: {unknown!r}")
