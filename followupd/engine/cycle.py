"""One reconcile cycle: observe (Calendar, Gmail), plan (core), act (adapters), record.

`Engine` is the top of the rooms of this package (see its __init__): here the
calendars are polled and what is due is dispatched to the room that carries it out.
"""

from __future__ import annotations

import logging
from datetime import datetime

from followupd.core import lifecycle, operations, planner
from followupd.core.detect import detect
from followupd.core.model import Event, FollowUp
from followupd.core.operations import Due, Expire, MarkReplied, SendApproved, WriteDrafts
from followupd.engine.base import CycleReport
from followupd.engine.send_pass import Sending

log = logging.getLogger(__name__)


class Engine(Sending):
    """Wiring in EngineBase.__init__: config, store, calendar, mailbox, templates,
    notifiers, account, clock; optional calendars and on_change."""

    def cycle(self) -> CycleReport:
        """Poll the calendars, look at Gmail for active follow-ups, act on what is due."""
        report = CycleReport()
        self.apply_requests()
        self.poll_calendars(report)
        self.check_gmail(report)
        self.act_due(report)
        self.store.mark_synced(self.clock.now())
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

    def act_due(self, report: CycleReport | None = None) -> None:
        report = report or CycleReport()
        now = self.clock.now()
        for fu in self.store.all():
            for due in planner.plan_due(fu, now, self.policy):
                self._act(fu, due, report)

    def act_on(self, fu_id: str) -> None:
        fu = self.store.get(fu_id)
        if fu is not None:
            report = CycleReport()
            for due in planner.plan_due(fu, self.clock.now(), self.policy):
                self._act(fu, due, report)

    def _act(self, fu: FollowUp, due: Due, report: CycleReport) -> None:
        now = self.clock.now()
        if isinstance(due, WriteDrafts):
            self._write_drafts(fu, report)
        elif isinstance(due, SendApproved):
            self._send(fu, report)
        elif isinstance(due, Expire):
            operations.record(fu, due)
            self.store.record(now, fu.id, "expired", "the window closed unconfirmed")
            log.info("follow-up %s: window closed unconfirmed; draft left alone", fu.id)
            self._commit(fu)
            self.on_change(fu, "expired")
        elif due.look_for_reply:
            # Look once more right before suggesting a check-in: never after a reply.
            self._check_reply(fu)
            fu.reply_checked_at = now
            follow = planner.checkin(fu)
            if isinstance(follow, MarkReplied):
                self.store.record(now, fu.id, "replied", "the interviewer replied")
                self._commit(fu)
                self.on_change(fu, "replied")
                return
            self._nudge(fu, follow.kind, report)
        else:
            self._nudge(fu, due.kind, report)
