"""Is this calendar event an interview, and who gets a follow-up? Pure: no I/O.

Every string of an event is hostile input (titles, names, descriptions): nothing from
it reaches `Detection.reason`, names are cleaned of control, bidi and template
characters, and every regex here runs in linear time on bounded input.

Decisions, in the order `detect` applies them (where the brief left room):
- Never an interview: a cancelled event; an event type other than "default" or
  "fromGmail" (fromGmail events, e.g. an interview booked by email, go through the
  same rules; they rarely have attendees, so in practice only `#followup` makes them
  count); an all-day event; an event without a start or end, or ending before it
  starts; an event the user declined (even with `#followup`).
- `#nofollowup` in the description beats `#followup` when both appear. The tags are
  case-insensitive, may be written `#follow-up` / `#no-followup`, and must stand
  alone (`#followups` is not the tag). `#followup` skips the title words and the
  accepted/external requirements, not the checks above; recipients are still only
  external humans who did not decline.
- Title words (`include` / `exclude`) are matched on the title only, never on the
  description (scheduler descriptions say "interview" in every meeting invite).
  Matching folds case and accents (NFKD, combining marks removed, casefold), treats
  runs of spaces, hyphens and underscores in a phrase as one flexible separator
  ("phone screen" matches "Phone-Screen" and "phonescreen"), and requires word
  boundaries. Scripts written without spaces (CJK, Hangul, Thai, Lao, Khmer,
  Myanmar) have no word boundaries: a rule edge in such a script needs no boundary
  (so "面接" matches inside "一次面接のご案内"), and a CJK neighbour never breaks the
  boundary of a Latin word ("Interviewのご案内" matches "interview"). Exclude wins
  over include. An empty `include` list means only `#followup` can make an interview.
- require_accepted: "accepted" and "tentative" both count (a draft is only a draft:
  missing an interview costs more than an unneeded draft); "needsAction" does not,
  unless the user organizes the event.
- External human: has a usable address; not the user (self flag or the account's
  address); not a resource (resource flag, any *.calendar.google.com or
  googlegroups.com address, or a display name such as "Conference Room 4"); not in
  `ignore_domains` (subdomains too); not a no-reply or scheduling-tool address (see
  `_TOOL_DOMAINS`; note that real employees of those vendors are excluded too);
  not matching `ignore_senders` (a glob such as "*@talent.acme.com", an exact
  address, "@domain" or "domain.tld" for a domain and its subdomains, or a bare
  word for an exact local part). The organizer counts as an attendee with an
  implicit "accepted" when the attendee list does not name them (hidden guest
  lists, `attendeesOmitted`). Optional attendees count; declined ones never do.
- A usable address is `local@domain.tld` with letters, digits and `._%+'-` in the
  local part (no quotes, brackets, braces, spaces or control characters): whatever
  reaches a To: header cannot smuggle a header or a second address.
- Names (`_clean_name`, `name_from_address`): displayName first, else the address
  ("jane.doe" -> "Jane Doe"; one token such as "jdoe", an initial, digits only or a
  role mailbox such as "recruiting.team" give ""), else an interviewer list in the
  description ("Interviewers:", "Panel:", "You'll meet with:", one-per-line lists,
  HTML), matched to an attendee by name or address shape ("Michael Chen" ~
  "mchen@", "Sabine Schäfer" ~ "s.schaefer@"); a match on a first or last name
  alone is used only when it is unambiguous. "Schedule:"/"Agenda:" lists and the
  Zoom "X is inviting you" line only name attendees, they add no interviewers.
  Only the first 20k characters of a description are read for names (the tags are
  looked for in all of it). Emoji and other symbols are dropped from names, as are
  control and bidi characters and the zero-width joiner; a display name holding
  template syntax or an "@" is not trusted and the address rule is used instead;
  "Doe, Jane" becomes "Jane Doe"; parenthesised parts ("(she/her)") and suffixes
  ("| Acme", ", PhD") are dropped; apostrophes stay (O'Brien); at most 64
  characters. `first_name` is the first token holding a letter that is not an
  honorific ("Dr. Jane Doe" -> "Jane"); for names written family name first
  (田中 太郎) it is the family name: nothing here can tell.
- Company: from the title (an "at X" clause, then a separate title part, then "for X",
  then text before the interview word, then "with X" unless X looks like a person);
  a "with X" guess loses to the attendees' domain unless they agree. Otherwise the
  most common external attendee domain, personal mail providers skipped. A title
  holding template syntax is not used for company or role.
- Kind: onsite words > "panel" > phone-screen words > at least 3 recipients (panel)
  > "interview".
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import TYPE_CHECKING

from followupd.core.model import Attendee, Detection, Event, Person
from followupd.core.text import clean_line, has_letter

if TYPE_CHECKING:
    from followupd.core.settings import DetectSettings

__all__ = ["company_from_domain", "detect", "fold", "match_rule", "name_from_address"]

# Limits that keep detection fast on hostile input.
_DESC_SCAN = 20_000  # characters of the description scanned for interviewer lists
_TITLE_SCAN = 300
_NAME_MAX = 64
_MAX_LIST_ITEMS = 30

# Scripts written without spaces between words (after NFKD: Hangul becomes jamo).
_NO_SPACE = (
    "\u0e00-\u0eff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u2e80-\u2fdf\u3040-\u30ff"
    "\u3100-\u312f\u3130-\u318f\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f"
    "\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff"
)
_NO_SPACE_CHAR = re.compile(f"[{_NO_SPACE}]")
_SPACED_WORD = f"[^\\W{_NO_SPACE}]"  # a word character of a script that uses spaces

_TAG = re.compile(r"(?<![\w#])#(no[-_]?)?follow[-_]?up(?![\w-])", re.IGNORECASE)

_EMAIL = re.compile(r"[\w.%+'-]{1,64}@(?:[\w-]{1,63}\.)+[\w-]{2,63}")
_RESOURCE_DOMAINS = ("calendar.google.com", "googlegroups.com")
_ROOM_NAME = re.compile(
    r"(?<!\w)(?:room|boardroom|besprechungsraum|konferenzraum|meetingraum)(?!\w)"
)
_TOOL_DOMAINS = (
    "greenhouse.io",
    "greenhouse-mail.io",
    "goodtime.io",
    "calendly.com",
    "lever.co",
    "ashbyhq.com",
    "gem.com",
    "modernloop.io",
    "modernloop.com",
    "paradox.ai",
    "smartrecruiters.com",
    "icims.com",
    "jobvite.com",
    "workable.com",
    "teamtailor.com",
    "recruitee.com",
    "bamboohr.com",
    "jazzhr.com",
    "breezy.hr",
    "taleo.net",
    "successfactors.com",
    "hirevue.com",
    "prelude.co",
    "pinpointhq.com",
    "youcanbook.me",
    "acuityscheduling.com",
    "doodle.com",
)
_TOOL_LOCAL_TOKENS = frozenset(
    {
        "noreply",
        "donotreply",
        "notification",
        "notifications",
        "scheduling",
        "scheduler",
        "mailerdaemon",
        "postmaster",
        "bounce",
        "bounces",
    }
)
_PERSONAL_FAMILIES = frozenset(
    {"gmail", "googlemail", "yahoo", "ymail", "hotmail", "outlook", "live", "msn", "icloud",
     "aol", "gmx", "protonmail", "yandex"}
)  # fmt: skip
_PERSONAL_DOMAINS = frozenset(
    {"me.com", "mac.com", "proton.me", "pm.me", "web.de", "mail.com", "mail.ru", "hey.com",
     "fastmail.com", "fastmail.fm", "zoho.com", "qq.com", "163.com", "126.com",
     "tutanota.com", "tuta.io", "posteo.de", "posteo.net", "t-online.de", "mailbox.org",
     "rocketmail.com", "comcast.net", "att.net", "sbcglobal.net", "verizon.net",
     "btinternet.com", "orange.fr", "free.fr", "laposte.net", "libero.it", "naver.com",
     "daum.net"}
)  # fmt: skip
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"})
_ROLE_MAILBOX_WORDS = frozenset(
    {"recruiting", "recruiter", "recruitment", "talent", "careers", "career", "jobs", "job",
     "hr", "team", "hiring", "people", "info", "admin", "office", "support", "contact",
     "hello", "interviews", "interview", "calendar", "coordinator", "acquisition", "sales",
     "no", "reply", "staffing", "candidates", "events"}
)  # fmt: skip
_HONORIFICS = frozenset(
    {"dr", "mr", "mrs", "ms", "mx", "prof", "sir", "herr", "frau", "mme", "mlle", "m", "sr",
     "sra", "srta", "dott", "ing"}
)  # fmt: skip
_NAME_SUFFIXES = frozenset(
    {"phd", "md", "jr", "sr", "ii", "iii", "iv", "mba", "cpa", "esq", "dds", "rn", "msc",
     "bsc", "pe", "she/her", "he/him", "they/them"}
)  # fmt: skip
_NAME_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "dos", "das", "do",
     "la", "le", "bin", "binti", "ibn", "al", "el", "ter", "ten", "y", "e", "zu", "af"}
)  # fmt: skip
_TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}|\$\{|<%|%>")
_NAME_DROP = frozenset('<>"{}\\`$“”„«»')
_BAD_TEXT = re.compile(r"[{}<>$`\\%]")

_NAME_STOPWORDS = frozenset(
    {"tbd", "tba", "n/a", "na", "none", "you", "your", "the", "team", "interview",
     "interviewer", "interviewers", "panel", "candidate", "recruiter", "zoom", "google",
     "meet", "teams", "lunch", "break", "introductions", "introduction", "welcome",
     "q&a", "wrap", "debrief", "agenda", "schedule", "and", "with", "please", "our",
     "join", "dial", "link", "location", "time", "date", "notes", "note"}
)  # fmt: skip

_LABEL = re.compile(
    r"[\s\-*•·>#]*(?:your\s+|the\s+|our\s+)?"
    r"(?P<label>interviewers?|interviewer\(s\)|interview(?:ing)?\s+(?:panel|team)"
    r"|panel(?:ists?)?|you(?:'|’)?ll\s+(?:be\s+)?meet(?:ing)?(?:\s+with)?"
    r"|you\s+will\s+(?:be\s+)?meet(?:ing)?(?:\s+with)?|meeting\s+with"
    r"|gesprächspartner(?:in|innen)?|interlocuteurs?|intervieweurs?|entrevistador(?:es|as)?"
    r"|(?:interview\s+)?(?:schedule|agenda|itinerary))"
    r"\s*(?:\([^()\n]{0,20}\))?\s*[:：]\s*(?P<rest>.*)",
    re.IGNORECASE,
)
_ZOOM_HOST = re.compile(r"\s*(?P<name>[^\n]{1,80}?) is inviting you to a scheduled Zoom meeting")
_WEAK_LABEL = re.compile(r".*(?:schedule|agenda|itinerary)$", re.IGNORECASE)
_HEADING = re.compile(r"[^:：]{1,60}[:：]\s*$")
_BULLET = re.compile(r"(?:[-*•·◦▪●‣–—>]+|\d{1,2}[.)])\s*")
_TIME_PREFIX = re.compile(
    r"\d{1,2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\.?)?"
    r"(?:\s*(?:[-–—]|to|bis)\s*\d{1,2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\.?)?)?"
    r"(?:\s+[A-Z]{2,5}(?![a-z]))?\s*[:\-–—|]?\s*",
    re.IGNORECASE,
)
_INLINE_SPLIT = re.compile(r"\s*(?:[,;/|•·&+]|\band\b|\bund\b|\bet\b)\s*", re.IGNORECASE)
_ITEM_CUT = re.compile(r"\s+[-–—|]\s+|[,:(\[]|\s[-–—]\s*$")
_PARENS = re.compile(r"\([^()]{0,200}\)|\[[^\[\]]{0,200}\]")
_TAGS = re.compile(r"<\s*/?\s*[A-Za-z][\w-]{0,20}(?:\s[^<>]{0,2000})?/?>")  # not "<a@b.c>"
_BREAKS = re.compile(
    r"<\s*(?:br|/?p|/?div|li|/?ul|/?ol|/?tr|/?table|/?h\d|/?blockquote)\b[^<>]*>", re.IGNORECASE
)
_SPACES = re.compile(r"\s+")

_KIND_MODIFIERS = (
    r"technical|tech|final|first|second|third|1st|2nd|3rd|\d{1,2}(?:st|nd|rd|th)|initial"
    r"|intro(?:ductory)?|behaviou?ral|coding|system\s+design|culture(?:\s+fit)?"
    r"|hiring\s+manager|hm|recruiter|hr|video|virtual|remote|phone|in[\s-]person"
    r"|on[\s-]?site|panel|follow[\s-]?up|next|job"
)
_KIND_WORDS = (
    r"interview(?:s)?|phone[\s-]?screen(?:ing)?|screening(?:\s+call)?|screen"
    r"|on[\s-]?site|final\s+round|super\s?day|(?:recruiter|hr|intro(?:ductory)?|phone|video)"
    r"\s+(?:call|chat)|vorstellungsgesprach|bewerbungsgesprach|entretien(?:\s+d'embauche)?"
    r"|entrevista(?:\s+de\s+trabajo)?|colloquio|sollicitatiegesprek|"
    + "|".join(unicodedata.normalize("NFKD", w) for w in ("面接", "面试", "面試", "면접"))
)
_KIND = re.compile(
    rf"(?<!{_SPACED_WORD})(?:(?:{_KIND_MODIFIERS})[\s-]+){{0,4}}(?:{_KIND_WORDS})(?!{_SPACED_WORD})"
)
_ONSITE = re.compile(r"(?<!\w)(?:on[\s-]?site|final\s+(?:round|interview)|super\s?day|vor[\s-]ort)")
_PANEL = re.compile(r"(?<!\w)panel")
_PHONE = re.compile(
    r"(?<!\w)(?:phone[\s-]?(?:screen|interview|call)|screening|recruiter\s+(?:call|chat|screen)"
    r"|intro(?:ductory)?\s+call|telefon(?:interview|at))"
)
_TITLE_PREFIX = re.compile(
    r"^(?:\s*(?:\[[^\]]{0,30}\]|(?:re|fwd?|aw|wg|invitation|updated\s+invitation|einladung"
    r"|aktualisierte\s+einladung|invitación)\s*:))+\s*",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"\s+[-/~]\s+|\s*[–—|•·]\s*|\s*:(?:\s+|$)|\s*：\s*")
_COMPANY_SUFFIX = re.compile(
    r"(?:inc|llc|ltd|gmbh|ag|corp|co|plc|s\.?a|bv|b\.v|sarl|srl|oy|ab|as|kk|pty(?:\s+ltd)?"
    r"|se|nv|n\.v|spa|s\.p\.a)\.?",
    re.IGNORECASE,
)
_CLAUSES = re.compile(
    r"(?:^|\s+)(with|w/|at|@|for|bei|mit|für|fur|chez|avec|pour|con|para|por)\s+", re.IGNORECASE
)
_TIMELIKE = re.compile(
    r"\d{1,2}(?::\d{2}\s*(?:[ap]\.?m\.?|h|uhr)?|\s*(?:[ap]\.?m\.?|h|uhr))(?!\w)", re.IGNORECASE
)
_NOISE_WORD = (
    r"(?:\d+\s*(?:min(?:ute)?s?|h(?:ou)?rs?|hours?)|(?:round|part|day|stage|step)\s*\d+"
    r"(?:\s*(?:of|/)\s*\d+)?|\d+(?:\s*/\s*\d+)?|zoom|google\s+meet|meet|hangouts?"
    r"|(?:microsoft\s+|ms\s+)?teams|webex|skype|phone|video|virtual|remote|in[\s-]person"
    r"|confirmed|rescheduled|updated|tentative|hold|placeholder|cancell?ed|external"
    r"|internal|tbd|tba|coffee|lunch|sync|catch[\s-]?up|quick|chat|call|meeting|intro"
    r"|[mwfdx](?:\s*/\s*[mwfdx])+|all\s+genders|she/her|he/him|they/them"
    r"|with|for|at|and|the|of|to|a|an)"
)
_NOISE = re.compile(rf"{_NOISE_WORD}(?:[\s-]+{_NOISE_WORD}){{0,5}}")
_ROLE_STEMS = (
    "engineer", "developer", "programmer", "architect", "manager", "designer", "analyst",
    "scientist", "researcher", "consultant", "specialist", "administrator", "director",
    "intern", "internship", "lead", "head", "officer", "associate", "coordinator", "writer",
    "editor", "strategist", "accountant", "marketer", "technician", "counsel", "attorney",
    "lawyer", "nurse", "physician", "teacher", "tutor", "advisor", "adviser",
    "representative", "executive", "owner", "master", "entwickler", "ingenieur", "berater",
    "leiter", "werkstudent", "praktikant", "developpeur", "stagiaire", "desarrollador",
    "ingeniero", "gerente", "analista", "sviluppatore", "programmeur",
)  # fmt: skip
_ROLE_ABBREVIATIONS = frozenset(
    {"sre", "swe", "sde", "pm", "tpm", "vp", "cto", "ceo", "cfo", "coo", "ciso", "devops",
     "qa", "ux", "ui"}
)  # fmt: skip
_ROLE_TRAILERS = re.compile(
    r"(?:\s+(?:role|position|opening|job|vacancy|stelle))+$|\s*\b[mwfdx]/[mwfdx](?:/[mwfdx])?\b",
    re.IGNORECASE,
)
_ORG_TRAILERS = re.compile(
    r"(?:\s+(?:recruiters?|recruiting|talent|hiring|hr|people|team|folks))+$", re.IGNORECASE
)
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an|our|your|die|der|das|le|la|el)\s+", re.IGNORECASE)


# --------------------------------------------------------------------------- text


def fold(text: str) -> str:
    """Case- and accent-insensitive form: NFKD, casefold, combining marks removed."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold_map(text: str) -> tuple[str, list[int]]:
    """`fold(text)` plus, for each folded character, the index it came from."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        piece = fold(ch)
        out.append(piece)
        index.extend([i] * len(piece))
    return "".join(out), index


def _span(index: list[int], start: int, end: int, length: int) -> tuple[int, int]:
    """A folded span -> the original span."""
    if start >= end:
        pos = index[start] if start < len(index) else length
        return pos, pos
    return index[start], index[end - 1] + 1


# --------------------------------------------------------------------------- rules


@lru_cache(maxsize=512)
def _rule_pattern(word: str) -> re.Pattern[str] | None:
    pieces = [p for p in re.split(r"[\s\-_]+", fold(word).strip()) if p]
    if not pieces:
        return None
    body = r"[\s\-_]*".join(re.escape(p) for p in pieces)
    left = "" if _NO_SPACE_CHAR.match(pieces[0][0]) else f"(?<!{_SPACED_WORD})"
    right = "" if _NO_SPACE_CHAR.match(pieces[-1][-1]) else f"(?!{_SPACED_WORD})"
    return re.compile(left + body + right)


def match_rule(words: Iterable[str], text: str) -> str | None:
    """The first of `words` found in `text` (folded, on word boundaries), or None."""
    folded = fold(text)
    for word in words:
        pattern = _rule_pattern(word) if isinstance(word, str) else None
        if pattern is not None and pattern.search(folded):
            return word
    return None


def _quote(word: str) -> str:
    """A rule word for the reason line (the user's own config, still kept tidy)."""
    return "'" + clean_line(word)[:40].replace("'", "") + "'"


# --------------------------------------------------------------------------- addresses


def _domain(email: str) -> str:
    return email.rpartition("@")[2]


def _local(email: str) -> str:
    return email.rpartition("@")[0].split("+", 1)[0]


def _in_domains(domain: str, domains: Iterable[str]) -> bool:
    for entry in domains:
        d = entry.strip().lower().lstrip("*").lstrip(".").lstrip("@")
        if d and (domain == d or domain.endswith("." + d)):
            return True
    return False


def _usable(email: str) -> bool:
    return len(email) <= 254 and _EMAIL.fullmatch(email) is not None


def _is_resource(att: Attendee) -> bool:
    if att.is_resource or _in_domains(_domain(att.email), _RESOURCE_DOMAINS):
        return True
    return bool(att.name) and _ROOM_NAME.search(fold(att.name[:200])) is not None


def _is_tool(email: str, extra: Sequence[str]) -> bool:
    local, domain = _local(email), _domain(email)
    tokens = [t for t in re.split(r"[-_.]+", local) if t]
    if any(t in _TOOL_LOCAL_TOKENS for t in tokens):
        return True
    joined = "".join(tokens)
    if "noreply" in joined or "donotreply" in joined or "mailerdaemon" in joined:
        return True
    if joined in ("calendarnotification", "calendarnotifications"):
        return True
    if _in_domains(domain, _TOOL_DOMAINS):
        return True
    if any(label.startswith("myworkday") for label in domain.split(".")):
        return True
    return any(_sender_matches(email, p) for p in extra if isinstance(p, str))


def _sender_matches(email: str, pattern: str) -> bool:
    p = pattern.strip().lower()
    if not p:
        return False
    if any(c in p for c in "*?["):
        return fnmatchcase(email, p)
    if p.startswith("@"):
        return _in_domains(_domain(email), [p[1:]])
    if "@" in p:
        return email == p
    if "." in p:
        return _in_domains(_domain(email), [p])
    return _local(email) == p


def _core_label(domain: str) -> str:
    """The organisation's label: 'mail.acme.co.uk' -> 'acme' (no public-suffix list:
    a two-letter TLD after a generic second level such as 'co' is skipped)."""
    labels = [label for label in domain.split(".") if label]
    if len(labels) < 2:
        return ""
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2]


