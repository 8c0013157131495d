"""What the in-memory twins share: fault injection, request counts, Google's 404.

``fail_next(method, exc)`` makes the next call of a protocol method (e.g.
``"create_draft"``) raise ``exc``; with ``after=True`` the call takes effect first and
raises afterwards, like a connection dropped after Google acted
(``fail_next("send_draft", SendUncertain("..."), after=True)``). ``counts()`` counts
the Google API requests the real adapter would have made for the same calls (pages
included), named like the sandbox's ``counts()``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from followupd.adapters.google.api_errors import ApiNotFound

T = TypeVar("T")


@dataclass
class _Failure:
    exc: BaseException
    after: bool


class Faults:
    """``fail_next`` and ``counts`` for the twins (a base class)."""

    def __init__(self) -> None:
        self._failures: dict[str, list[_Failure]] = {}
        self._counts: Counter[str] = Counter()

    def fail_next(self, method: str, exc: BaseException, *, after: bool = False) -> None:
        """Make the next call of ``method`` raise ``exc`` (after acting if ``after``)."""
        if not callable(getattr(self, method, None)):
            raise ValueError(f"{type(self).__name__} has no method {method!r}")
        self._failures.setdefault(method, []).append(_Failure(exc, after))

    def clear_faults(self) -> None:
        self._failures.clear()

    def counts(self) -> dict[str, int]:
        """Google API requests made so far, by method id (as the sandbox counts them)."""
        return dict(self._counts)

    def _run(self, method: str, action: Callable[[], T]) -> T:
        queue = self._failures.get(method)
        failure = queue.pop(0) if queue else None
        if failure is not None and not failure.after:
            raise failure.exc
        result = action()
        if failure is not None:
            raise failure.exc
        return result


def not_found(what: str) -> ApiNotFound:
    """The error the real adapters raise for Google's 404."""
    return ApiNotFound(f"{what}: HTTP 404", status=404, reason="notFound")
