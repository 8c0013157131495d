"""The email nudge channel: a short note to the user's own address.

Its subject carries the follow-up id, so that (opt-in, gmail.readonly) the user can
answer it with "send" or "skip" from any Gmail client.
"""

from __future__ import annotations

import hashlib
import time

from followupd.adapters.gmail import Mailbox
from followupd.adapters.notify import NotifyError, Nudge
from followupd.core.compose import Rendered
from followupd.core.message import build_message, make_message_id
from followupd.core.model import Person
from followupd.errors import FollowupdError

SUBJECT_TAG = "[followupd {id}]"


class EmailNotifier:
    name = "email"

    def __init__(self, mailbox: Mailbox, account: str, from_name: str) -> None:
        self.mailbox = mailbox
        self.account = account
        self.from_name = from_name
        self.last_thread: dict[str, str] = {}  # follow-up id -> thread of its nudges

    def send(self, nudge: Nudge) -> None:
        tag = SUBJECT_TAG.format(id=nudge.followup_id) if nudge.followup_id else "[followupd]"
        body = nudge.body
        if "approve" in nudge.actions:
            body += (
                '\n\nAnswer this email with "send" to approve, or "skip" to drop it '
                "(needs reply approval turned on)."
            )
        token = hashlib.sha256(f"{nudge.followup_id}{nudge.kind}{time.time()}".encode()).hexdigest()
        me = Person(email=self.account, name=self.from_name, first_name="")
        try:
            raw = build_message(
                rendered=Rendered(subject=f"{tag} {nudge.title}", text=body, html=None),
                from_name=self.from_name,
                from_email=self.account,
                to=[me],
                message_id=make_message_id(self.account.rpartition("@")[2], token[:16]),
            )
            sent = self.mailbox.send_message(raw)
        except (FollowupdError, ValueError) as exc:
            raise NotifyError(f"email to {self.account} failed: {exc}") from None
        if nudge.followup_id:
            self.last_thread[nudge.followup_id] = sent.thread_id
