"""Approval by answering the nudge email ("send" / "skip"), on the in-memory fakes."""

from __future__ import annotations

import email
import email.policy
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from support.engine_world import ME, T0, World, interview, make_config

from followupd.adapters.mailbox_memory import FakeMailbox
from followupd.adapters.notify.email import EmailNotifier
from followupd.adapters.notify.memory import InMemoryNotifier
from followupd.adapters.notify.registry import NotifierRegistry
from followupd.core.model import State
from followupd.core.nudges import reply_command
from followupd.engine.cycle import Engine

END = T0 + timedelta(minutes=45)
DRAFTED_AT = END + timedelta(minutes=11)  # Monday 10:56 UTC: draft_ready is due


def reply_approval_config(**over: Any) -> Any:
    nudge = {"channels": ["email"], "reply_approval": True, **over.pop("nudge", {})}
    return make_config(google={"readonly_scope": True}, nudge=nudge, **over)


class EmailWorld(World):
    """The fakes, with the email channel (the real EmailNotifier) instead of memory."""

    def __init__(self, tmp_path: Path, config: Any, *, read_scope: bool = True) -> None:
        super().__init__(tmp_path, config)
        self.mailbox = FakeMailbox(ME, now=self.clock.now, read_scope=read_scope)

    def engine(self) -> Engine:
        self.store.close()
        from followupd.adapters.store import Store

        self.store = Store(self.db)
        return Engine(
            config=self.config,
            store=self.store,
            calendar=self.calendar,
            mailbox=self.mailbox,
            templates=self.templates,
            notifiers=[
                EmailNotifier(
                    self.mailbox,
                    ME,
                    "Casey Candidate",
                    reply_approval=self.config.nudge.reply_approval,
                )
            ],
            account=ME,
            clock=self.clock,
        )

    # --- what is in Gmail ----------------------------------------------------------

    def thread(self, thread_id: str) -> list[tuple[Any, str]]:
        """Looked at from outside (the fake's storage: no request counted, no scope)."""
        result = []
        for message in self.mailbox._thread_messages(thread_id):
            parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            body = parsed.get_body(preferencelist=("plain",))
            result.append((message.meta(), body.get_content() if body is not None else ""))
        return result

    def ours(self, thread_id: str) -> list[str]:
        """The bodies of our messages (nudges, confirmations) in the thread."""
        return [
            text
            for meta, text in self.thread(thread_id)
            if meta.rfc_message_id.startswith("<followupd.")
        ]

    def answer(
        self, thread_id: str, text: str, *, sender: str = ME, labels: tuple[str, ...] = ()
    ) -> str:
        """A reply in the thread, as Gmail files it: the user's own is SENT (and, being
        to themselves, INBOX too); somebody else's is INBOX only."""
        first = email.message_from_bytes(self.mailbox.raw(self.thread(thread_id)[0][0].id))
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = ME
        msg["Subject"] = "Re: " + str(first["Subject"])
        msg["Message-ID"] = f"<reply-{len(self.thread(thread_id))}@phone.example>"
        msg["In-Reply-To"] = str(first["Message-ID"])
        msg.set_content(text)
        labels = labels or (("SENT", "INBOX") if sender == ME else ("INBOX", "UNREAD"))
        return self.mailbox.add_message(msg.as_bytes(), labels, thread_id)


def drafted(world: EmailWorld) -> Any:
    world.calendar.add_event(interview())
    world.at(DRAFTED_AT)
    fu = world.only()
    assert fu.state is State.DRAFTED
    assert fu.nudges_sent == ["draft_ready"]
    assert fu.nudge_thread_id
    return fu


@pytest.fixture
def world(tmp_path: Path) -> EmailWorld:
    return EmailWorld(tmp_path, reply_approval_config())


