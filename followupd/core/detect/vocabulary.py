"""The words and patterns detection reads events with: data, no logic.

Every pattern here runs in linear time on bounded input (the limits below bound what is
scanned). Word lists are folded (see `rules.fold`) where they are compared with folded
text. Scripts written without spaces between words have no word boundaries: see
`NO_SPACE` and `rules.rule_pattern`.
"""

from __future__ import annotations

import re
import unicodedata

# Limits that keep detection fast on hostile input.
DESC_SCAN = 20_000  # characters of the description scanned for interviewer lists
TITLE_SCAN = 300
NAME_MAX = 64
MAX_LIST_ITEMS = 30

# Scripts written without spaces between words (after NFKD: Hangul becomes jamo).
NO_SPACE = (
    "\u0e00-\u0eff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u2e80-\u2fdf\u3040-\u30ff"
    "\u3100-\u312f\u3130-\u318f\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f"
    "\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff"
)
NO_SPACE_CHAR = re.compile(f"[{NO_SPACE}]")
SPACED_WORD = f"[^\\W{NO_SPACE}]"  # a word character of a script that uses spaces

FOLLOWUP_TAG = re.compile(r"(?<![\w#])#(no[-_]?)?follow[-_]?up(?![\w-])", re.IGNORECASE)


EMAIL = re.compile(r"[\w.%+'-]{1,64}@(?:[\w-]{1,63}\.)+[\w-]{2,63}")
ROOM_NAME = re.compile(
    r"(?<!\w)(?:room|boardroom|besprechungsraum|konferenzraum|meetingraum)(?!\w)"
)
TOOL_DOMAINS = (
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
TOOL_LOCAL_TOKENS = frozenset(
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
PERSONAL_FAMILIES = frozenset(
    {"gmail", "googlemail", "yahoo", "ymail", "hotmail", "outlook", "live", "msn", "icloud",
     "aol", "gmx", "protonmail", "yandex"}
)  # fmt: skip
PERSONAL_DOMAINS = frozenset(
    {"me.com", "mac.com", "proton.me", "pm.me", "web.de", "mail.com", "mail.ru", "hey.com",
     "fastmail.com", "fastmail.fm", "zoho.com", "qq.com", "163.com", "126.com",
     "tutanota.com", "tuta.io", "posteo.de", "posteo.net", "t-online.de", "mailbox.org",
     "rocketmail.com", "comcast.net", "att.net", "sbcglobal.net", "verizon.net",
     "btinternet.com", "orange.fr", "free.fr", "laposte.net", "libero.it", "naver.com",
     "daum.net"}
)  # fmt: skip
SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"})
ROLE_MAILBOX_WORDS = frozenset(
    {"recruiting", "recruiter", "recruitment", "talent", "careers", "career", "jobs", "job",
     "hr", "team", "hiring", "people", "info", "admin", "office", "support", "contact",
     "hello", "interviews", "interview", "calendar", "coordinator", "acquisition", "sales",
     "no", "reply", "staffing", "candidates", "events"}
)  # fmt: skip
HONORIFICS = frozenset(
    {"dr", "mr", "mrs", "ms", "mx", "prof", "sir", "herr", "frau", "mme", "mlle", "m", "sr",
     "sra", "srta", "dott", "ing"}
)  # fmt: skip
NAME_SUFFIXES = frozenset(
    {"phd", "md", "jr", "sr", "ii", "iii", "iv", "mba", "cpa", "esq", "dds", "rn", "msc",
     "bsc", "pe", "she/her", "he/him", "they/them"}
)  # fmt: skip
NAME_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "dos", "das", "do",
     "la", "le", "bin", "binti", "ibn", "al", "el", "ter", "ten", "y", "e", "zu", "af"}
)  # fmt: skip
TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}|\$\{|<%|%>")
NAME_DROP = frozenset('<>"{}\\`$“”„«»')
BAD_TEXT = re.compile(r"[{}<>$`\\%]")

NAME_STOPWORDS = frozenset(
    {"tbd", "tba", "n/a", "na", "none", "you", "your", "the", "team", "interview",
     "interviewer", "interviewers", "panel", "candidate", "recruiter", "zoom", "google",
     "meet", "teams", "lunch", "break", "introductions", "introduction", "welcome",
     "q&a", "wrap", "debrief", "agenda", "schedule", "and", "with", "please", "our",
     "join", "dial", "link", "location", "time", "date", "notes", "note"}
)  # fmt: skip

LABEL = re.compile(
    r"[\s\-*•·>#]*(?:your\s+|the\s+|our\s+)?"
    r"(?P<label>interviewers?|interviewer\(s\)|interview(?:ing)?\s+(?:panel|team)"
    r"|panel(?:ists?)?|you(?:'|’)?ll\s+(?:be\s+)?meet(?:ing)?(?:\s+with)?"
    r"|you\s+will\s+(?:be\s+)?meet(?:ing)?(?:\s+with)?|meeting\s+with"
    r"|gesprächspartner(?:in|innen)?|interlocuteurs?|intervieweurs?|entrevistador(?:es|as)?"
    r"|(?:interview\s+)?(?:schedule|agenda|itinerary))"
    r"\s*(?:\([^()\n]{0,20}\))?\s*[:：]\s*(?P<rest>.*)",
    re.IGNORECASE,
)
ZOOM_HOST = re.compile(r"\s*(?P<name>[^\n]{1,80}?) is inviting you to a scheduled Zoom meeting")
WEAK_LABEL = re.compile(r".*(?:schedule|agenda|itinerary)$", re.IGNORECASE)
HEADING = re.compile(r"[^:：]{1,60}[:：]\s*$")
BULLET = re.compile(r"(?:[-*•·◦▪●‣–—>]+|\d{1,2}[.)])\s*")
TIME_PREFIX = re.compile(
    r"\d{1,2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\.?)?"
    r"(?:\s*(?:[-–—]|to|bis)\s*\d{1,2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\.?)?)?"
    r"(?:\s+[A-Z]{2,5}(?![a-z]))?\s*[:\-–—|]?\s*",
    re.IGNORECASE,
)
INLINE_SPLIT = re.compile(r"\s*(?:[,;/|•·&+]|\band\b|\bund\b|\bet\b)\s*", re.IGNORECASE)
ITEM_CUT = re.compile(r"\s+[-–—|]\s+|[,:(\[]|\s[-–—]\s*$")
PARENS = re.compile(r"\([^()]{0,200}\)|\[[^\[\]]{0,200}\]")
HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z][\w-]{0,20}(?:\s[^<>]{0,2000})?/?>")  # not "<a@b.c>"
HTML_BREAK = re.compile(
    r"<\s*(?:br|/?p|/?div|li|/?ul|/?ol|/?tr|/?table|/?h\d|/?blockquote)\b[^<>]*>", re.IGNORECASE
)
SPACES = re.compile(r"\s+")