def _personal_domain(domain: str) -> bool:
    return domain in _PERSONAL_DOMAINS or _core_label(domain) in _PERSONAL_FAMILIES


def company_from_domain(domain: str) -> str:
    """'acme-corp.com' -> 'Acme Corp'; 'mail.acme.co.uk' -> 'Acme'; personal mail -> ''."""
    domain = domain.strip().lower().rstrip(".")
    core = _core_label(domain)
    if not core or _personal_domain(domain):
        return ""
    words = [w for w in re.split(r"[-_]+", core) if w]
    if not words or not has_letter(core):
        return ""
    return " ".join(w[:1].upper() + w[1:] for w in words)


# --------------------------------------------------------------------------- names


def _clean_name(raw: str) -> str:
    """A display name fit to show: no control, bidi, emoji, quotes or brackets."""
    if not raw or _TEMPLATE_SYNTAX.search(raw[:500]):
        return ""
    out: list[str] = []
    for ch in raw[:500]:
        if ch.isspace():
            out.append(" ")
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif (
            cat in ("Cs", "Co", "Cn", "Cf", "So", "Sk", "Me")
            or ch in _NAME_DROP
            or "\ufe00" <= ch <= "\ufe0f"
            or "\U000e0100" <= ch <= "\U000e01ef"
        ):
            if ch == "\u200c":  # ZWNJ is part of Persian spelling
                out.append(ch)
            continue
        else:
            out.append(ch)
    text = _SPACES.sub(" ", _PARENS.sub(" ", "".join(out))).strip()
    text = re.sub(r"(?<!\w)\u200c|\u200c(?!\w)", "", text)  # ZWNJ only inside a word
    if "@" in text:
        return ""
    # "Jane Doe | Acme", "Jane Doe - Recruiter": the name comes first.
    text = re.split(r"\s+[-–—|·/]\s+", text)[0].replace("|", " ")
    parts = [p.strip() for p in text.split(",") if p.strip()]
    parts = [p for p in parts if fold(p).replace(".", "") not in _NAME_SUFFIXES]
    if len(parts) == 2 and " " not in parts[0]:
        text = f"{parts[1]} {parts[0]}"  # "Doe, Jane"
    elif parts:
        text = parts[0]
    text = text.strip(" '’‘.,;:-–—*_~()[]")
    text = _SPACES.sub(" ", text)
    if len(text) > _NAME_MAX:
        cut = text[:_NAME_MAX]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return text if has_letter(text) else ""


