"""The engine: one reconcile cycle carries out what the core plans.

Rooms, each a layer of the one Engine class (cycle.py at the top):
base (wiring, saving, requests), nudging (nudges and problems), replies (approval
by answering the nudge email), gmail_watch (looking at drafts and threads, folding
what was seen in), draft_pass (writing drafts), send_pass (sending confirmed
ones), cycle (calendars, what is due). The decisions are the core's
(core.planner, core.lifecycle); these rooms fetch, write and record.

Every Gmail write is bracketed by the SQLite state: an intent ("creating",
"sending") is committed before the call and the outcome after it, so a crash at any
point is resolved by looking in Gmail first, never by doing the write again blindly.
"""
