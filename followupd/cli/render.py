"""Output: for people (tables, aligned lines, local times) and for scripts (JSON:
`followup_json` is the contract DESIGN.md fixes). Event data is hostile: every
string from it goes through terminal_safe, and into rich only as Text."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from followupd.app.status import AuthState
from followupd.core.text import terminal_safe

if TYPE_CHECKING:
    from followupd.adapters.store import Store
    from followupd.app.checks import CheckReport
    from followupd.app.preview import Preview
    from followupd.app.status import StatusReport
    from followupd.core.model import FollowUp
    from followupd.core.settings import Config


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def local(value: datetime | None, config: Config) -> str:
    if value is None:
        return "-"
    return value.astimezone(config.timing.zone).strftime("%a %d %b %H:%M")


def sentence(text: str) -> str:
    """'approved via cli; sent Mon 09:00 UTC' -> 'Approved via cli; sent Mon 09:00 UTC.'
    (str.capitalize would lower-case the rest: 'gmail', 'mon', 'utc')."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# --- follow-ups ----------------------------------------------------------------------


def followup_json(fu: FollowUp) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": fu.id,
        "event_id": fu.event_id,
        "calendar_id": fu.calendar_id,
        "summary": fu.summary,
        "start": iso(fu.start),
        "end": iso(fu.end),
        "recipients": list(fu.recipients),
        "state": fu.state.value,
        "draft_ids": [d.draft_id for d in fu.drafts if d.draft_id],
        "window_start": iso(fu.window_start),
        "window_end": iso(fu.window_end),
        "send_at": iso(fu.send_at),
        "late": fu.late,
        "notes": list(fu.notes),
        "proofread": [
            {"code": f.code, "message": f.message, "blocking": f.blocking} for f in fu.proofread
        ],
        "company": fu.company,
        "role": fu.role,
        "kind": fu.kind,
        "template": fu.template,
        "draft_at": iso(fu.draft_at),
        "sent_at": iso(fu.sent_at),
        "replied_at": iso(fu.replied_at),
        "drafts": [
            {
                "recipients": list(d.recipients),
                "draft_id": d.draft_id,
                "status": d.status,
                "touched": d.touched,
                "subject": d.subject,
            }
            for d in fu.drafts
        ],
        "error": fu.error,
    }


def followup_table(items: list[FollowUp], config: Config) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False)
    for column in ("ID", "STATE", "INTERVIEW", "ENDED", "TO", "SEND AT"):
        table.add_column(column, overflow="fold")
    for fu in items:
        # Text(), not str: rich would read "[...]" in a hostile title as markup.
        table.add_row(
            fu.id,
            fu.state.value,
            Text(terminal_safe(fu.summary)),
            local(fu.end, config),
            Text(terminal_safe(", ".join(fu.recipients))),
            local(fu.send_at, config),
        )
    Console(highlight=False, soft_wrap=False).print(table)


def followup_text(fu: FollowUp, store: Store, config: Config) -> str:
    """`show`: one follow-up, its drafts, notes, findings and recent history."""
    lines = [
        f"{fu.id}  {fu.summary}",
        f"  state        {fu.state.value}" + (f"  ({fu.error})" if fu.error else ""),
        f"  interview    {local(fu.start, config)} - {local(fu.end, config)}",
        f"  company/role {fu.company or '-'} / {fu.role or '-'}  ({fu.kind})",
        f"  recipients   {', '.join(fu.recipients) or '-'}",
        f"  draft at     {local(fu.draft_at, config)}",
        f"  window       {local(fu.window_start, config)} - {local(fu.window_end, config)}",
        f"  send at      {local(fu.send_at, config)}" + ("  (late)" if fu.late else ""),
        f"  template     {fu.template or '-'}",
    ]
    for draft in fu.drafts:
        mark = " (edited by you)" if draft.touched else ""
        lines.append(
            f"  draft        {draft.draft_id or '-'} {draft.status}{mark} "
            f"to {', '.join(draft.recipients)}"
        )
    for note in fu.notes:
        lines.append(f"  note         {note}")
    for finding in fu.proofread:
        lines.append(f"  proofread    {finding.message}")
    if fu.replied_at:
        lines.append(f"  replied      {local(fu.replied_at, config)}")
    history = store.history(fu.id, limit=10)
    if history:
        lines.append("  history")
        for item in history:
            at = datetime.fromisoformat(item["at"])
            lines.append(f"    {local(at, config)}  {item['kind']}: {item['detail']}")
    return terminal_safe("\n".join(lines))


# --- status and check ----------------------------------------------------------------

_AUTH_HEADLINES = {
    AuthState.REFUSED: "REFUSED by Google (the daemon retries hourly; `followupd login` fixes it)",
    AuthState.KEYRING_UNAVAILABLE: "the keyring holding the login cannot be read (the daemon "
    "retries with backoff; once it is usable, `followupd sync` retries now)",
    AuthState.ERROR: "not usable: run `followupd login` (see `followupd check`)",
}


def status_json(report: StatusReport) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "running": report.pid is not None,
        "pid": report.pid,
        # The running daemon's mode (a changed file counts after a reload, SIGHUP).
        "mode": report.mode,
        "last_sync": iso(report.last_sync),
        "next_poll": iso(report.next_poll),
        "auth_state": report.auth_state,
        "auth_error": report.auth_error or None,
        "config_error": report.config_error or None,
        "last_error": report.last_error or None,
        "counts": report.counts,
        "next_actions": [{"id": i, "at": at.isoformat()} for i, at in report.next_actions],
        "recent": report.recent,
        "recent_errors": report.recent_errors,
    }


def status_lines(report: StatusReport) -> list[str]:
    config = report.config
    state = f"running (pid {report.pid})" if report.pid else "not running"
    lines = [f"daemon      {state}, mode {report.mode}"]
    lines += [f"config      {line}" for line in report.config_error.splitlines()]
    last = local(report.last_sync, config) if report.last_sync else "never"
    lines.append(f"last sync   {last}")
    lines.append(f"login       {_AUTH_HEADLINES.get(report.auth_state, report.auth_state)}")
    lines += [f"            {line}" for line in report.auth_error.splitlines()]
    if report.problem and report.problem != (report.auth_error or None):
        lines.append(f"problem     {report.problem}")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "none yet"
    lines.append(f"follow-ups  {counts}")
    for fu_id, at in report.next_actions:
        lines.append(f"next        {local(at, config)}  {fu_id}")
    for item in report.recent_errors:
        at = datetime.fromisoformat(item["at"])
        lines.append(f"error       {local(at, config)}  {item['detail'].splitlines()[0]}")
    return lines


def check_output(report: CheckReport, as_json: bool) -> None:
    findings = report.findings
    if as_json:
        problems = [f for f in findings if f.level != "ok"]
        data = {"ok": not problems, "findings": [vars(f) for f in findings]}
        click.echo(json.dumps(data, indent=2))
        return
    marks = {"ok": "ok  ", "warning": "warn", "error": "FAIL"}
    for f in findings:
        click.echo(f"[{marks[f.level]}] {f.area}: {f.message}")
        if f.level != "ok" and f.fix:
            click.echo(f"       fix: {f.fix}")


def preview_output(preview: Preview) -> None:
    click.echo(f"Subject: {preview.rendered.subject}\n")
    click.echo(preview.rendered.text.rstrip())
    click.echo(
        f"\n# template {preview.template}; proofreading: "
        + ("; ".join(f.message for f in preview.findings) or "no findings"),
        err=True,
    )
