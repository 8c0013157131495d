"""What a channel reports back (Delivery), the email channel's one thread per
follow-up, and the registry that builds the configured channels."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest

from followupd.adapters.mailbox_memory import FakeMailbox
from followupd.adapters.notify.base import Delivery, Notifier, NotifyError
from followupd.adapters.notify.command import CommandNotifier
from followupd.adapters.notify.desktop import DesktopNotifier
from followupd.adapters.notify.email import EmailNotifier
from followupd.adapters.notify.memory import InMemoryNotifier
from followupd.adapters.notify.registry import NotifierRegistry
from followupd.core.model import Nudge, NudgeKind
from followupd.core.settings import NudgeSettings
from followupd.errors import FollowupdError

ME = "casey@example.com"


def nudge(kind: str = "draft_ready", **kw: Any) -> Nudge:
    fields: dict[str, Any] = {
        "followup_id": "a1b2c3",
        "kind": kind,
        "title": "Draft ready: Initech onsite",
        "body": "Review the draft in Gmail.",
        "actions": ("skip", "open"),
        "payload": {"summary": "Initech onsite"},
    }
    fields.update(kw)
    return Nudge(**fields)


def headers(mailbox: FakeMailbox, message_id: str) -> Any:
    return email.message_from_bytes(mailbox.raw(message_id), policy=email.policy.default)


SECRET = "secret-body-marker"


def working_and_failing(kind: str) -> tuple[Notifier, Notifier]:
    """One channel that delivers and one that fails, of *kind*."""
    if kind == "memory":
        return InMemoryNotifier(), InMemoryNotifier(fail=NotifyError("down"))
    if kind == "command":
        return CommandNotifier(["true"]), CommandNotifier(["sh", "-c", "exit 3"])
    broken = FakeMailbox(ME)
    broken.fail_next("send_message", FollowupdError("Gmail is unreachable"))
    return EmailNotifier(FakeMailbox(ME), ME, "Casey"), EmailNotifier(broken, ME, "Casey")


@pytest.mark.parametrize("kind", ["memory", "command", "email"])
def test_the_notifier_contract(kind: str) -> None:
    """Each channel reports its own name, and fails with NotifyError only, without
    the nudge's text."""
    working, failing = working_and_failing(kind)
    assert isinstance(working, Notifier)
    assert working.send(nudge(body=SECRET)).channel == working.name
    with pytest.raises(NotifyError) as caught:
        failing.send(nudge(body=SECRET))
    assert SECRET not in str(caught.value)


def test_channels_without_threads_report_none() -> None:
    assert CommandNotifier(["true"]).send(nudge(thread_id="t-1")) == Delivery("command", None)
    assert InMemoryNotifier().send(nudge(thread_id="t-1")) == Delivery("memory", None)


def test_email_starts_a_thread_then_continues_the_one_it_is_given() -> None:
    mailbox = FakeMailbox(ME)
    notifier = EmailNotifier(mailbox, ME, "Casey Candidate")
    first = notifier.send(nudge())
    assert first.channel == "email" and first.thread_id
    # A fresh notifier (a restart) continues the thread it is handed.
    again = EmailNotifier(mailbox, ME, "Casey Candidate").send(
        nudge("reminder", thread_id=first.thread_id)
    )
    assert again.thread_id == first.thread_id
    root, reply = [m for m in mailbox.sent_messages() if m.thread_id == first.thread_id]
    assert headers(mailbox, reply.id)["In-Reply-To"] == headers(mailbox, root.id)["Message-ID"]
    assert headers(mailbox, reply.id)["Message-ID"] != headers(mailbox, root.id)["Message-ID"]


def test_email_problems_stand_alone() -> None:
    mailbox = FakeMailbox(ME)
    delivery = EmailNotifier(mailbox, ME, "Casey").send(nudge("problem", thread_id="t-9"))
    assert delivery == Delivery("email", None)
    (sent,) = mailbox.sent_messages()
    assert sent.thread_id != "t-9"


def test_email_confirmation_answers_in_the_thread() -> None:
    mailbox = FakeMailbox(ME)
    notifier = EmailNotifier(mailbox, ME, "Casey")
    thread = notifier.send(nudge()).thread_id
    answer = nudge(
        NudgeKind.CONFIRMATION, title="followupd", body="approved", actions=(), thread_id=thread
    )
    assert notifier.send(answer) == Delivery("email", thread)
    last = mailbox.sent_messages()[-1]
    body = headers(mailbox, last.id).get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("followupd: approved")


def test_registry_builds_the_configured_channels_in_order() -> None:
    settings = NudgeSettings(
        channels=["email", "command", "desktop"], command=["true"], reply_approval=True
    )
    desktop = DesktopNotifier(bus_address="unix:path=/nonexistent")
    registry = NotifierRegistry.from_settings(
        settings, mailbox=FakeMailbox(ME), account=ME, from_name="Casey", desktop=desktop
    )
    assert [n.name for n in registry] == ["email", "command", "desktop"]
    assert registry.get("desktop") is desktop
    email_channel = registry.get("email")
    assert isinstance(email_channel, EmailNotifier) and email_channel.reply_approval
    assert email_channel.from_name == "Casey"


def test_registry_leaves_out_what_it_cannot_build() -> None:
    settings = NudgeSettings(channels=["email", "command"], command=[])
    registry = NotifierRegistry.from_settings(settings)  # no mailbox, no command
    assert len(registry) == 0
    assert registry.get("email") is None
