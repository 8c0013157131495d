"""The Mailbox contract, run against FakeMailbox and GoogleMailbox+sandbox."""

from __future__ import annotations

import pytest
from support.adapter_worlds import MailWorld, follow_up

from followupd.adapters.mailbox import DraftRef, SendUncertain


def create(mw: MailWorld, **kwargs: str) -> tuple[DraftRef, str]:
    thread_id = kwargs.pop("thread_id", None)
    raw, message_id = follow_up(**kwargs)
    return mw.mailbox.create_draft(raw, rfc_message_id=message_id, thread_id=thread_id), message_id


class TestMailbox:
    """Drafts, sends, threads and the user's own moves in Gmail: the same on both sides."""

    def test_profile_email(self, mail_world: MailWorld) -> None:
        assert "@" in mail_world.mailbox.profile_email()

    def test_create_then_get(self, mail_world: MailWorld) -> None:
        mw = mail_world
        draft, _ = create(mw)
        assert draft.draft_id and draft.message_id and draft.thread_id
        assert mw.mailbox.get_draft(draft.draft_id) == draft
        assert mw.draft_ids() == {draft.draft_id}

    def test_update_keeps_draft_id_and_changes_message_id(self, mail_world: MailWorld) -> None:
        mw = mail_world
        draft, message_id = create(mw)
        raw, _ = follow_up(body="Dear Grace,\n\nThanks again.\n\nAda\n", message_id=message_id)

        updated = mw.mailbox.update_draft(draft.draft_id, raw, thread_id=draft.thread_id)

        assert updated is not None
        assert updated.draft_id == draft.draft_id
        assert updated.message_id != draft.message_id
        assert updated.thread_id == draft.thread_id
        assert mw.mailbox.get_draft(draft.draft_id) == updated

    def test_delete(self, mail_world: MailWorld) -> None:
        mw = mail_world
        draft, _ = create(mw)
        mw.mailbox.delete_draft(draft.draft_id)
        assert mw.mailbox.get_draft(draft.draft_id) is None
        mw.mailbox.delete_draft(draft.draft_id)  # already gone: fine
        raw, _ = follow_up()
        assert mw.mailbox.update_draft(draft.draft_id, raw) is None
        assert mw.mailbox.send_draft(draft.draft_id) is None
        assert mw.draft_ids() == set()

    def test_send_draft(self, mail_world: MailWorld) -> None:
        mw = mail_world
        draft, message_id = create(mw)

        sent = mw.mailbox.send_draft(draft.draft_id)

        assert sent is not None
        assert sent.thread_id == draft.thread_id
        assert mw.mailbox.get_draft(draft.draft_id) is None
        assert mw.mailbox.send_draft(draft.draft_id) is None  # a second send: nothing
        assert mw.sent_count() == 1
        thread = mw.mailbox.thread(sent.thread_id)
        assert thread is not None
        [message] = thread
        assert message.id == sent.message_id
        assert message.sent and not message.draft
        assert message.rfc_message_id == message_id
        assert message.sender == mw.mailbox.profile_email()
        assert message.subject == "Thank you for today's interview"

    def test_user_sends_or_deletes_draft(self, mail_world: MailWorld) -> None:
        mw = mail_world
        by_hand, _ = create(mw)
        thrown_away, _ = create(mw, to="alan@corp.example")

        mw.control.user_send_draft(by_hand.draft_id)
        mw.control.user_delete_draft(thrown_away.draft_id)

        assert mw.mailbox.get_draft(by_hand.draft_id) is None
        assert mw.mailbox.get_draft(thrown_away.draft_id) is None
        assert mw.mailbox.send_draft(by_hand.draft_id) is None
        assert mw.mailbox.send_draft(thrown_away.draft_id) is None
        assert mw.sent_count() == 1
        thread = mw.mailbox.thread(by_hand.thread_id)
        assert thread is not None and any(m.sent for m in thread)
        assert mw.mailbox.thread(thrown_away.thread_id) is None

    def test_user_edit_changes_message_id(self, mail_world: MailWorld) -> None:
        mw = mail_world
        draft, _ = create(mw)

        mw.control.user_edit_draft(draft.draft_id, "Dear Grace,\n\nMy own words.\n\nAda\n")

        after = mw.mailbox.get_draft(draft.draft_id)
        assert after is not None
        assert after.draft_id == draft.draft_id
        assert after.message_id != draft.message_id
        assert after.thread_id == draft.thread_id

    def test_thread_with_reply(self, mail_world: MailWorld) -> None:
        mw = mail_world
        draft, message_id = create(mw)
        sent = mw.mailbox.send_draft(draft.draft_id)
        assert sent is not None

        mw.control.user_reply(sent.thread_id, "grace@corp.example", "Thanks, Ada! Talk soon.")

        thread = mw.mailbox.thread(sent.thread_id)
        assert thread is not None
        ours, reply = thread
        assert ours.id == sent.message_id
        assert reply.sender == "grace@corp.example"
        assert reply.in_reply_to == message_id
        assert reply.subject == "Re: Thank you for today's interview"
        assert reply.inbox
        assert reply.thread_id == sent.thread_id
        assert ours.internal_date <= reply.internal_date

    def test_reply_draft_joins_thread(self, mail_world: MailWorld) -> None:
        mw = mail_world
        first, first_id = create(mw)
        sent = mw.mailbox.send_draft(first.draft_id)
        assert sent is not None

        second, _ = create(
            mw,
            subject="Re: Thank you for today's interview",
            in_reply_to=first_id,
            thread_id=sent.thread_id,
        )

        assert second.thread_id == sent.thread_id
        thread = mw.mailbox.thread(sent.thread_id)
        assert thread is not None
        assert [m.draft for m in thread] == [False, True]

    def test_thread_id_with_another_subject_starts_a_new_thread(
        self, mail_world: MailWorld
    ) -> None:
        mw = mail_world
        first, _ = create(mw)
        other, _ = create(mw, subject="Something else", thread_id=first.thread_id)
        assert other.thread_id != first.thread_id

    def test_unknown_thread_is_none(self, mail_world: MailWorld) -> None:
        assert mail_world.mailbox.thread("18f0000000000000") is None

    def test_find_drafts_by_message_id(self, mail_world: MailWorld) -> None:
        mw = mail_world
        mine, message_id = create(mw)
        create(mw, to="alan@corp.example")

        assert mw.mailbox.find_drafts_by_message_id(message_id) == [mine]
        assert mw.mailbox.find_drafts_by_message_id(message_id.strip("<>")) == [mine]
        assert mw.mailbox.find_drafts_by_message_id("<nobody@nowhere.invalid>") == []

    def test_send_message_to_self(self, mail_world: MailWorld) -> None:
        mw = mail_world
        me = mw.mailbox.profile_email()
        raw, message_id = follow_up(to=me, subject="followupd: draft ready")

        sent = mw.mailbox.send_message(raw)

        thread = mw.mailbox.thread(sent.thread_id)
        assert thread is not None
        [message] = thread
        assert message.rfc_message_id == message_id
        assert message.sent and message.inbox

    @pytest.mark.parametrize(
        ("labels", "facts"),
        [
            (("INBOX", "UNREAD"), (False, False, True, False)),
            (("SENT",), (True, False, False, False)),
            (("SENT", "INBOX"), (True, False, True, False)),
            (("SENT", "SPAM"), (True, False, False, True)),
            (("TRASH",), (False, False, False, True)),
        ],
    )
    def test_gmail_labels_become_facts(
        self, mail_world: MailWorld, labels: tuple[str, ...], facts: tuple[bool, ...]
    ) -> None:
        raw, message_id = follow_up(subject=f"Filed under {' and '.join(labels)}")
        thread = mail_world.mailbox.thread(mail_world.add_message(raw, labels))
        assert thread is not None
        [message] = thread
        assert message.rfc_message_id == message_id
        assert (message.sent, message.draft, message.inbox, message.junk) == facts

    def test_search_messages(self, mail_world: MailWorld) -> None:
        mw = mail_world
        draft, _ = create(mw)
        sent = mw.mailbox.send_draft(draft.draft_id)
        assert sent is not None
        mw.control.user_reply(sent.thread_id, "grace@corp.example", "send")

        found = mw.mailbox.search_messages("from:grace@corp.example")

        assert found is not None
        [reply] = found
        assert reply.thread_id == sent.thread_id
        assert mw.mailbox.search_messages("from:nobody@corp.example") == []

    def test_send_uncertain_then_the_draft_and_thread_tell(self, mail_world: MailWorld) -> None:
        mw = mail_world
        draft, _ = create(mw)
        mw.drop_after("send_draft")

        with pytest.raises(SendUncertain):
            mw.mailbox.send_draft(draft.draft_id)

        # What the engine does next: the draft is gone and the thread holds a SENT message.
        assert mw.mailbox.get_draft(draft.draft_id) is None
        thread = mw.mailbox.thread(draft.thread_id)
        assert thread is not None and any(m.sent for m in thread)
        assert mw.mailbox.send_draft(draft.draft_id) is None
        assert mw.sent_count() == 1


class TestRecentSent:
    """recent_sent lists the newest sent messages with their Message-ID headers."""

    def test_a_hand_sent_draft_is_found_by_its_message_id(self, mail_world: MailWorld) -> None:
        mw = mail_world
        draft, message_id = create(mw)
        assert all(m.rfc_message_id != message_id for m in mw.mailbox.recent_sent() or [])
        mw.control.user_send_draft(draft.draft_id)
        sent = mw.mailbox.recent_sent() or []
        ours = [m for m in sent if m.rfc_message_id.strip("<>") == message_id.strip("<>")]
        assert len(ours) == 1
        assert ours[0].sent