class TestTheNudgeEmail:
    def test_to_self_with_the_id_and_how_to_answer(self, world: EmailWorld) -> None:
        fu = drafted(world)
        (nudge,) = [m for m in world.mailbox.sent_messages() if m.thread_id == fu.nudge_thread_id]
        assert nudge.sender == ME
        assert f"[followupd {fu.id}]" in nudge.subject
        (body,) = world.ours(fu.nudge_thread_id)
        assert body.startswith("Draft ready: review your follow-up")
        assert f"followupd approve {fu.id}" in body
        assert 'answer this email with "send"' in body
        assert "Best sent by" in body

    def test_later_nudges_share_the_thread_across_a_restart(self, world: EmailWorld) -> None:
        fu = drafted(world)
        # Tuesday 09:00 is the "reminder" (next morning); a fresh engine = a restart.
        world.at(T0.replace(hour=9) + timedelta(days=1, minutes=1))
        after = world.only()
        assert after.nudges_sent == ["draft_ready", "reminder"]
        assert after.nudge_thread_id == fu.nudge_thread_id
        bodies = world.ours(fu.nudge_thread_id)
        assert [b.splitlines()[0] for b in bodies] == [
            "Draft ready: review your follow-up",
            "Reminder: your follow-up is waiting",
        ]

    def test_no_reply_hint_without_reply_approval(self, tmp_path: Path) -> None:
        world = EmailWorld(tmp_path, make_config(nudge={"channels": ["email"]}))
        fu = drafted(world)
        (body,) = world.ours(fu.nudge_thread_id)
        assert '"send"' not in body


class TestAnswers:
    def test_send_approves_confirms_once_and_sends_once(self, world: EmailWorld) -> None:
        fu = drafted(world)
        world.clock.set(DRAFTED_AT + timedelta(minutes=5))
        world.answer(fu.nudge_thread_id, "Send\n\nSent from my phone")
        world.at(DRAFTED_AT + timedelta(minutes=6))
        approved = world.only()
        assert approved.state is State.APPROVED
        assert approved.approved_via == "email"
        assert approved.send_at is not None and not approved.late
        confirmations = [b for b in world.ours(fu.nudge_thread_id) if b.startswith("followupd:")]
        assert len(confirmations) == 1
        assert "approved via email; it will be sent" in confirmations[0]
        # More cycles: the same answer is never acted on (or confirmed) again.
        for minutes in (7, 8, 9):
            world.at(DRAFTED_AT + timedelta(minutes=minutes))
        assert len([b for b in world.ours(fu.nudge_thread_id) if b.startswith("followupd:")]) == 1
        world.at(approved.send_at + timedelta(seconds=1))
        world.at(approved.send_at + timedelta(minutes=5))
        assert world.only().state is State.SENT
        assert world.mailbox.counts()["gmail.users.drafts.send"] == 1

    @pytest.mark.parametrize("word", ["skip", "No.", "  *no*"])
    def test_skip_and_no(self, world: EmailWorld, word: str) -> None:
        fu = drafted(world)
        world.clock.set(DRAFTED_AT + timedelta(minutes=5))
        world.answer(fu.nudge_thread_id, word)
        world.at(DRAFTED_AT + timedelta(minutes=6))
        skipped = world.only()
        assert skipped.state is State.SKIPPED
        assert skipped.approved_via == "email"
        assert len(world.mailbox.drafts()) == 1  # the draft stays in Gmail
        assert any(b.startswith("followupd: skipped") for b in world.ours(fu.nudge_thread_id))

    def test_a_later_skip_undoes_an_approval(self, world: EmailWorld) -> None:
        fu = drafted(world)
        world.clock.set(DRAFTED_AT + timedelta(minutes=5))
        world.answer(fu.nudge_thread_id, "yes")
        world.at(DRAFTED_AT + timedelta(minutes=6))
        assert world.only().state is State.APPROVED
        world.clock.set(DRAFTED_AT + timedelta(minutes=7))
        world.answer(fu.nudge_thread_id, "skip")
        world.at(DRAFTED_AT + timedelta(minutes=8))
        assert world.only().state is State.SKIPPED
        world.at(END + timedelta(hours=30))
        assert world.mailbox.counts().get("gmail.users.drafts.send", 0) == 0

    def test_the_first_unquoted_line_counts(self, world: EmailWorld) -> None:
        fu = drafted(world)
        world.clock.set(DRAFTED_AT + timedelta(minutes=5))
        quoted = "On Mon, 23 Nov 2026, Casey wrote:\n> skip\n> Draft ready\n\napprove!\n"
        world.answer(fu.nudge_thread_id, quoted)
        world.at(DRAFTED_AT + timedelta(minutes=6))
        assert world.only().state is State.APPROVED

    def test_after_the_window_the_late_policy_applies_and_is_said(self, world: EmailWorld) -> None:
        fu = drafted(world)
        assert fu.window_end is not None
        # Answered in time, seen only after the window closed (the laptop slept).
        world.clock.set(fu.window_end - timedelta(minutes=10))
        world.answer(fu.nudge_thread_id, "send")
        world.at(fu.window_end + timedelta(minutes=30))
        late = world.only()
        # Late policy: 11:15 is inside a preferred slot, so it goes at once.
        assert late.approved_via == "email"
        assert late.late and late.send_at is not None and late.send_at > late.window_end
        assert late.state is State.SENT
        assert world.mailbox.counts()["gmail.users.drafts.send"] == 1
        (confirmation,) = [b for b in world.ours(fu.nudge_thread_id) if b.startswith("followupd:")]
        assert "late" in confirmation and "has passed" in confirmation