def name_from_address(email: str) -> str:
    """'jane.doe@x' -> 'Jane Doe'; 'mary_ann-smith2@x' -> 'Mary Ann Smith';
    'jdoe@x', 'j.doe@x', 'recruiting.team@x' -> '' (no name is invented)."""
    local = _local(email)
    tokens = [re.sub(r"\d+", "", t) for t in re.split(r"[._\-]+", local)]
    tokens = [t for t in tokens if t]
    if not 2 <= len(tokens) <= 4 or len(tokens[0]) < 2 or len(tokens[-1]) < 2:
        return ""
    if any(not t.isalpha() or fold(t) in _ROLE_MAILBOX_WORDS for t in tokens):
        return ""
    return " ".join(t[:1].upper() + t[1:] for t in tokens)


def _first_name(name: str) -> str:
    """The first token that holds a letter and is not an honorific ("Dr. Jane" -> "Jane")."""
    tokens = [t for t in name.split() if has_letter(t)]
    for token in tokens:
        if fold(token).strip(".") not in _HONORIFICS:
            return token
    return tokens[0] if tokens else ""


def _display_name(att: Attendee) -> str:
    """The attendee's name from displayName, else from the address, else ''."""
    name = _clean_name(att.name)
    if name and name != _local(att.email):  # a bare "jane.doe" is the address, not a name
        return name
    return name_from_address(att.email)


