"""One reconcile cycle: observe (Calendar, Gmail), plan (core), act (adapters), record.

Every Gmail write is bracketed by the SQLite state: an intent ("creating",
"sending") is committed before the call and the outcome after it, so a crash at any
point is resolved by looking in Gmail first, never by doing the write again blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from followupd.adapters.calendar import CalendarSource
from followupd.adapters.mailbox import Mailbox, MessageMeta, SendUncertain, normalize_message_id
from followupd.adapters.notify.base import Notifier, NotifyError
from followupd.adapters.notify.registry import NotifierRegistry
from followupd.adapters.store import Store
from followupd.adapters.templates import TemplateStore
from followupd.app.requests import apply_open_requests, apply_request
from followupd.core import lifecycle, timing
from followupd.core.detect import detect
from followupd.core.drafting import Envelope, InviteThread, compose_draft, followup_context
from followupd.core.lifecycle import Action
from followupd.core.message import make_message_id
from followupd.core.model import (
    Draft,
    DraftStatus,
    Event,
    Finding,
    FollowUp,
    Nudge,
    NudgeKind,
    Person,
    State,
)
from followupd.core.nudges import compose_nudge, reply_command
from followupd.core.proofread import release_dictionary
from followupd.core.settings import Config
from followupd.core.template_rules import pick_template
from followupd.core.templates import TemplateProblem
from followupd.errors import FollowupdError

log = logging.getLogger(__name__)

_WRITABLE = (DraftStatus.PLANNED, DraftStatus.CREATED, DraftStatus.CREATING)


@dataclass
class CycleReport:
    events_seen: int = 0
    new_followups: list[str] = field(default_factory=list)
    drafts_created: int = 0
    sent: int = 0
    nudges: int = 0
    problems: list[str] = field(default_factory=list)


class Engine:
    def __init__(
        self,
        *,
        config: Config,
        store: Store,
        calendar: CalendarSource,
        mailbox: Mailbox,
        templates: TemplateStore,
        notifiers: Iterable[Notifier],
        account: str,
        clock: timing.Clock,
        calendars: Callable[[], list[str]] | None = None,
        on_change: Callable[[FollowUp, str], None] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.calendar = calendar
        self.mailbox = mailbox
        self.templates = templates
        self.notifiers = NotifierRegistry(notifiers)
        self.account = account.lower()
        self.clock = clock
        self._calendars = calendars or (lambda: list(config.detect.calendars))
        # Called with (follow-up, what happened) for live output (demo, foreground run).
        self.on_change = on_change or (lambda fu, what: None)
        self._reply_warned = False  # approval by reply without a read scope: said once

    @property
    def policy(self) -> lifecycle.Policy:
        return lifecycle.Policy.from_config(self.config)

    # --- the cycle ------------------------------------------------------------------

    def cycle(self) -> CycleReport:
        """Poll the calendars, look at Gmail for active follow-ups, act on what is due."""
        report = CycleReport()
        self.apply_requests()
        self.poll_calendars(report)
        self.check_gmail(report)
        self.act_due(report)
        self.store.set_meta("last_sync", self.clock.now().isoformat())
        return report

    def poll_calendars(self, report: CycleReport | None = None) -> None:
        report = report or CycleReport()
        now = self.clock.now()
        calendars = self._calendars()
        # One interview on two watched calendars (an invitation also shown on a team
        # calendar) is one follow-up: the calendar that showed it first owns it.
        owners = {f.event_id: f.calendar_id for f in self.store.all()} if calendars[1:] else {}
        for calendar_id in calendars:
            token = self.store.sync_token(calendar_id)
            result = self.calendar.sync(calendar_id, token, now - self.config.detect.lookback)
            with self.store.transaction():
                for event in result.items:
                    report.events_seen += 1
                    self._observe(calendar_id, event, now, report, owners)
                self.store.set_sync_token(calendar_id, result.next_sync_token)
            if result.full and token is not None:
                log.info("calendar %s: sync token expired, did a full resync", calendar_id)

    def _observe(
        self,
        calendar_id: str,
        event: Event,
        now: datetime,
        report: CycleReport,
        owners: dict[str, str] | None = None,
    ) -> None:
        if not event.id:
            return
        existing = self.store.by_event(calendar_id, event.id)
        owners = {} if owners is None else owners
        if existing is None and owners.get(event.id, calendar_id) != calendar_id:
            return  # the same event on another watched calendar: followed there
        detection = detect(event, self.config.detect, self.account)
        updated = lifecycle.observe_event(existing, event, detection, now, self.policy)
        if updated is None:
            return
        if existing is None:
            owners[event.id] = calendar_id
            report.new_followups.append(updated.id)
            log.info(
                "follow-up %s: interview detected (%s), %d recipient(s)",
                updated.id,
                detection.reason,
                len(updated.recipients),
            )
            self.store.record(now, updated.id, "detected", detection.reason)
            self.on_change(updated, "detected")
        elif existing.state is not updated.state:
            log.info("follow-up %s: %s -> %s", updated.id, existing.state, updated.state)
            self.store.record(
                now,
                updated.id,
                updated.state.value,
                f"calendar: {existing.state} -> {updated.state}",
            )
            self.on_change(updated, updated.state.value)
        elif (existing.start, existing.end) != (updated.start, updated.end):
            self.store.record(now, updated.id, "moved", "the interview was rescheduled")
            self.on_change(updated, "moved")
        self._save(updated)

    def _save(self, fu: FollowUp) -> None:
        now = self.clock.now()
        fu.updated_at = now
        due = lifecycle.next_due(fu, now, self.policy)
        if due is not None and fu.retry_at is not None and fu.retry_at > due:
            due = fu.retry_at  # a problem is retried later, not in a hot loop
        self.store.save(fu, due)

    def _commit(self, fu: FollowUp) -> None:
        with self.store.transaction():
            self._save(fu)

    # --- requests from the CLI ------------------------------------------------------

    def apply_requests(self) -> bool:
        """Apply approve/skip/note requests queued by the CLI. True if any."""
        return apply_open_requests(self.store, self.config, self.clock.now, self.on_change)

    def apply(self, action: str, fu_id: str, arg: str = "", via: str = "cli") -> str:
        """approve / skip / note on one follow-up; returns 'ok: ...' or 'error: ...'."""
        ok, detail, fu = apply_request(
            self.store, self.config, self.clock.now(), action, fu_id, arg, via
        )
        if fu is not None:
            self.on_change(fu, action)
        return f"{'ok' if ok else 'error'}: {detail}"

    # --- Gmail observation ----------------------------------------------------------

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
        if draft.status is DraftStatus.CREATING:
            self._finish_create(fu, draft)
        elif draft.status is DraftStatus.CREATED and draft.draft_id:
            ref = self.mailbox.get_draft(draft.draft_id)
            if ref is None:
                self._classify_gone(fu, draft, intended_send=False)
            elif ref.message_id != draft.message_id and not draft.touched:
                draft.touched = True
                log.info("follow-up %s: the user edited a draft; it will not be changed", fu.id)
        elif draft.status is DraftStatus.SENDING and draft.draft_id:
            # A send was started and its outcome never recorded (crash, dropped line).
            ref = self.mailbox.get_draft(draft.draft_id)
            if ref is not None:
                draft.status = DraftStatus.CREATED  # Gmail removes a sent draft: it was not sent
            else:
                self._classify_gone(fu, draft, intended_send=True)

    def _finish_create(self, fu: FollowUp, draft: Draft) -> None:
        found = self.mailbox.find_drafts_by_message_id(self._message_id(draft))
        if found:
            keep, *extra = found
            for dup in extra:
                self.mailbox.delete_draft(dup.draft_id)
            draft.draft_id, draft.message_id, draft.thread_id = (
                keep.draft_id,
                keep.message_id,
                keep.thread_id,
            )
            draft.status = DraftStatus.CREATED
        elif self._sent_by_hand(draft):
            # We created it, crashed before recording it, and the user has sent it
            # since: never create it again.
            draft.status = DraftStatus.SENT_MANUALLY
        else:
            draft.status = DraftStatus.PLANNED

    def _sent_by_hand(self, draft: Draft) -> bool:
        if not self.config.google.metadata_scope:
            return False
        try:
            sent = self.mailbox.recent_sent() or []
        except FollowupdError as exc:
            log.warning("cannot look at sent mail: %s", exc)
            return False
        wanted = normalize_message_id(self._message_id(draft))
        for message in sent:
            if normalize_message_id(message.rfc_message_id) == wanted:
                draft.thread_id, draft.sent_message_id = message.thread_id, message.id
                return True
        return False

    def _classify_gone(self, fu: FollowUp, draft: Draft, *, intended_send: bool) -> None:
        """A draft vanished from Gmail: sent (by us or by hand) or deleted?"""
        sent = self._sent_in_thread(draft)
        if sent is None:
            # No metadata scope: cannot look. With a send intent open, assume it went
            # (a duplicate send is worse than a missed record); else treat as deleted.
            draft.status = DraftStatus.SENT if intended_send else DraftStatus.DELETED
            fu.error = (
                ""
                if intended_send
                else (
                    "a draft vanished from Gmail; without the gmail.metadata scope followupd "
                    "cannot tell a hand-sent draft from a deleted one"
                )
            )
            return
        if sent:
            draft.status = DraftStatus.SENT if intended_send else DraftStatus.SENT_MANUALLY
            draft.sent_message_id = sent[-1].id
        else:
            draft.status = DraftStatus.DELETED

    def _sent_in_thread(self, draft: Draft) -> list[MessageMeta] | None:
        if not draft.thread_id or not self.config.google.metadata_scope:
            return None
        try:
            messages = self.mailbox.thread(draft.thread_id)
        except FollowupdError as exc:
            log.warning("cannot read a thread: %s", exc)
            return None
        if messages is None:
            return []
        return [m for m in messages if m.sent and not m.draft]

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
            for message in messages:
                if (
                    not message.sent
                    and not message.draft
                    and self.account not in message.sender.lower()
                    and message.internal_date >= fu.sent_at
                ):
                    fu.replied_at = message.internal_date
                    return

    # --- approval by answering the nudge email (opt-in, gmail.readonly) --------------

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

    def _confirm_by_email(self, fu: FollowUp, result: str) -> None:
        status, _, detail = result.partition(": ")
        text = detail if status == "ok" else f"that did not work: {detail}"
        current = self.store.get(fu.id)
        if status == "ok" and current is not None and current.late:
            text += (
                ".\nThe best moment for a follow-up has passed: it goes out at the next "
                'good slot anyway. Answer "skip" before then to drop it.'
            )
        email = self.notifiers.get("email")  # the answer goes where the reply came from
        if email is None:
            return
        confirmation = Nudge(
            followup_id=fu.id,
            kind=NudgeKind.CONFIRMATION,
            title="followupd",
            body=text,
            payload={"summary": fu.summary},
            thread_id=fu.nudge_thread_id or "",  # "": never the root of a new thread
        )
        try:
            email.send(confirmation)
        except NotifyError as exc:
            log.warning("confirming by email failed: %s", exc)

    # --- acting on what is due ------------------------------------------------------

    def act_due(self, report: CycleReport | None = None) -> None:
        report = report or CycleReport()
        now = self.clock.now()
        for fu in self.store.all():
            for action in lifecycle.due_actions(fu, now, self.policy):
                self._act(fu, action, report)

    def act_on(self, fu_id: str) -> None:
        fu = self.store.get(fu_id)
        if fu is not None:
            report = CycleReport()
            for action in lifecycle.due_actions(fu, self.clock.now(), self.policy):
                self._act(fu, action, report)

    def _act(self, fu: FollowUp, action: Action, report: CycleReport) -> None:
        now = self.clock.now()
        if action is Action.CREATE_DRAFTS:
            self._write_drafts(fu, report)
        elif action is Action.SEND:
            self._send(fu, report)
        elif action is Action.EXPIRE:
            fu.state = State.EXPIRED
            self.store.record(now, fu.id, "expired", "the window closed unconfirmed")
            log.info("follow-up %s: window closed unconfirmed; draft left alone", fu.id)
            self._commit(fu)
            self.on_change(fu, "expired")
        elif action is Action.NUDGE_CHECKIN:
            # Look once more right before suggesting a check-in: never after a reply.
            self._check_reply(fu)
            fu.reply_checked_at = now
            if fu.replied_at is not None:
                self.store.record(now, fu.id, "replied", "the interviewer replied")
                self._commit(fu)
                self.on_change(fu, "replied")
                return
            self._nudge(fu, NudgeKind(action.value), report)
        else:
            self._nudge(fu, NudgeKind(action.value), report)

    # drafts

    def _message_id(self, draft: Draft) -> str:
        domain = self.account.rpartition("@")[2] or "followupd.invalid"
        return make_message_id(domain, draft.rfc_message_id)

    def _write_drafts(self, fu: FollowUp, report: CycleReport) -> None:
        try:
            self._write_drafts_now(fu, report)
        finally:
            release_dictionary()

    def _write_drafts_now(self, fu: FollowUp, report: CycleReport) -> None:
        now = self.clock.now()
        fu.drafts = lifecycle.plan_drafts(fu, self.config.drafts.per_interviewer)
        try:
            name = fu.template or pick_template(
                self.config.drafts.rules,
                title=fu.summary,
                calendar_id=fu.calendar_id,
                domains=[e.rpartition("@")[2] for e in fu.recipients],
                kind=fu.kind,
                available=set(self.templates.names()),
            )
            source = self.templates.source(name)
        except (FollowupdError, TemplateProblem, KeyError) as exc:
            self._problem(fu, f"no template: {exc}")
            return
        fu.template = name
        findings: list[Finding] = []
        for draft in fu.drafts:
            if draft.touched or draft.status not in _WRITABLE:
                continue
            if draft.status is DraftStatus.CREATING:
                self._finish_create(fu, draft)
            if draft.status is DraftStatus.CREATED and not fu.rerender:
                continue
            people = [self._person(fu, email) for email in draft.recipients]
            context = followup_context(
                fu,
                people,
                profile=self.config.profile,
                user_email=self.account,
                zone=self.config.timing.zone,
                now=now,
            )
            invite = self._scheduling_thread(draft) if draft.status is DraftStatus.PLANNED else None
            envelope = Envelope(
                from_name=self.config.profile.name,
                from_email=self.account,
                to=people,
                message_id=self._message_id(draft),
                date=now,
                invite=InviteThread(invite.subject, invite.rfc_message_id) if invite else None,
            )
            try:
                composed = compose_draft(
                    source,
                    context,
                    drafts=self.config.drafts,
                    profile=self.config.profile,
                    notes=fu.notes,
                    followup_id=fu.id,
                    envelope=envelope,
                )
            except TemplateProblem as exc:
                self._problem(fu, str(exc))
                return
            except ValueError as exc:  # an address or header that cannot be written safely
                self._problem(fu, f"cannot write the draft: {exc}")
                return
            if invite is not None:
                draft.thread_id = invite.thread_id
            rendered, findings, raw = composed.rendered, composed.findings, composed.raw
            assert raw is not None
            draft.subject = rendered.subject
            if draft.status is DraftStatus.CREATED and draft.draft_id:
                current = self.mailbox.get_draft(draft.draft_id)
                if current is None:
                    self._classify_gone(fu, draft, intended_send=False)
                    continue
                if current.message_id != draft.message_id:
                    draft.touched = True  # the user got there first: hands off
                    continue
                ref = self.mailbox.update_draft(draft.draft_id, raw, thread_id=draft.thread_id)
                if ref is None:
                    self._classify_gone(fu, draft, intended_send=False)
                    continue
                draft.message_id, draft.thread_id = ref.message_id, ref.thread_id
                self.store.record(now, fu.id, "draft_updated", "draft refreshed with notes")
            else:
                draft.status = DraftStatus.CREATING
                self._commit(fu)  # the intent, before the call
                ref = self.mailbox.create_draft(
                    raw, rfc_message_id=self._message_id(draft), thread_id=draft.thread_id
                )
                draft.draft_id, draft.message_id, draft.thread_id = (
                    ref.draft_id,
                    ref.message_id,
                    ref.thread_id,
                )
                draft.status = DraftStatus.CREATED
                report.drafts_created += 1
                self.store.record(
                    now, fu.id, "draft_created", f"draft for {len(people)} recipient(s)"
                )
                log.info("follow-up %s: draft created", fu.id)
                self.on_change(fu, "draft_created")
            self._commit(fu)
        fu.proofread = findings
        fu.rerender = False
        fu.error = ""
        fu.retry_at = None
        lifecycle.settle_after_drafts(fu, now)
        self._commit(fu)
        if fu.state is State.DRAFTED:
            self.on_change(fu, "drafted")
            for action in lifecycle.due_actions(fu, now, self.policy):
                if action is Action.NUDGE_READY:
                    self._nudge(fu, NudgeKind(action.value), report)

    def _scheduling_thread(self, draft: Draft) -> MessageMeta | None:
        """The latest email from these recipients in the last 30 days (the thread the
        interview was arranged in), when threading is on and gmail.readonly allows
        searching. None: start a new thread."""
        if not self.config.drafts.thread_with_invite or draft.thread_id:
            return None
        candidates: list[MessageMeta] = []
        for sender in draft.recipients:
            try:
                found = self.mailbox.search_messages(f"from:{sender} newer_than:30d")
            except FollowupdError as exc:
                log.warning("cannot look for the scheduling email: %s", exc)
                return None
            if found is None:
                return None  # no gmail.readonly: cannot search
            candidates += [m for m in found if m.rfc_message_id and m.thread_id]
        return max(candidates, key=lambda m: m.internal_date, default=None)

    def _person(self, fu: FollowUp, email: str) -> Person:
        for person in fu.people:
            if person.email == email:
                return person
        return Person(email=email, name="", first_name="")

    def _problem(self, fu: FollowUp, message: str) -> None:
        repeated = fu.error == message
        fu.error = message
        fu.retry_at = self.clock.now() + self.config.google.poll_interval
        self.store.record(self.clock.now(), fu.id, "problem", message)
        log.error("follow-up %s: %s", fu.id, message)
        self._commit(fu)
        if repeated:
            return  # said once already; `status` and `show` keep saying it
        self._deliver(
            fu,
            Nudge(
                followup_id=fu.id,
                kind=NudgeKind.PROBLEM,
                title="followupd could not write a draft",
                body=f"{message}\nFix it, then run `followupd sync`.",
                actions=(),
                open_url=None,
                payload={"error": message},
            ),
        )

    # sending

    def _send(self, fu: FollowUp, report: CycleReport) -> None:
        now = self.clock.now()
        for draft in fu.drafts:
            if draft.status is not DraftStatus.CREATED or not draft.draft_id:
                continue
            draft.status = DraftStatus.SENDING
            self._commit(fu)  # the intent, durable before the call
            try:
                ref = self.mailbox.send_draft(draft.draft_id)
            except SendUncertain:
                log.warning("follow-up %s: connection lost while sending; will check Gmail", fu.id)
                return
            if ref is None:
                self._classify_gone(fu, draft, intended_send=True)
            else:
                draft.status = DraftStatus.SENT
                draft.sent_message_id = ref.message_id
                draft.thread_id = ref.thread_id or draft.thread_id
                report.sent += 1
            self._commit(fu)
        lifecycle.settle_after_gmail(fu, now)
        if fu.state in (State.SENT, State.SENT_MANUALLY):
            fu.sent_at = fu.sent_at or now
            self.store.record(now, fu.id, "sent", "follow-up sent")
            log.info("follow-up %s: sent", fu.id)
            self.on_change(fu, "sent")
        self._commit(fu)

    # nudges

    def _nudge(self, fu: FollowUp, kind: NudgeKind, report: CycleReport) -> None:
        if kind in fu.nudges_sent:
            return
        nudge = compose_nudge(
            fu, kind, mode=self.config.mode, timing=self.config.timing, now=self.clock.now()
        )
        if self._deliver(fu, nudge):
            report.nudges += 1
        # Recorded even when a channel failed: a nudge is retried by the next kind,
        # never repeated after a restart.
        fu.nudges_sent = [*fu.nudges_sent, kind]
        self._commit(fu)

    def _deliver(self, fu: FollowUp, nudge: Nudge) -> bool:
        # Every email about one follow-up goes into one thread: the one the user may
        # answer (approval by reply). Saved by the caller's commit.
        nudge = replace(nudge, thread_id=nudge.thread_id or fu.nudge_thread_id)
        delivered = False
        for notifier in self.notifiers:
            try:
                delivery = notifier.send(nudge)
                fu.nudge_thread_id = delivery.thread_id or fu.nudge_thread_id
                delivered = True
            except NotifyError as exc:
                log.warning("nudge via %s failed: %s", notifier.name, exc)
                self.store.record(
                    self.clock.now(), fu.id, "nudge_failed", f"{notifier.name}: {exc}"
                )
        if delivered:
            self.store.record(self.clock.now(), fu.id, "nudge", nudge.kind)
        return delivered
