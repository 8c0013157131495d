"""Fault injection: rate limits, server errors and dropped connections."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, OAuthError, Response

KINDS = ("429", "500", "503", "drop", "drop_after")


@dataclass
class FaultRule:
    kind: str
    method: str | None
    remaining: int | None  # None when `rate` is used
    rate: float | None
    retry_after: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "count": self.remaining,
            "rate": self.rate,
            "retry_after": self.retry_after,
        }


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self._seed = seed
        self.rng = random.Random(seed)

    @property
    def seed(self) -> int:
        return self._seed

    @seed.setter
    def seed(self, value: int) -> None:
        self._seed = value
        self.rng = random.Random(value)

    def add(
        self,
        kind: str,
        method: str | None = None,
        count: int | None = 1,
        rate: float | None = None,
        retry_after: int = 1,
    ) -> FaultRule:
        kind = str(kind)
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        if rate is not None:
            if not 0.0 <= float(rate) <= 1.0:
                raise ValueError("rate must be between 0 and 1")
            rule = FaultRule(kind, method, None, float(rate), int(retry_after))
        else:
            n = 1 if count is None else int(count)
            if n < 1:
                raise ValueError("count must be >= 1")
            rule = FaultRule(kind, method, n, None, int(retry_after))
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, method_id: str) -> FaultRule | None:
        """The fault to apply to one request of `method_id`, consuming a count."""
        for rule in self.rules:
            if rule.method is not None and rule.method != method_id:
                continue
            if rule.rate is not None:
                if self.rng.random() < rule.rate:
                    return rule
                continue
            if rule.remaining is not None and rule.remaining > 0:
                rule.remaining -= 1
                if rule.remaining == 0:
                    self.rules.remove(rule)
                return rule
        return None


def api_fault_response(rule: FaultRule) -> Response:
    if rule.kind == "429":
        err = ApiError(
            429,
            "Rate Limit Exceeded",
            "rateLimitExceeded",
            domain="usageLimits",
            headers={"Retry-After": str(rule.retry_after)},
        )
    elif rule.kind == "500":
        err = ApiError(500, "Backend Error", "backendError")
    else:
        err = ApiError(503, "The service is currently unavailable.", "backendError")
    return err.response()


def oauth_fault_response(rule: FaultRule) -> Response:
    if rule.kind == "429":
        resp = OAuthError("rate_limit_exceeded", "Rate Limit Exceeded", 429).response()
        resp.headers["Retry-After"] = str(rule.retry_after)
        return resp
    if rule.kind == "500":
        return OAuthError("internal_failure", "Backend Error", 500).response()
    return OAuthError(
        "temporarily_unavailable", "The service is currently unavailable.", 503
    ).response()