# --------------------------------------------------------------------------- descriptions


@dataclass
class _Listed:
    name: str
    email: str
    strong: bool  # from an "Interviewers:" style list (not a schedule/agenda)


def _description_lines(description: str) -> list[str]:
    text = description[:_DESC_SCAN]
    if "&" in text:
        text = html.unescape(text)
    if "<" in text and _TAGS.search(text):
        text = _BREAKS.sub("\n", text)
        text = _TAGS.sub(" ", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [line[:500] for line in text.split("\n")]


def _parse_item(item: str) -> tuple[str, str] | None:
    """One list entry -> (name, email or '') when it looks like a person."""
    item = clean_line(item)
    item = _BULLET.sub("", item, count=1) if _BULLET.match(item) else item
    if item[:1].isdigit():
        match = _TIME_PREFIX.match(item)
        if match:
            item = item[match.end() :]
    email = ""
    found = _EMAIL.search(item)
    if found:
        email = found.group(0).lower()
        item = (item[: found.start()] + " " + item[found.end() :]).replace("<>", " ")
        item = item.replace("mailto:", " ")
    item = _PARENS.sub(" ", item)
    cut = _ITEM_CUT.search(item)
    if cut:
        item = item[: cut.start()]
    name = _clean_name(item)
    if not name or not _looks_like_name(name):
        return None
    return name, email


def _looks_like_name(name: str) -> bool:
    tokens = name.split()
    if not 1 <= len(tokens) <= 5 or tokens[0][:1].islower():
        return False
    for token in tokens:
        if any(ch.isdigit() for ch in token) or fold(token) in _NAME_STOPWORDS:
            return False
        if token[:1].islower() and token not in _NAME_PARTICLES:
            return False  # "Powered by Greenhouse" is prose, "Ludwig van Beethoven" a name
        if not all(ch.isalpha() or ch in ".'’-\u200c" for ch in token):
            return False
    return True


def _listed_people(description: str) -> list[_Listed]:
    if not description:
        return []
    lines = _description_lines(description)
    found: list[_Listed] = []
    host = _ZOOM_HOST.match(lines[0]) if lines else None
    if host is not None:  # Zoom's own invitation text names the host: match only
        parsed = _parse_item(host.group("name"))
        if parsed is not None:
            found.append(_Listed(parsed[0], parsed[1], strong=False))
    i = 0
    while i < len(lines) and len(found) < _MAX_LIST_ITEMS:
        match = _LABEL.match(lines[i].strip())
        i += 1
        if match is None:
            continue
        strong = _WEAK_LABEL.match(match.group("label")) is None
        rest = _PARENS.sub(" ", match.group("rest")).strip()
        if rest:
            items = [p for p in _INLINE_SPLIT.split(rest) if p.strip()]
            for item in items[:_MAX_LIST_ITEMS]:
                parsed = _parse_item(item)
                if parsed is not None:
                    found.append(_Listed(parsed[0], parsed[1], strong))
            continue
        # One entry per line, until a blank run, another heading, or (for an
        # interviewer list) a line that is not a person. A schedule mixes people
        # with "Lunch" and "Break": it skips those lines instead.
        blanks = scanned = got = 0
        while i < len(lines) and scanned < 2 * _MAX_LIST_ITEMS and blanks < 3:
            line = lines[i].strip()
            if not line:
                blanks += 1
                i += 1
                continue
            if _LABEL.match(line) or _HEADING.fullmatch(line) or len(line) > 160:
                break
            blanks = 0
            scanned += 1
            parsed = _parse_item(line)
            if parsed is None:
                if strong and (got or scanned > 2):
                    break
            else:
                got += 1
                found.append(_Listed(parsed[0], parsed[1], strong))
            i += 1
    return found[:_MAX_LIST_ITEMS]


def _alnum(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isalpha())


_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "ae", "Ö": "oe", "Ü": "ue", "ß": "ss", "ø": "oe",
     "Ø": "oe", "å": "aa", "Å": "aa", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th",
     "đ": "d", "ł": "l", "Ł": "l"}
)  # fmt: skip


