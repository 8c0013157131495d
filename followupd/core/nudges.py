"""What a nudge says: the next step, the deadline, and the proofreading findings.

Pure text building; the channels (desktop, email, command) live in adapters.
"""

from __future__ import annotations

from datetime import datetime

from followupd.core.model import FollowUp, Nudge, NudgeKind
from followupd.core.settings import Mode, TimingSettings

DRAFTS_URL = "https://mail.google.com/mail/u/0/#drafts"

_TITLES = {
    NudgeKind.DRAFT_READY: "Draft ready: review your follow-up",
    NudgeKind.REMINDER: "Reminder: your follow-up is waiting",
    NudgeKind.CLOSING: "Last call: the follow-up window closes soon",
    NudgeKind.CHECKIN: "No reply yet: time for a short check-in?",
}


def _local(moment: datetime | None, timing: TimingSettings) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(timing.zone).strftime("%a %d %b %H:%M")


def compose_nudge(
    fu: FollowUp, kind: NudgeKind, *, mode: Mode, timing: TimingSettings, now: datetime
) -> Nudge:
    """The nudge of `kind` about `fu`: what to do next, by when, what proofreading found."""
    who = ", ".join(p.name or p.email for p in fu.people) or ", ".join(fu.recipients)
    lines = [f"{fu.summary} ({who})"]
    if kind is NudgeKind.CHECKIN:
        lines.append(
            "Your note went out and nobody has answered. A brief check-in keeps the "
            "door open; write it in Gmail when you are ready."
        )
        actions: tuple[str, ...] = ("open",)
    else:
        lines.append("Review the draft in Gmail and change anything you like.")
        if mode is Mode.SEND:
            lines.append(
                f"Then approve it: `followupd approve {fu.id}` (or the Approve button). "
                "It is sent as you left it at the next good moment."
            )
            actions = ("approve", "skip", "open")
        else:
            lines.append(f"Then send it from Gmail yourself, or skip it: `followupd skip {fu.id}`.")
            actions = ("skip", "open")
        lines.append(f"Best sent by {_local(fu.window_end, timing)}.")
    findings = [f.message for f in fu.proofread]
    if findings:
        lines.append("Proofreading: " + "; ".join(findings))
    body = "\n".join(lines)
    return Nudge(
        followup_id=fu.id,
        kind=kind,
        title=_TITLES.get(kind, "followupd"),
        body=body,
        actions=actions,
        open_url=DRAFTS_URL,
        payload={
            "summary": fu.summary,
            "recipients": list(fu.recipients),
            "state": fu.state.value,
            "window_end": fu.window_end.isoformat() if fu.window_end else None,
            "draft_ids": [d.draft_id for d in fu.drafts if d.draft_id],
            "proofread": findings,
            "approve_command": f"followupd approve {fu.id}",
        },
    )


# --- answers to the nudge email (approval by reply) -------------------------------

REPLY_WORDS = {
    "send": "approve",
    "yes": "approve",
    "approve": "approve",
    "skip": "skip",
    "no": "skip",
}


def reply_command(text: str) -> str | None:
    """What the first line of the user's own words says: "approve", "skip" or None.

    Quoted lines (``>``) and the attribution line introducing a quote ("On ..., X
    wrote:") are passed over; the first other non-empty line must be one of the
    words in REPLY_WORDS, alone (case, surrounding quotes and a final "." or "!" do
    not matter). Anything else, "send it" or "yes, but...", means nothing.
    """
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    for index, line in enumerate(lines):
        if not line or line.startswith(">"):
            continue
        if line.endswith(":"):
            rest = [x for x in lines[index + 1 :] if x]
            if rest and rest[0].startswith(">"):
                continue  # "On Mon, 3 Mar 2025, Casey wrote:" above a quote
        word = line.strip("\"'*_ ").rstrip(".!").strip("\"'*_ ").lower()
        return REPLY_WORDS.get(word)
    return None
