"""Approval by answering the nudge email (opt-in, gmail.readonly)."""

from __future__ import annotations

import logging

from followupd.adapters.mailbox import MessageMeta
from followupd.core.model import FollowUp
from followupd.core.nudges import reply_command
from followupd.engine.nudging import Nudging
from followupd.errors import FollowupdError

log = logging.getLogger(__name__)


class ReplyCommands(Nudging):
    def _check_reply_command(self, fu: FollowUp, thread_id: str) -> None:
        """Act on the user's "send" / "skip" answer in the nudge thread.

        Only a message the user sent (From: the account, labelled SENT: Gmail files
        whatever the user sends, from any client, under SENT; a forged From does not
        get there) after our first nudge counts, never one of ours; the latest answer
        wins; each answer is acted on once (kept in the history as "email_reply").
        """
        try:
            messages = self.mailbox.thread_texts(thread_id)
        except FollowupdError as exc:
            if not self._reply_warned:
                self._reply_warned = True
                log.warning(
                    "approval by reply: cannot read the nudge thread (%s); "
                    "it needs gmail.readonly: run `followupd login` again",
                    type(exc).__name__,
                )
            return
        if not messages:
            return
        ours = [m for m, _ in messages if m.rfc_message_id.startswith("<followupd.")]
        since = ours[0].internal_date if ours else messages[0][0].internal_date
        handled = {
            h["detail"].partition(" ")[0]
            for h in self.store.history(fu.id, limit=500)
            if h["kind"] == "email_reply"
        }
        answer: tuple[MessageMeta, str] | None = None
        for meta, text in messages:
            if (
                meta.sender == self.account
                and meta.sent
                and not (meta.draft or meta.junk)
                and not meta.rfc_message_id.startswith("<followupd.")
                and meta.internal_date > since
            ):
                command = reply_command(text)
                if command is not None:
                    answer = (meta, command)
        if answer is None or answer[0].id in handled:
            return
        meta, command = answer
        now = self.clock.now()
        with self.store.transaction():
            self.store.record(now, fu.id, "email_reply", f"{meta.id} {command}")
        result = self.apply(command, fu.id, via="email")
        log.info("follow-up %s: %s by answering the nudge email: %s", fu.id, command, result)
        self._confirm_by_email(fu, result)