def _token_variants(name: str) -> list[list[str]]:
    """A name's folded tokens, plus the German/Nordic spelling used in addresses
    ("Schäfer" -> "schafer" and "schaefer")."""
    out: list[list[str]] = []
    for text in (name, name.translate(_TRANSLIT)):
        tokens = [t for t in (_alnum(t) for t in text.split()) if t]
        if tokens and tokens not in out:
            out.append(tokens)
    return out


@dataclass(frozen=True)
class _Keys:
    """What an attendee is matched on: folded name tokens and address local part."""

    email: str
    name: tuple[str, ...]
    local: str


def _keys(att: Attendee, att_name: str) -> _Keys:
    tokens = tuple(t for t in (_alnum(t) for t in att_name.split()) if t)
    return _Keys(att.email, tokens, _alnum(_local(att.email)))


def _score(tokens: list[str], keys: _Keys) -> int:
    theirs = keys.name
    if theirs:
        if list(theirs) == tokens or sorted(theirs) == sorted(tokens):
            return 4
        same_ends = (theirs[0], theirs[-1]) == (tokens[0], tokens[-1])
        if len(tokens) >= 2 and len(theirs) >= 2 and same_ends:
            return 3
    local = keys.local
    if not local:
        return 0
    first, last = tokens[0], tokens[-1]
    if len(tokens) >= 2:
        if local in ("".join(tokens), first + last, last + first):
            return 3
        initials = first[0] + "".join(t[0] for t in tokens[1:-1]) + last
        if local in (first[0] + last, first + last[0], last + first[0], initials):
            return 2
        if local in (first, last):
            return 1
        return 0
    return 1 if len(first) >= 3 and local.startswith(first) else 0


