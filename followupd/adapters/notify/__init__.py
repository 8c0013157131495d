"""Nudge channels, one module each: desktop (D-Bus), command, email, and the
in-memory twin for tests. `base` holds what they share (the Notifier protocol,
NotifyError, Delivery); `registry` builds the configured ones from the settings.

Kept empty so that importing one channel never loads the others' libraries.
"""
