"""Looking at Gmail: fetch what it holds of each draft and thread, ask the planner
what that means, fold the answer in. Notices edits, hand-sent or deleted drafts and
replies, and finishes intents a crash left open."""

from __future__ import annotations

import logging

from followupd.adapters.mailbox import DraftRef, MessageMeta, normalize_message_id
from followupd.core import lifecycle, operations, planner
from followupd.core.model import Draft, DraftStatus, FollowUp, State
from followupd.core.operations import AdoptDraft, GmailDraft, LeaveTouched, MarkReplied
from followupd.core.planner import DraftSeen, SentNote, ThreadMessage
from followupd.engine.base import CycleReport
from followupd.engine.replies import ReplyCommands
from followupd.errors import FollowupdError

log = logging.getLogger(__name__)


def gmail_draft(ref: DraftRef) -> GmailDraft:
    return GmailDraft(draft_id=ref.draft_id, message_id=ref.message_id, thread_id=ref.thread_id)


def thread_message(meta: MessageMeta) -> ThreadMessage:
    return ThreadMessage(
        sender=meta.sender,
        internal_date=meta.internal_date,
        sent=meta.sent,
        draft=meta.draft,
    )


class GmailWatching(ReplyCommands):
    def check_gmail(self, report: CycleReport | None = None) -> None:
        """Notice edits, hand-sent or deleted drafts, replies; finish open intents."""
        now = self.clock.now()
        for fu in self.store.all():
            if not lifecycle.watches_gmail(fu, now):
                continue
            before = (fu.state, [(d.status, d.touched) for d in fu.drafts], fu.replied_at)
            for draft in fu.drafts:
                self._check_draft(fu, draft)
            if fu.state in (State.SENT, State.SENT_MANUALLY) and fu.replied_at is None:
                self._check_reply(fu)
                fu.reply_checked_at = now
            lifecycle.settle_after_gmail(fu, now)
            after = (fu.state, [(d.status, d.touched) for d in fu.drafts], fu.replied_at)
            if after == before and fu.reply_checked_at == now:
                self._commit(fu)  # remember the look, so the next one waits an hour
            if after != before:
                if fu.state is not before[0]:
                    self.store.record(now, fu.id, fu.state.value, "seen in Gmail")
                    self.on_change(fu, fu.state.value)
                if fu.replied_at and not before[2]:
                    self.store.record(now, fu.id, "replied", "the interviewer replied")
                    self.on_change(fu, "replied")
                self._commit(fu)
            thread = fu.nudge_thread_id
            answerable = fu.state in (State.DRAFTED, State.APPROVED)
            if answerable and thread and self.config.nudge.reply_approval:
                self._check_reply_command(fu, thread)

    def _check_draft(self, fu: FollowUp, draft: Draft) -> None:
        if not planner.needs_look(draft):
            return
        op = planner.check_draft(draft, self._look(draft))
        if isinstance(op, LeaveTouched):
            log.info("follow-up %s: the user edited a draft; it will not be changed", fu.id)
        if op is not None:
            self._carry_out(fu, op)

    def _carry_out(self, fu: FollowUp, op: operations.Operation) -> None:
        """Record an outcome; an adopted draft's duplicates go first."""
        if isinstance(op, AdoptDraft):
            for duplicate in op.duplicates:
                self.mailbox.delete_draft(duplicate)
        operations.record(fu, op)

    def _look(self, draft: Draft) -> DraftSeen:
        """What Gmail holds of one draft: only what the planner's decision needs."""
        if draft.status is DraftStatus.CREATING:
            found = self.mailbox.find_drafts_by_message_id(self._message_id(draft))
            if found:
                keep, *extra = found
                return DraftSeen(gmail_draft(keep), tuple(d.draft_id for d in extra))
            return DraftSeen(sent=self._sent_by_hand(draft))
        assert draft.draft_id is not None
        ref = self.mailbox.get_draft(draft.draft_id)
        if ref is not None:
            return DraftSeen(gmail_draft(ref))
        return DraftSeen(sent=self._sent_in_thread(draft))

    def _sent_by_hand(self, draft: Draft) -> tuple[SentNote, ...]:
        """Our Message-ID in the sent folder: the user sent a draft we never recorded."""
        if not self.config.google.metadata_scope:
            return ()
        try:
            sent = self.mailbox.recent_sent() or []
        except FollowupdError as exc:
            log.warning("cannot look at sent mail: %s", exc)
            return ()
        wanted = normalize_message_id(self._message_id(draft))
        for message in sent:
            if normalize_message_id(message.rfc_message_id) == wanted:
                return (SentNote(message.id, message.thread_id),)
        return ()

    def _sent_in_thread(self, draft: Draft) -> tuple[SentNote, ...] | None:
        if not draft.thread_id or not self.config.google.metadata_scope:
            return None
        try:
            messages = self.mailbox.thread(draft.thread_id)
        except FollowupdError as exc:
            log.warning("cannot read a thread: %s", exc)
            return None
        if messages is None:
            return ()
        return tuple(SentNote(m.id, m.thread_id) for m in messages if m.sent and not m.draft)

    def _check_reply(self, fu: FollowUp) -> None:
        if not self.config.google.metadata_scope or fu.sent_at is None:
            return
        threads = {d.thread_id for d in fu.drafts if d.thread_id}
        for thread_id in threads:
            try:
                messages = self.mailbox.thread(thread_id) or []
            except FollowupdError as exc:
                log.warning("cannot read a thread: %s", exc)
                return
            replied = planner.find_reply(
                map(thread_message, messages), account=self.account, sent_at=fu.sent_at
            )
            if replied is not None:
                operations.record(fu, MarkReplied(replied))
                return