def _assign(listed: list[_Listed], atts: list[_Keys]) -> dict[int, int]:
    """Listed index -> attendee index, best matches first; a weak match (score 1)
    only when it is the only candidate on both sides."""
    pairs: list[tuple[int, int, int]] = []
    for li, person in enumerate(listed):
        variants = _token_variants(person.name)
        for ai, keys in enumerate(atts):
            if person.email and person.email == keys.email:
                score = 5
            else:
                score = max((_score(v, keys) for v in variants), default=0)
            if score:
                pairs.append((score, li, ai))
    per_listed = Counter(li for _, li, _ in pairs)
    per_att = Counter(ai for _, _, ai in pairs)
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    result: dict[int, int] = {}
    used: set[int] = set()
    for score, li, ai in pairs:
        if li in result or ai in used:
            continue
        if score == 1 and (per_listed[li] != 1 or per_att[ai] != 1):
            continue
        result[li] = ai
        used.add(ai)
    return result


# --------------------------------------------------------------------------- title


def _strip_piece(text: str) -> str:
    return text.strip(" .,;:!?-–—|/~*_()[]'\"")


def _acceptable(text: str) -> bool:
    if len(text) < 2 or len(text) > 60 or len(text.split()) > 6 or not has_letter(text):
        return False
    return _BAD_TEXT.search(text) is None and _NOISE.fullmatch(fold(text)) is None


def _role_like(text: str) -> bool:
    tokens = [_alnum(t) for t in text.split()]
    if not tokens or len(tokens) > 8:
        return False
    return any(
        t in _ROLE_ABBREVIATIONS or any(t.endswith(stem) for stem in _ROLE_STEMS) for t in tokens
    )


def _tidy_role(text: str) -> str:
    text = _ROLE_TRAILERS.sub("", _strip_piece(text))
    return _strip_piece(_LEADING_ARTICLE.sub("", text))


def _known_person(text: str, people: set[str]) -> bool:
    """`text` names someone on the invite (full name, or starts with a first name)."""
    tokens = text.split()
    if " ".join(_alnum(t) for t in tokens) in people:
        return True
    return 1 <= len(tokens) <= 3 and _alnum(tokens[0]) in people


