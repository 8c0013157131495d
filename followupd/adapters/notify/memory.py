"""The in-memory twin of a channel, for tests: it records what it is sent."""

from __future__ import annotations

import threading

from followupd.adapters.notify.base import Delivery, NotifyError
from followupd.core.model import Nudge


class InMemoryNotifier:
    """Records nudges; raises *fail* instead when set (for tests)."""

    def __init__(self, name: str = "memory", *, fail: NotifyError | None = None) -> None:
        self.name = name
        self.fail = fail
        self.sent: list[Nudge] = []
        self._lock = threading.Lock()

    def send(self, nudge: Nudge) -> Delivery:
        if self.fail is not None:
            raise self.fail
        with self._lock:
            self.sent.append(nudge)
        return Delivery(self.name)
