"""followupd: interview follow-ups from Google Calendar to reviewed Gmail drafts."""

__version__ = "0.1.0"