KIND_MODIFIERS = (
    r"technical|tech|final|first|second|third|1st|2nd|3rd|\d{1,2}(?:st|nd|rd|th)|initial"
    r"|intro(?:ductory)?|behaviou?ral|coding|system\s+design|culture(?:\s+fit)?"
    r"|hiring\s+manager|hm|recruiter|hr|video|virtual|remote|phone|in[\s-]person"
    r"|on[\s-]?site|panel|follow[\s-]?up|next|job"
)
KIND_WORDS = (
    r"interview(?:s)?|phone[\s-]?screen(?:ing)?|screening(?:\s+call)?|screen"
    r"|on[\s-]?site|final\s+round|super\s?day|(?:recruiter|hr|intro(?:ductory)?|phone|video)"
    r"\s+(?:call|chat)|vorstellungsgesprach|bewerbungsgesprach|entretien(?:\s+d'embauche)?"
    r"|entrevista(?:\s+de\s+trabajo)?|colloquio|sollicitatiegesprek|"
    + "|".join(unicodedata.normalize("NFKD", w) for w in ("面接", "面试", "面試", "면접"))
)
KIND = re.compile(
    rf"(?<!{SPACED_WORD})(?:(?:{KIND_MODIFIERS})[\s-]+){{0,4}}(?:{KIND_WORDS})(?!{SPACED_WORD})"
)
ONSITE = re.compile(r"(?<!\w)(?:on[\s-]?site|final\s+(?:round|interview)|super\s?day|vor[\s-]ort)")
PANEL = re.compile(r"(?<!\w)panel")
PHONE = re.compile(
    r"(?<!\w)(?:phone[\s-]?(?:screen|interview|call)|screening|recruiter\s+(?:call|chat|screen)"
    r"|intro(?:ductory)?\s+call|telefon(?:interview|at))"
)
TITLE_PREFIX = re.compile(
    r"^(?:\s*(?:\[[^\]]{0,30}\]|(?:re|fwd?|aw|wg|invitation|updated\s+invitation|einladung"
    r"|aktualisierte\s+einladung|invitación)\s*:))+\s*",
    re.IGNORECASE,
)
SEPARATORS = re.compile(r"\s+[-/~]\s+|\s*[–—|•·]\s*|\s*:(?:\s+|$)|\s*：\s*")
COMPANY_SUFFIX = re.compile(
    r"(?:inc|llc|ltd|gmbh|ag|corp|co|plc|s\.?a|bv|b\.v|sarl|srl|oy|ab|as|kk|pty(?:\s+ltd)?"
    r"|se|nv|n\.v|spa|s\.p\.a)\.?",
    re.IGNORECASE,
)
CLAUSES = re.compile(
    r"(?:^|\s+)(with|w/|at|@|for|bei|mit|für|fur|chez|avec|pour|con|para|por)\s+", re.IGNORECASE
)
TIMELIKE = re.compile(
    r"\d{1,2}(?::\d{2}\s*(?:[ap]\.?m\.?|h|uhr)?|\s*(?:[ap]\.?m\.?|h|uhr))(?!\w)", re.IGNORECASE
)
NOISE_WORD = (
    r"(?:\d+\s*(?:min(?:ute)?s?|h(?:ou)?rs?|hours?)|(?:round|part|day|stage|step)\s*\d+"
    r"(?:\s*(?:of|/)\s*\d+)?|\d+(?:\s*/\s*\d+)?|zoom|google\s+meet|meet|hangouts?"
    r"|(?:microsoft\s+|ms\s+)?teams|webex|skype|phone|video|virtual|remote|in[\s-]person"
    r"|confirmed|rescheduled|updated|tentative|hold|placeholder|cancell?ed|external"
    r"|internal|tbd|tba|coffee|lunch|sync|catch[\s-]?up|quick|chat|call|meeting|intro"
    r"|[mwfdx](?:\s*/\s*[mwfdx])+|all\s+genders|she/her|he/him|they/them"
    r"|with|for|at|and|the|of|to|a|an)"
)
NOISE = re.compile(rf"{NOISE_WORD}(?:[\s-]+{NOISE_WORD}){{0,5}}")
ROLE_STEMS = (
    "engineer", "developer", "programmer", "architect", "manager", "designer", "analyst",
    "scientist", "researcher", "consultant", "specialist", "administrator", "director",
    "intern", "internship", "lead", "head", "officer", "associate", "coordinator", "writer",
    "editor", "strategist", "accountant", "marketer", "technician", "counsel", "attorney",
    "lawyer", "nurse", "physician", "teacher", "tutor", "advisor", "adviser",
    "representative", "executive", "owner", "master", "entwickler", "ingenieur", "berater",
    "leiter", "werkstudent", "praktikant", "developpeur", "stagiaire", "desarrollador",
    "ingeniero", "gerente", "analista", "sviluppatore", "programmeur",
)  # fmt: skip
ROLE_ABBREVIATIONS = frozenset(
    {"sre", "swe", "sde", "pm", "tpm", "vp", "cto", "ceo", "cfo", "coo", "ciso", "devops",
     "qa", "ux", "ui"}
)  # fmt: skip
ROLE_TRAILERS = re.compile(
    r"(?:\s+(?:role|position|opening|job|vacancy|stelle))+$|\s*\b[mwfdx]/[mwfdx](?:/[mwfdx])?\b",
    re.IGNORECASE,
)
ORG_TRAILERS = re.compile(
    r"(?:\s+(?:recruiters?|recruiting|talent|hiring|hr|people|team|folks))+$", re.IGNORECASE
)
LEADING_ARTICLE = re.compile(r"^(?:the|a|an|our|your|die|der|das|le|la|el)\s+", re.IGNORECASE)