class EmailAndDesktopWorld(EmailWorld):
    """Email plus a desktop channel (the in-memory twin named "desktop")."""

    def __init__(self, tmp_path: Path, config: Any) -> None:
        super().__init__(tmp_path, config)
        self.notifier = InMemoryNotifier("desktop")

    def engine(self) -> Engine:
        engine = super().engine()
        engine.notifiers = NotifierRegistry([*engine.notifiers, self.notifier])
        return engine


def test_only_the_email_channel_answers_an_email_approval(tmp_path: Path) -> None:
    world = EmailAndDesktopWorld(tmp_path, reply_approval_config())
    fu = drafted(world)
    assert [n.kind for n in world.notifier.sent] == ["draft_ready"]
    assert world.notifier.sent[0].thread_id is None  # the thread did not exist yet
    world.clock.set(DRAFTED_AT + timedelta(minutes=5))
    world.answer(fu.nudge_thread_id, "send")
    world.at(DRAFTED_AT + timedelta(minutes=6))
    assert world.only().state is State.APPROVED
    confirmations = [b for b in world.ours(fu.nudge_thread_id) if b.startswith("followupd:")]
    assert len(confirmations) == 1
    assert [n.kind for n in world.notifier.sent] == ["draft_ready"]


class TestNeverActsOnOthers:
    def test_someone_elses_answer_is_ignored(self, world: EmailWorld) -> None:
        fu = drafted(world)
        world.clock.set(DRAFTED_AT + timedelta(minutes=5))
        world.answer(fu.nudge_thread_id, "send", sender="jane.doe@acme.com")
        # A forged From: the user's address, but not something the user sent.
        world.answer(fu.nudge_thread_id, "send", labels=("INBOX", "UNREAD"))
        world.answer(fu.nudge_thread_id, "send", labels=("SENT", "SPAM"))
        world.at(DRAFTED_AT + timedelta(minutes=6))
        assert world.only().state is State.DRAFTED
        assert not [b for b in world.ours(fu.nudge_thread_id) if b.startswith("followupd:")]

    def test_words_that_are_not_an_answer(self, world: EmailWorld) -> None:
        fu = drafted(world)
        world.clock.set(DRAFTED_AT + timedelta(minutes=5))
        world.answer(fu.nudge_thread_id, "send it tomorrow please")
        world.answer(fu.nudge_thread_id, "> send")
        world.at(DRAFTED_AT + timedelta(minutes=6))
        assert world.only().state is State.DRAFTED

    def test_our_own_messages_never_count(self, tmp_path: Path) -> None:
        # An event titled "yes" puts "yes" into our nudges: still no approval.
        world = EmailWorld(tmp_path, reply_approval_config(detect={"include": ["yes"]}))
        world.calendar.add_event(interview(summary="yes"))
        world.at(DRAFTED_AT)
        world.at(T0.replace(hour=9) + timedelta(days=1, minutes=1))  # the reminder
        fu = world.only()
        assert fu.state is State.DRAFTED and fu.nudges_sent == ["draft_ready", "reminder"]

    def test_off_by_default(self, tmp_path: Path) -> None:
        world = EmailWorld(tmp_path, make_config(nudge={"channels": ["email"]}))
        fu = drafted(world)
        world.clock.set(DRAFTED_AT + timedelta(minutes=5))
        world.answer(fu.nudge_thread_id, "send")
        world.at(DRAFTED_AT + timedelta(minutes=6))
        assert world.only().state is State.DRAFTED
        assert world.mailbox.counts().get("gmail.users.threads.get", 0) == 0


