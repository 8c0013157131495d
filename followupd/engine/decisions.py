"""User decisions applied to the state: approve, skip, note, and the queue of them.

The CLI, a desktop button or an email answer asks; this applies the decision to the
follow-up in one transaction, through the lifecycle's rules. It needs no Google: the
next cycle acts on the result. The request protocol (queueing, poking the daemon)
is the application layer's, in `followupd.app.requests`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from followupd.adapters.store import Store
from followupd.core import lifecycle
from followupd.core.lifecycle import LifecycleError
from followupd.core.model import FollowUp
from followupd.core.settings import Config
from followupd.errors import FollowupdError


def apply_request(
    store: Store, config: Config, now: datetime, action: str, fu_id: str, arg: str, via: str
) -> tuple[bool, str, FollowUp | None]:
    """(ok, message, follow-up). Runs in one transaction."""
    policy = lifecycle.Policy.from_config(config)
    with store.transaction():
        try:
            fu = store.find(fu_id)
            if action == "approve":
                fu = lifecycle.approve(fu, now, policy, via)
                assert fu.send_at is not None
                local = fu.send_at.astimezone(config.timing.zone)
                detail = f"approved via {via}; it will be sent {local:%a %d %b at %H:%M %Z}"
                if fu.late:
                    detail += " (late: no preferred slot was left inside the 24-48 h window)"
            elif action == "skip":
                fu = lifecycle.skip(fu, now, via)
                detail = "skipped; the drafts stay in Gmail untouched"
            elif action == "note":
                fu = lifecycle.add_note(fu, arg, now)
                detail = "note added" + (
                    "; untouched drafts will be refreshed with it" if fu.rerender else ""
                )
            else:
                return False, f"unknown request {action!r}", None
        except (LifecycleError, FollowupdError) as exc:
            return False, str(exc), None
        store.record(now, fu.id, action, detail)
        store.save(fu, lifecycle.next_due(fu, now, policy))
    return True, detail, fu


def apply_open_requests(
    store: Store,
    config: Config,
    now: Callable[[], datetime],
    on_applied: Callable[[FollowUp, str], None] = lambda fu, action: None,
) -> bool:
    """Apply every request the CLI (or a desktop button) queued; True if there were any.

    For approve / skip the request's argument says where the decision came from; for
    a note it is the text. A request without a follow-up is "sync now": the caller's
    cycle is that sync.
    """
    requests = store.open_requests()
    for request_id, fu_id, action, arg in requests:
        if not fu_id:
            result = "ok"
        else:
            note = action == "note"
            ok, detail, fu = apply_request(
                store, config, now(), action, fu_id,
                arg if note else "", "cli" if note else (arg or "cli"),
            )  # fmt: skip
            if fu is not None:
                on_applied(fu, action)
            result = f"{'ok' if ok else 'error'}: {detail}"
        with store.transaction():
            store.finish_request(request_id, now(), result)
    return bool(requests)
