"""The draft pass: render, proofread and put each draft of a follow-up into Gmail.

The core composes each draft and the planner says whether to create it, refresh
it or leave it; a create runs inside the intent bracket ("creating" committed
before drafts.create), so a crash before its outcome is recorded is resolved by
looking for our Message-ID, never by creating blindly again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from followupd.adapters.mailbox import MessageMeta
from followupd.core import lifecycle, planner
from followupd.core.drafting import (
    ComposedDraft,
    Envelope,
    InviteThread,
    compose_draft,
    followup_context,
)
from followupd.core.model import Draft, DraftStatus, Finding, FollowUp, NudgeKind, State
from followupd.core.operations import AdoptDraft, CreateDraft, GmailDraft, SendNudge, UpdateDraft
from followupd.core.proofread import release_dictionary
from followupd.core.template_rules import pick_template
from followupd.core.templates import TemplateProblem, TemplateSource
from followupd.engine.base import CycleReport
from followupd.engine.gmail_watch import GmailWatching, gmail_draft
from followupd.errors import FollowupdError

log = logging.getLogger(__name__)


class DraftWriting(GmailWatching):
    def _write_drafts(self, fu: FollowUp, report: CycleReport) -> None:
        try:
            self._write_drafts_now(fu, report)
        finally:
            release_dictionary()

    def _write_drafts_now(self, fu: FollowUp, report: CycleReport) -> None:
        now = self.clock.now()
        fu.drafts = lifecycle.plan_drafts(fu, self.policy.per_interviewer)
        source = self._template(fu)
        if source is None:
            return
        findings: list[Finding] = []
        for draft in fu.drafts:
            if not planner.writable(draft):
                continue
            if draft.status is DraftStatus.CREATING:
                self._check_draft(fu, draft)  # a create intent left by a crash: look first
                if not planner.writable(draft):
                    continue  # sent by hand meanwhile: never written again
            if planner.up_to_date(fu, draft):
                continue
            composed = self._compose(fu, draft, source, now)
            if composed is None:
                return  # a problem, recorded and said
            findings = composed.findings
            draft.subject = composed.rendered.subject
            assert composed.raw is not None
            self._put_in_gmail(fu, draft, composed.raw, now, report)
            self._commit(fu)
        self._finish_pass(fu, findings, now, report)

    def _template(self, fu: FollowUp) -> TemplateSource | None:
        """The follow-up's template (chosen once by the rules), or None after a problem."""
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
            return None
        fu.template = name
        return source

    def _compose(
        self, fu: FollowUp, draft: Draft, source: TemplateSource, now: datetime
    ) -> ComposedDraft | None:
        """The draft rendered, built and proofread by the core; None after a problem."""
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
            return None
        except ValueError as exc:  # an address or header that cannot be written safely
            self._problem(fu, f"cannot write the draft: {exc}")
            return None
        if invite is not None:
            draft.thread_id = invite.thread_id  # the reply goes into the invitation's thread
        return composed

    def _put_in_gmail(
        self, fu: FollowUp, draft: Draft, raw: bytes, now: datetime, report: CycleReport
    ) -> None:
        """Create the draft, or refresh the untouched copy in Gmail, as the planner says."""
        seen = self._look(draft) if draft.status is DraftStatus.CREATED and draft.draft_id else None
        op = planner.write_draft(draft, raw, seen)
        if isinstance(op, UpdateDraft):
            ref = self.mailbox.update_draft(op.draft_id, op.raw, thread_id=op.thread_id)
            if ref is None:
                sent = self._sent_in_thread(draft)
                self._carry_out(fu, planner.resolve_gone(draft, sent, intended_send=False))
                return
            copy = GmailDraft(op.draft_id, ref.message_id, ref.thread_id)
            self._carry_out(fu, AdoptDraft(op.draft, copy))
            self.store.record(now, fu.id, "draft_updated", "draft refreshed with notes")
        elif isinstance(op, CreateDraft):
            draft.status = DraftStatus.CREATING
            self._commit(fu)  # the intent, before the call
            ref = self.mailbox.create_draft(
                op.raw, rfc_message_id=self._message_id(draft), thread_id=op.thread_id
            )
            self._carry_out(fu, AdoptDraft(op.draft, gmail_draft(ref)))
            report.drafts_created += 1
            self.store.record(
                now, fu.id, "draft_created", f"draft for {len(draft.recipients)} recipient(s)"
            )
            log.info("follow-up %s: draft created", fu.id)
            self.on_change(fu, "draft_created")
        else:
            self._carry_out(fu, op)  # gone from Gmail, or touched by the user meanwhile

    def _finish_pass(
        self, fu: FollowUp, findings: list[Finding], now: datetime, report: CycleReport
    ) -> None:
        fu.proofread = findings
        fu.rerender = False
        fu.error = ""
        fu.retry_at = None
        lifecycle.settle_after_drafts(fu, now)
        self._commit(fu)
        if fu.state is State.DRAFTED:
            self.on_change(fu, "drafted")
            if SendNudge(NudgeKind.DRAFT_READY) in planner.plan_due(fu, now, self.policy):
                self._nudge(fu, NudgeKind.DRAFT_READY, report)

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