def _person_like(text: str, people: set[str]) -> bool:
    """Known, or shaped like a personal name ("Jane Doe"): for "with X" clauses."""
    if _known_person(text, people):
        return True
    tokens = text.split()
    if 2 <= len(tokens) <= 3 and all(t[:1].isupper() and t.isalpha() for t in tokens):
        return not any(_COMPANY_SUFFIX.fullmatch(t) for t in tokens)
    return False


class _TitleInfo:
    AT, SEGMENT, FOR, PRE, WITH = range(5)

    def __init__(self) -> None:
        self.companies: list[tuple[int, int, str]] = []
        self.roles: list[tuple[int, int, str]] = []

    def company(self, rank: int, text: str) -> None:
        stripped = _strip_piece(text)
        last = stripped.rsplit(" ", 1)[-1]
        if text.rstrip().endswith(".") and _COMPANY_SUFFIX.fullmatch(last + "."):
            stripped += "."  # "Globex, Inc."
        text = re.sub(r"['’]s$", "", stripped)
        if _acceptable(text) and not _role_like(text):
            self.companies.append((rank, len(self.companies), text))

    def role(self, rank: int, text: str) -> None:
        text = _tidy_role(text)
        if _acceptable(text):
            self.roles.append((rank, len(self.roles), text))


def _pieces(title: str) -> list[str]:
    """Title parts between separators; "(Staff Engineer)" is a part of its own."""
    out: list[str] = []
    inner = [m.group(0)[1:-1] for m in _PARENS.finditer(title)]
    for segment in [*_SEPARATORS.split(_PARENS.sub(" | ", title)), *inner]:
        parts = [p.strip() for p in segment.split(",")]
        merged: list[str] = []
        for part in parts:
            if merged and _COMPANY_SUFFIX.fullmatch(part):
                merged[-1] = f"{merged[-1]}, {part}"
            elif part:
                merged.append(part)
        out.extend(merged)
    return out


def _kind_span(piece: str, include: Sequence[str]) -> tuple[int, int] | None:
    folded, index = _fold_map(piece)
    best: tuple[int, int] | None = None
    patterns: list[re.Pattern[str]] = [_KIND]
    patterns.extend(p for w in include if isinstance(w, str) and (p := _rule_pattern(w)))
    for pattern in patterns:
        match = pattern.search(folded)
        if match and match.end() > match.start():
            span = _span(index, match.start(), match.end(), len(piece))
            if best is None or span[0] < best[0] or (span[0] == best[0] and span[1] > best[1]):
                best = span
    return best


def _clauses(info: _TitleInfo, text: str, people: set[str]) -> None:
    parts = _CLAUSES.split(text)
    for k in range(1, len(parts) - 1, 2):
        prep, value = parts[k].lower(), _strip_piece(parts[k + 1])
        if not value or _TIMELIKE.match(value):
            continue
        if prep in ("for", "für", "fur", "pour", "para", "por"):
            if _role_like(value):
                info.role(_TitleInfo.FOR, value)
            elif not _known_person(value, people):
                info.company(_TitleInfo.FOR, value)
        elif prep in ("at", "@", "bei", "chez"):
            if not _known_person(value, people):
                info.company(_TitleInfo.AT, value)
        else:
            value = _ORG_TRAILERS.sub("", _LEADING_ARTICLE.sub("", value))
            if value and not _person_like(value, people):
                info.company(_TitleInfo.WITH, value)


def _title_info(summary: str, include: Sequence[str], people: set[str]) -> _TitleInfo:
    info = _TitleInfo()
    title = _TITLE_PREFIX.sub("", clean_line(summary[: _TITLE_SCAN * 2])[:_TITLE_SCAN])
    if _TEMPLATE_SYNTAX.search(title):
        return info  # a title carrying template syntax is not trusted for names
    for raw in _pieces(title):
        piece = raw.strip(" ,;:!?-–—|/~*_()[]'\"")
        if not piece:
            continue
        span = _kind_span(piece, include)
        if span is not None:
            pre, post = piece[: span[0]].strip(), piece[span[1] :].strip()
            if pre:
                if _role_like(pre):
                    info.role(_TitleInfo.PRE, pre)
                elif not _known_person(pre, people):
                    info.company(_TitleInfo.PRE, pre)
            if post:
                _clauses(info, post, people)
            continue
        clause = _CLAUSES.search(piece)
        if clause is not None:
            _clauses(info, piece[clause.start() :], people)
            piece = piece[: clause.start()].strip()
            if not piece:
                continue
        if _role_like(piece):
            info.role(_TitleInfo.SEGMENT, piece)
        elif not _known_person(piece, people):
            info.company(_TitleInfo.SEGMENT, piece)
    return info


def _pick_company(info: _TitleInfo, domain_company: str) -> str:
    ranked = sorted(info.companies)
    for rank, _, text in ranked:
        if rank != _TitleInfo.WITH:
            return text
        if not domain_company:
            return text
        a, b = _alnum(text), _alnum(domain_company)
        if a and b and (a in b or b in a):
            return text
    return domain_company


def _kind(summary: str, recipients: int) -> str:
    title = fold(clean_line(summary[: _TITLE_SCAN * 2]))
    if _ONSITE.search(title):
        return "onsite"
    if _PANEL.search(title):
        return "panel"
    if _PHONE.search(title):
        return "phone_screen"
    if recipients >= 3:
        return "panel"
    return "interview"


# --------------------------------------------------------------------------- detect


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _safe_type(event_type: str) -> str:
    return event_type if re.fullmatch(r"[A-Za-z]{1,30}", event_type) else "unknown"


