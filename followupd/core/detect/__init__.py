"""Is this calendar event an interview, and who gets a follow-up? Pure: no I/O.

Every string of an event is hostile input (titles, names, descriptions): nothing from
it reaches `Detection.reason`, names are cleaned of control, bidi and template
characters, and every regex here runs in linear time on bounded input.

The rooms, each with the decisions it makes:
- `decide`: `detect`, the order of the decisions, what is never an interview, the
  user's response;
- `rules`: folding, title words (`include` / `exclude`), the `#followup` tags;
- `people`: addresses, names, role mailboxes, who is an external human;
- `listing`: interviewer lists in descriptions and their matching to attendees;
- `titles`: company, role and kind from the title;
- `vocabulary`: the word lists and patterns they read with.
"""

from followupd.core.detect.decide import detect
from followupd.core.detect.people import company_from_domain, name_from_address
from followupd.core.detect.rules import fold, match_rule

__all__ = ["company_from_domain", "detect", "fold", "match_rule", "name_from_address"]
