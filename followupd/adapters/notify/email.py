"""The email nudge channel: a short note to the user's own address.

Its subject carries the follow-up id, so that (opt-in, gmail.readonly) the user can
answer it with "send" or "skip" from any Gmail client. Every nudge about one follow-up
goes into one thread (same subject, threadId, In-Reply-To): a nudge continues the
thread in its ``thread_id`` (the engine keeps it in ``FollowUp.nudge_thread_id``) and
its :class:`Delivery` reports the thread used or started. A ``confirmation`` nudge
answers the user's reply in that thread.

Every message we write starts with a fixed line (the nudge's title, or "followupd:")
that can never read as an answer, and carries a ``<followupd.…>`` Message-ID.
"""

from __future__ import annotations

import hashlib
import secrets

from followupd.adapters.mailbox import Mailbox
from followupd.adapters.notify.base import Delivery, NotifyError
from followupd.core.message import build_message, make_message_id
from followupd.core.model import Nudge, NudgeKind, Person
from followupd.core.templates import Rendered
from followupd.errors import FollowupdError

SUBJECT_TAG = "[followupd {id}]"
# Nudges that start (or continue) the follow-up's thread; others stand alone.
THREADED_KINDS = frozenset(
    {"draft_ready", "reminder", "closing", "checkin", "sent", "expired", NudgeKind.CONFIRMATION}
)


def nudge_subject(followup_id: str, summary: str) -> str:
    """The same subject for every message of one follow-up (Gmail threads by it)."""
    summary = " ".join(summary.split())[:80]
    return f"{SUBJECT_TAG.format(id=followup_id)} {summary or 'your interview follow-up'}"


class EmailNotifier:
    name = "email"

    def __init__(
        self, mailbox: Mailbox, account: str, from_name: str, *, reply_approval: bool = False
    ) -> None:
        self.mailbox = mailbox
        self.account = account
        self.from_name = from_name
        self.reply_approval = reply_approval

    # the thread -------------------------------------------------------------------

    def _root_id(self, followup_id: str) -> str:
        token = hashlib.sha256(f"nudge\0{followup_id}".encode()).hexdigest()[:16]
        return make_message_id(self._domain(), token)

    def _domain(self) -> str:
        return self.account.rpartition("@")[2] or "followupd.invalid"

    def _send(
        self, followup_id: str, subject: str, body: str, *, threaded: bool, thread: str | None
    ) -> str | None:
        """Send one message, continuing *thread* when threaded and given; the thread
        it went into (None when not threaded)."""
        me = Person(email=self.account, name=self.from_name, first_name="")
        thread = thread if threaded else None
        root = self._root_id(followup_id) if threaded else None
        message_id = root if threaded and thread is None else None
        try:
            raw = build_message(
                rendered=Rendered(subject=subject, text=body, html=None),
                from_name=self.from_name,
                from_email=self.account,
                to=[me],
                message_id=message_id or make_message_id(self._domain(), secrets.token_hex(8)),
                in_reply_to=root if thread else None,
                references=root if thread else None,
            )
            sent = self.mailbox.send_message(raw, thread_id=thread)
        except (FollowupdError, ValueError) as exc:
            raise NotifyError(f"email to {self.account} failed: {exc}") from None
        return (sent.thread_id or thread) if threaded else None

    # Notifier ---------------------------------------------------------------------

    def send(self, nudge: Nudge) -> Delivery:
        threaded = bool(nudge.followup_id) and nudge.kind in THREADED_KINDS
        if nudge.followup_id:
            subject = nudge_subject(nudge.followup_id, str(nudge.payload.get("summary") or ""))
            if not threaded:
                subject = f"{SUBJECT_TAG.format(id=nudge.followup_id)} {nudge.title}"
        else:
            subject = f"[followupd] {nudge.title}"
        if nudge.kind is NudgeKind.CONFIRMATION:
            body = f"followupd: {nudge.body}"  # the answer to the user's reply
        else:
            # The title comes first: a line of ours can never read as "send" or "skip".
            body = f"{nudge.title}\n\n{nudge.body}"
        if "approve" in nudge.actions and self.reply_approval:
            body += (
                '\n\nOr answer this email with "send" to approve it, or "skip" to drop it '
                "(the first line of your answer counts)."
            )
        thread = self._send(
            nudge.followup_id, subject, body, threaded=threaded, thread=nudge.thread_id
        )
        return Delivery(self.name, thread)