class TestRefusals:
    def test_nudge_mode_says_why_once(self, tmp_path: Path) -> None:
        world = EmailWorld(tmp_path, reply_approval_config(mode="nudge"))
        fu = drafted(world)
        world.clock.set(DRAFTED_AT + timedelta(minutes=5))
        world.answer(fu.nudge_thread_id, "send")
        for minutes in (6, 7, 8):
            world.at(DRAFTED_AT + timedelta(minutes=minutes))
        assert world.only().state is State.DRAFTED
        replies = [b for b in world.ours(fu.nudge_thread_id) if b.startswith("followupd:")]
        assert len(replies) == 1
        assert "did not work" in replies[0] and "never sends" in replies[0]

    def test_without_a_read_scope_it_warns_once_and_carries_on(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING)
        world = EmailWorld(tmp_path, reply_approval_config(), read_scope=False)
        fu = drafted(world)
        world.clock.set(DRAFTED_AT + timedelta(minutes=5))
        world.answer(fu.nudge_thread_id, "send")
        engine = world.engine()
        for minutes in (6, 7):
            world.clock.set(DRAFTED_AT + timedelta(minutes=minutes))
            engine.cycle()
        assert world.only().state is State.DRAFTED
        assert caplog.text.count("followupd login") == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("send", "approve"),
        ("SEND\n", "approve"),
        ("\n\n  Yes!  \nthanks", "approve"),
        ('"approve"', "approve"),
        ("skip", "skip"),
        ("no", "skip"),
        ("On Tue, Casey wrote:\n> send\n\nno", "skip"),
        ("> send\n", None),
        ("send it", None),
        ("yes, but change the second line", None),
        ("Draft ready: review your follow-up\n\nsend", None),
        ("", None),
        ("sending", None),
    ],
)
def test_reply_command(text: str, expected: str | None) -> None:
    assert reply_command(text) == expected


def test_a_reply_the_user_sent_before_the_nudge_is_not_an_answer(world: EmailWorld) -> None:
    fu = drafted(world)
    thread = world.thread(fu.nudge_thread_id)
    assert thread and isinstance(thread[0][0].internal_date, datetime)
    # Filed with the nudge's own timestamp: not newer than the nudge.
    world.answer(fu.nudge_thread_id, "send")
    world.at(DRAFTED_AT + timedelta(minutes=1))
    assert world.only().state is State.DRAFTED


def test_plain_text_of_a_full_format_payload() -> None:
    """GoogleMailbox.thread_texts reads the first text/plain part, not an attachment."""
    import base64

    from followupd.adapters.google.gmail import plain_text

    def data(text: str, charset: str = "utf-8") -> str:
        return base64.urlsafe_b64encode(text.encode(charset)).decode().rstrip("=")

    payload = {
        "mimeType": "multipart/mixed",
        "parts": [
            {
                "mimeType": "multipart/alternative",
                "parts": [
                    {
                        "mimeType": "text/plain",
                        "headers": [
                            {"name": "Content-Type", "value": 'text/plain; charset="iso-8859-1"'}
                        ],
                        "body": {"data": data("Oui, envoyé\n", "iso-8859-1")},
                    },
                    {"mimeType": "text/html", "body": {"data": data("<p>no</p>")}},
                ],
            },
            {"mimeType": "text/plain", "filename": "a.txt", "body": {"data": data("skip")}},
        ],
    }
    assert plain_text(payload) == "Oui, envoyé\n"
    attachment_only = {"mimeType": "multipart/mixed", "parts": payload["parts"][1:]}
    assert plain_text(attachment_only) == ""
    assert plain_text({"mimeType": "text/html", "body": {"data": data("send")}}) == ""
    assert plain_text(None) == ""
