"""Calendar realities with the real daemon against the sandbox: reschedules, cancellations,
declines, an expired sync token, several calendars, recurring series, event types that
never count, and the lookback on a first start."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.daemon_home import ME, Home, interview_event, wait_for

from followupd.sandbox import Sandbox

pytestmark = pytest.mark.e2e

DRAFT_DELAY = timedelta(seconds=2)  # Home.write_config
TEAM = "team@group.calendar.google.com"
OTHER = "other@group.calendar.google.com"


def by_event(home: Home) -> dict[str, dict[str, Any]]:
    items = home.list_json()
    ids = [f"{f['calendar_id']}/{f['event_id']}" for f in items]
    assert len(ids) == len(set(ids)), f"duplicate follow-ups: {ids}"
    return {f["event_id"]: f for f in items}


def drafts_to(sandbox: Sandbox, email: str) -> list[dict[str, Any]]:
    return [d for d in sandbox.drafts() if email in str(d["parsed"]["To"])]


def at(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


def when(seconds: float) -> dict[str, str]:
    return {"dateTime": (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()}


def moved(seconds_to_end: float, minutes: int = 45) -> dict[str, Any]:
    return {"start": when(seconds_to_end - minutes * 60), "end": when(seconds_to_end)}


def no_traceback(home: Home) -> None:
    logs = home.logs()
    assert "Traceback" not in logs, logs[-3000:]


class TestChangesBeforeTheEnd:
    """One daemon run: a reschedule moves every planned job; cancelled, deleted and
    declined interviews become `cancelled` and get no draft."""

    def test_reschedule_cancel_delete_decline(self, home: Home, sandbox: Sandbox) -> None:
        home.login()
        sandbox.add_event(interview_event("back1", -1, [("back@acme.com", "Bea Back")]))
        daemon = home.start_daemon()
        wait_for(lambda: drafts_to(sandbox, "back@acme.com"), 30, "the first draft")
        back_before = wait_for(
            lambda: by_event(home).get("back1", {}).get("state") == "drafted" and by_event(home),
            10,
            "back1 drafted",
        )["back1"]

        # Interviews not over yet; each changes before it ends.
        sandbox.add_event(interview_event("mv1", 10, [("mover@acme.com", "Mo Ver")]))
        sandbox.add_event(interview_event("far1", 10, [("far@acme.com", "Fa Raway")]))
        sandbox.add_event(interview_event("cx1", 10, [("cx@acme.com", "Cy Cancel")]))
        sandbox.add_event(interview_event("del1", 10, [("del@acme.com", "De Lete")]))
        sandbox.add_event(interview_event("dec1", 10, [("dec@acme.com", "De Cline")]))
        seen = wait_for(lambda: (lambda f: len(f) == 6 and f)(by_event(home)), 10, "six follow-ups")
        old_end = at(seen["mv1"]["end"])
        assert at(seen["mv1"]["draft_at"]) == old_end + DRAFT_DELAY
        assert all(seen[e]["state"] == "pending" for e in ("mv1", "far1", "cx1", "del1", "dec1"))
        assert datetime.now(UTC) < old_end, "the machine is too slow for this test's timing"

        new_end_in = (old_end - datetime.now(UTC)).total_seconds() + 8
        sandbox.update_event("primary", "mv1", moved(new_end_in))
        sandbox.update_event("primary", "far1", moved(2 * 86400))
        sandbox.update_event("primary", "back1", moved(2 * 86400))
        sandbox.cancel_event("primary", "cx1")
        sandbox.delete_event("primary", "del1")
        event = sandbox.get_event("primary", "dec1")
        attendees = [
            {**a, "responseStatus": "declined"} if a.get("self") else a for a in event["attendees"]
        ]
        sandbox.update_event("primary", "dec1", {"attendees": attendees})

        def settled() -> dict[str, dict[str, Any]] | None:
            f = by_event(home)
            ok = (
                at(f["mv1"]["end"]) > old_end
                and at(f["far1"]["end"]) > old_end + timedelta(days=1)
                and f["back1"]["state"] == "pending"
                and all(f[e]["state"] == "cancelled" for e in ("cx1", "del1", "dec1"))
            )
            return f if ok else None

        after = wait_for(settled, 15, "the changes to be seen")
        mv = after["mv1"]
        new_end = at(mv["end"])
        assert new_end - old_end >= timedelta(seconds=7)
        assert at(mv["draft_at"]) == new_end + DRAFT_DELAY
        assert at(mv["window_start"]) == new_end + timedelta(seconds=3)
        assert at(mv["window_end"]) == new_end + timedelta(seconds=300)
        assert at(mv["start"]) == new_end - timedelta(minutes=45)
        far = after["far1"]
        assert far["state"] == "pending"
        assert at(far["draft_at"]) == at(far["end"]) + DRAFT_DELAY
        # Moved far into the future after its draft was written: back to pending, the
        # draft stays in Gmail (not deleted, not written twice), its timers move.
        back = after["back1"]
        assert back["state"] == "pending"
        assert at(back["draft_at"]) == at(back["end"]) + DRAFT_DELAY
        assert at(back["end"]) > datetime.now(UTC) + timedelta(days=1)
        assert back["draft_ids"] == back_before["draft_ids"]
        assert back["send_at"] is None

        # Past the old draft time (plus a poll): nothing was drafted for the old time.
        wait_until = old_end + DRAFT_DELAY + timedelta(seconds=3)
        time.sleep(max(0.0, (wait_until - datetime.now(UTC)).total_seconds()))
        assert datetime.now(UTC) < new_end, "the machine is too slow for this test's timing"
        now_state = by_event(home)
        assert now_state["mv1"]["state"] == "pending"
        assert drafts_to(sandbox, "mover@acme.com") == []

        # The draft comes after the new end.
        wait_for(lambda: drafts_to(sandbox, "mover@acme.com"), 20, "mv1's draft")
        assert datetime.now(UTC) >= new_end + DRAFT_DELAY
        final = wait_for(
            lambda: (lambda f: f["mv1"]["state"] == "drafted" and f)(by_event(home)),
            10,
            "mv1 drafted",
        )
        # Cancelled, deleted and declined ones ended long enough ago: still no draft.
        for email in ("cx@acme.com", "del@acme.com", "dec@acme.com", "far@acme.com"):
            assert drafts_to(sandbox, email) == [], email
        for event_id in ("cx1", "del1", "dec1"):
            assert final[event_id]["state"] == "cancelled"
            assert final[event_id]["draft_ids"] == []
        assert final["far1"]["state"] == "pending"
        assert final["back1"]["state"] == "pending"
        assert len(sandbox.drafts()) == 2  # back1's and mv1's
        assert sandbox.counts().get("gmail.users.drafts.create", 0) == 2
        assert home.stop(daemon) == 0
        no_traceback(home)


class TestResync:
    def test_410_full_resync_neither_loses_nor_duplicates(
        self, home: Home, sandbox: Sandbox
    ) -> None:
        home.login()
        sandbox.add_event(interview_event("ra", -1, [("ra@acme.com", "Ra One")]))
        sandbox.add_event(interview_event("rb", 3600, [("rb@acme.com", "Rb Two")]))
        daemon = home.start_daemon()
        before = wait_for(
            lambda: (lambda f: f.get("ra", {}).get("state") == "drafted" and f)(by_event(home)),
            30,
            "ra drafted",
        )
        assert before["rb"]["state"] == "pending"

        sandbox.invalidate_sync_tokens()
        sandbox.add_event(interview_event("rc", -1, [("rc@acme.com", "Rc Three")]))
        sandbox.update_event("primary", "rb", moved(7200))
        after = wait_for(
            lambda: (lambda f: f.get("rc", {}).get("state") == "drafted" and f)(by_event(home)),
            30,
            "rc drafted after the resync",
        )
        assert set(after) == {"ra", "rb", "rc"}
        assert after["ra"]["state"] == "drafted"
        assert after["ra"]["draft_ids"] == before["ra"]["draft_ids"]
        assert after["ra"]["id"] == before["ra"]["id"]
        assert at(after["rb"]["end"]) - at(before["rb"]["end"]) >= timedelta(minutes=59)

        # Once more, with nothing new: a full resync changes nothing.
        sandbox.invalidate_sync_tokens()
        lists = sandbox.counts().get("calendar.events.list", 0)
        wait_for(lambda: sandbox.counts().get("calendar.events.list", 0) >= lists + 3, 20, "polls")
        again = by_event(home)
        assert {k: (v["state"], v["draft_ids"]) for k, v in again.items()} == {
            k: (v["state"], v["draft_ids"]) for k, v in after.items()
        }
        assert len(sandbox.drafts()) == 2
        assert sandbox.counts().get("gmail.users.drafts.create", 0) == 2
        assert home.stop(daemon) == 0
        assert "sync token expired" in home.logs()
        no_traceback(home)


class TestSeveralCalendars:
    def test_listed_calendars(self, home: Home, sandbox: Sandbox) -> None:
        home.write_config(f'[detect]\ncalendars = ["primary", "{TEAM}"]\n')
        sandbox.add_calendar(TEAM, "Team interviews")
        sandbox.add_calendar(OTHER, "Someone else's", selected=True)
        home.login()
        sandbox.add_event(interview_event("cp1", -1, [("p@acme.com", "Pat Primary")]))
        sandbox.add_event(
            interview_event("ct1", -1, [("t@globex.io", "Tea Team")]), calendar_id=TEAM
        )
        sandbox.add_event(
            interview_event("co1", -1, [("o@initech.com", "Otto Other")]), calendar_id=OTHER
        )
        daemon = home.start_daemon()
        wait_for(lambda: len(sandbox.drafts()) >= 2, 30, "two drafts")
        lists = sandbox.counts().get("calendar.events.list", 0)
        wait_for(lambda: sandbox.counts().get("calendar.events.list", 0) >= lists + 4, 20, "polls")
        found = by_event(home)
        assert set(found) == {"cp1", "ct1"}
        assert found["cp1"]["calendar_id"] == "primary"
        assert found["ct1"]["calendar_id"] == TEAM
        assert {str(d["parsed"]["To"]) for d in sandbox.drafts()} == {
            "Pat Primary <p@acme.com>",
            "Tea Team <t@globex.io>",
        }
        # Later changes on the second calendar are followed too.
        sandbox.cancel_event(TEAM, "ct1")  # after the interview: the follow-up stays
        sandbox.add_event(
            interview_event("ct2", 3600, [("t2@globex.io", "Tim Team")]), calendar_id=TEAM
        )
        later = wait_for(lambda: (lambda f: "ct2" in f and f)(by_event(home)), 10, "ct2")
        assert home.stop(daemon) == 0
        assert later["ct2"]["calendar_id"] == TEAM and later["ct2"]["state"] == "pending"
        assert later["ct1"]["state"] == "drafted"
        no_traceback(home)

    def test_selected_keyword(self, home: Home, sandbox: Sandbox) -> None:
        home.write_config('[detect]\ncalendars = ["selected"]\n')
        sandbox.add_calendar(TEAM, "Team interviews", selected=True)
        sandbox.add_calendar(OTHER, "Unticked", selected=False)
        home.login()
        sandbox.add_event(interview_event("sp1", -1, [("p@acme.com", "Pat Primary")]))
        sandbox.add_event(
            interview_event("st1", -1, [("t@globex.io", "Tea Team")]), calendar_id=TEAM
        )
        sandbox.add_event(
            interview_event("so1", -1, [("o@initech.com", "Otto Other")]), calendar_id=OTHER
        )
        # One invitation shown on two watched calendars: one follow-up, one draft.
        both = interview_event("both1", -1, [("b@hooli.xyz", "Bo Th")])
        sandbox.add_event(both)
        sandbox.add_event(both, calendar_id=TEAM)
        daemon = home.start_daemon()
        wait_for(lambda: len(sandbox.drafts()) >= 3, 30, "three drafts")
        lists = sandbox.counts().get("calendar.events.list", 0)
        wait_for(lambda: sandbox.counts().get("calendar.events.list", 0) >= lists + 4, 20, "polls")
        assert home.stop(daemon) == 0
        found = by_event(home)
        assert set(found) == {"sp1", "st1", "both1"}
        # The primary calendar keeps the name "primary" however it is configured.
        assert found["sp1"]["calendar_id"] == "primary"
        assert found["st1"]["calendar_id"] == TEAM
        assert len(sandbox.drafts()) == 3
        assert len(drafts_to(sandbox, "b@hooli.xyz")) == 1
        assert sandbox.counts().get("calendar.calendarList.list", 0) >= 1
        no_traceback(home)


class TestRecurring:
    def test_each_instance_is_its_own_followup(self, home: Home, sandbox: Sandbox) -> None:
        home.login()
        series = interview_event(
            "weekly1", -1, [("rec@acme.com", "Rae Curring")], summary="Interview loop, Acme"
        )
        series["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=3"]
        sandbox.add_event(series)
        daemon = home.start_daemon()
        wait_for(lambda: drafts_to(sandbox, "rec@acme.com"), 30, "the first instance's draft")
        found = wait_for(
            lambda: (lambda f: len(f) == 3 and f)(by_event(home)), 10, "three follow-ups"
        )
        ordered = sorted(found.values(), key=lambda f: f["end"])
        assert all(f["event_id"].startswith("weekly1_") for f in ordered)
        assert len({f["id"] for f in ordered}) == 3
        assert [f["state"] for f in ordered] == ["drafted", "pending", "pending"]
        first_end = at(ordered[0]["end"])
        assert at(ordered[1]["end"]) - first_end == timedelta(days=7)
        assert at(ordered[2]["end"]) - first_end == timedelta(days=14)

        # One instance cancelled, another moved: only that instance changes.
        sandbox.cancel_event("primary", ordered[1]["event_id"])
        sandbox.update_event("primary", ordered[2]["event_id"], moved(15 * 86400))
        changed = wait_for(
            lambda: (
                lambda f: (
                    f[ordered[1]["event_id"]]["state"] == "cancelled"
                    and at(f[ordered[2]["event_id"]]["end"])
                    > first_end + timedelta(days=14, hours=1)
                    and f
                )
            )(by_event(home)),
            15,
            "the instance changes",
        )
        assert home.stop(daemon) == 0
        assert len(changed) == 3
        assert changed[ordered[0]["event_id"]]["state"] == "drafted"
        assert changed[ordered[2]["event_id"]]["state"] == "pending"
        assert len(sandbox.drafts()) == 1
        no_traceback(home)


class TestNeverCounts:
    def test_all_day_ooo_focus_and_lookback(self, home: Home, sandbox: Sandbox) -> None:
        home.login()
        external = [("jane@acme.com", "Jane Doe")]
        all_day = interview_event("allday1", -1, external, summary="Interview day at Acme")
        del all_day["start"], all_day["end"]
        sandbox.add_event({**all_day, "startIn": "-1d", "allDay": True})
        sandbox.add_event(
            {
                **interview_event("ooo1", -1, external, summary="Interview"),
                "eventType": "outOfOffice",
            }
        )
        sandbox.add_event(
            {
                **interview_event("focus1", -1, external, summary="Interview focus"),
                "eventType": "focusTime",
            }
        )
        sandbox.add_event(interview_event("old1", -3 * 86400, [("old@acme.com", "Ol Der")]))
        sandbox.add_event(interview_event("day1", -86400, [("day@acme.com", "Dee Ay")]))
        sandbox.add_event(interview_event("ctl1", -1, [("ctl@acme.com", "Con Trol")]))
        daemon = home.start_daemon()
        wait_for(lambda: sandbox.drafts(), 30, "a draft")
        # The three-day-old interview is touched: incremental sync now returns it.
        sandbox.update_event("primary", "old1", {"location": "Room 4"})
        sandbox.update_event("primary", "allday1", {"location": "Room 5"})
        lists = sandbox.counts().get("calendar.events.list", 0)
        wait_for(lambda: sandbox.counts().get("calendar.events.list", 0) >= lists + 3, 20, "polls")
        assert home.stop(daemon) == 0
        found = by_event(home)
        # Within the lookback but past the (test's 300 s) window: seen, expired, no draft.
        # Beyond the lookback: not even seen.
        assert set(found) == {"day1", "ctl1"}
        assert found["day1"]["state"] == "expired" and found["day1"]["draft_ids"] == []
        assert found["ctl1"]["state"] == "drafted"
        assert [str(d["parsed"]["To"]) for d in sandbox.drafts()] == ["Con Trol <ctl@acme.com>"]
        assert all(me_not_recipient(f) for f in found.values())
        no_traceback(home)


def me_not_recipient(fu: dict[str, Any]) -> bool:
    return ME not in fu["recipients"]
