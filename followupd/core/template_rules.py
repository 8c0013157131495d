"""Choosing a template by the rules of [[drafts.rules]], and checking those rules. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from followupd.core.settings import TemplateRule

__all__ = ["pick_template", "rule_problems"]


_BY_KIND = {"phone_screen": "phone_screen", "panel": "panel", "onsite": "panel"}


def _domain_matches(domain: str, wanted: str) -> bool:
    wanted = wanted.strip().lower().lstrip("@")
    return bool(wanted) and (domain == wanted or domain.endswith("." + wanted))


def pick_template(
    rules: Sequence[TemplateRule],
    *,
    title: str,
    calendar_id: str,
    domains: Iterable[str],
    kind: str,
    available: set[str],
) -> str:
    """The template for an interview: the first rule that matches and names an
    available template, else by kind (phone_screen -> phone_screen, panel and
    onsite -> panel, else thank_you).

    A rule matches when each criterion it gives matches (a rule with none matches
    everything): `title` — any word or phrase occurs in the title (case-blind);
    `calendar` — the calendar id is one of them; `domain` — an attendee's email
    domain is one of them or a subdomain of one.
    """
    folded_title = title.casefold()
    attendee_domains = {d.strip().lower().lstrip("@") for d in domains if d.strip()}
    for rule in rules:
        if rule.template not in available:
            continue
        if rule.title and not any(w.casefold() in folded_title for w in rule.title if w.strip()):
            continue
        if rule.calendar and calendar_id.casefold() not in {c.casefold() for c in rule.calendar}:
            continue
        if rule.domain and not any(
            _domain_matches(d, w) for d in attendee_domains for w in rule.domain
        ):
            continue
        return rule.template
    fallback = _BY_KIND.get(kind, "thank_you")
    return fallback if fallback in available or not available else "thank_you"


def rule_problems(rules: Sequence[TemplateRule], available: set[str]) -> list[str]:
    """Rules naming a template that does not exist (for `followupd check`)."""
    return [
        f"drafts.rules[{i}]: no template named {rule.template!r} "
        f"(available: {', '.join(sorted(available))})"
        for i, rule in enumerate(rules)
        if rule.template not in available
    ]
