"""Nudges: what is due is composed by the core and delivered on every channel;
a problem acting on a follow-up is recorded and said once."""

from __future__ import annotations

import logging
from dataclasses import replace

from followupd.adapters.notify.base import NotifyError
from followupd.core.model import FollowUp, Nudge, NudgeKind
from followupd.core.nudges import compose_nudge
from followupd.engine.base import CycleReport, EngineBase

log = logging.getLogger(__name__)


class Nudging(EngineBase):
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
