"""The send pass: each confirmed draft still in Gmail is sent inside the intent
bracket ("sending" committed before drafts.send). An answer lost on the way is
settled by the next look at Gmail (a sent draft leaves Drafts), never by sending
again."""

from __future__ import annotations

import logging

from followupd.adapters.mailbox import SendUncertain
from followupd.core import lifecycle, planner
from followupd.core.model import DraftStatus, FollowUp, State
from followupd.core.operations import MarkSent
from followupd.engine.base import CycleReport
from followupd.engine.draft_pass import DraftWriting

log = logging.getLogger(__name__)


class Sending(DraftWriting):
    def _send(self, fu: FollowUp, report: CycleReport) -> None:
        now = self.clock.now()
        for op in planner.drafts_to_send(fu):
            draft = next(d for d in fu.drafts if d.rfc_message_id == op.draft)
            draft.status = DraftStatus.SENDING
            self._commit(fu)  # the intent, durable before the call
            try:
                ref = self.mailbox.send_draft(op.draft_id)
            except SendUncertain:
                log.warning("follow-up %s: connection lost while sending; will check Gmail", fu.id)
                return
            if ref is None:
                sent = self._sent_in_thread(draft)
                self._carry_out(fu, planner.resolve_gone(draft, sent, intended_send=True))
            else:
                self._carry_out(fu, MarkSent(op.draft, ref.message_id, ref.thread_id))
                report.sent += 1
            self._commit(fu)
        lifecycle.settle_after_gmail(fu, now)
        if fu.state in (State.SENT, State.SENT_MANUALLY):
            fu.sent_at = fu.sent_at or now
            self.store.record(now, fu.id, "sent", "follow-up sent")
            log.info("follow-up %s: sent", fu.id)
            self.on_change(fu, "sent")
        self._commit(fu)