def detect(event: Event, rules: DetectSettings, user_email: str) -> Detection:
    """Decide whether `event` is an interview and who should get a follow-up."""
    user = user_email.strip().lower() if isinstance(user_email, str) else ""

    if event.cancelled:
        return Detection(False, "event cancelled")
    if event.event_type not in ("default", "fromGmail"):
        return Detection(False, f"event type {_safe_type(event.event_type)} is never an interview")
    if event.all_day:
        return Detection(False, "all-day event")
    if event.start is None or event.end is None:
        return Detection(False, "no start or end time")
    if event.end < event.start:
        return Detection(False, "event ends before it starts")

    attendees = list(event.attendees)
    known = {a.email for a in attendees if a.email}
    if event.organizer_email and event.organizer_email not in known:
        attendees.append(
            Attendee(
                email=event.organizer_email,
                name=event.organizer_name,
                response="accepted",
                is_self=event.organizer_self,
                is_organizer=True,
            )
        )

    # An address is the user's, a room or declined when any of its entries says so
    # (a list may name one address twice).
    self_emails = {a.email for a in attendees if a.is_self} | {user}
    self_emails.discard("")
    room_emails = {a.email for a in attendees if _is_resource(a)}
    declined_emails = {a.email for a in attendees if a.response == "declined"}

    def is_user(att: Attendee) -> bool:
        return att.is_self or att.email in self_emails

    mine = [a for a in attendees if is_user(a)]
    organizer = event.organizer_self or (bool(user) and event.organizer_email == user)
    organizer = organizer or any(a.is_organizer for a in mine)
    if any(a.response == "declined" for a in mine):
        return Detection(False, "you declined")

    tags = {m.group(1) is not None for m in _TAG.finditer(event.description)}
    if True in tags:
        return Detection(False, "#nofollowup in description")
    forced = False in tags

    reasons: list[str] = []
    if forced:
        reasons.append("#followup in description")
    else:
        excluded = match_rule(rules.exclude, event.summary)
        if excluded is not None:
            return Detection(False, f"title matches excluded {_quote(excluded)}")
        included = match_rule(rules.include, event.summary)
        if included is None:
            return Detection(False, "title matches no include word")
        reasons.append(f"title matches {_quote(included)}")
        if rules.require_accepted and not organizer:
            responses = {a.response for a in mine}
            if not responses & {"accepted", "tentative"}:
                state = sorted(responses)[0] if responses else "unknown"
                return Detection(False, f"not accepted (your response: {state})")

    # Who is an external human?
    externals: list[tuple[Attendee, str]] = []
    seen: set[str] = set()
    names: dict[str, str] = {}  # email -> name from displayName or address

    def display_name(att: Attendee) -> str:
        if att.email not in names:
            names[att.email] = _display_name(att)
        return names[att.email]

    for att in attendees:
        email = att.email
        if (
            not email
            or email in seen
            or is_user(att)
            or not _usable(email)
            or email in room_emails
            or _in_domains(_domain(email), rules.ignore_domains)
            or _is_tool(email, rules.ignore_senders)
        ):
            continue
        seen.add(email)
        externals.append((att, display_name(att)))
    present = [(a, n) for a, n in externals if a.email not in declined_emails]

    if not forced and rules.require_external and not present:
        return Detection(False, f"{reasons[0]}; no external attendee")

    # Names: attendees, then interviewer lists in the description.
    named = [
        (a, display_name(a))
        for a in attendees
        if a.email and a.email not in room_emails and not _is_tool(a.email, rules.ignore_senders)
    ]
    listed = _listed_people(event.description)
    assignment = _assign(listed, [_keys(a, n) for a, n in named]) if listed else {}
    from_list: dict[str, str] = {}
    for li, ai in assignment.items():
        att = named[ai][0]
        if att.email not in from_list:
            from_list[att.email] = listed[li].name

    recipients: list[Person] = []
    for att, name in present:
        name = name or from_list.get(att.email, "")
        recipients.append(Person(att.email, name, _first_name(name)))
    interviewers = list(recipients)
    seen_names = {_alnum(p.name) for p in recipients if p.name}
    for li, person in enumerate(listed):
        key = _alnum(person.name)
        if li in assignment or not person.strong or not key or key in seen_names:
            continue
        seen_names.add(key)
        interviewers.append(Person("", person.name, _first_name(person.name)))

    # Company and role.
    people: set[str] = set()
    for p in interviewers:
        if p.name:
            people.add(" ".join(_alnum(t) for t in p.name.split()))
            people.add(_alnum(p.first_name))
    for _, name in named:
        if name:
            people.add(" ".join(_alnum(t) for t in name.split()))
            people.add(_alnum(_first_name(name)))
    people.discard("")
    domains = Counter(
        _domain(a.email) for a, _ in externals if not _personal_domain(_domain(a.email))
    )
    domain_company = ""
    for domain, _ in domains.most_common():
        domain_company = company_from_domain(domain)
        if domain_company:
            break
    info = _title_info(event.summary, rules.include, people)
    company = _pick_company(info, domain_company)
    role = min(info.roles)[2] if info.roles else ""

    if recipients:
        reasons.append(_plural(len(recipients), "external attendee"))
    elif forced:
        reasons.append("no recipient with an email")
    else:
        reasons.append("no recipients")
    if event.attendees_omitted:
        reasons.append("attendee list incomplete")
    return Detection(
        is_interview=True,
        reason="; ".join(reasons),
        recipients=tuple(recipients),
        interviewers=tuple(interviewers),
        company=company,
        role=role,
        kind=_kind(event.summary, len(recipients)),
    )
