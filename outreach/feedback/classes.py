"""What a bounce's RFC 3463 status code says about the address: hard, soft, or not the address's fault.

Read after delivery, from a bounce report; `outreach.policy` reads the same codes in the relay's reply at
send time, and the two agree but on 5.2.3 (message too big for the recipient), which policy counts as a
soft bounce of the address and this table, like 5.3.4, as what we sent.

===================================  ======  ==========================================================
status                               class   why
===================================  ======  ==========================================================
5.1.x (not 5.1.7, 5.1.8), 5.2.1      HARD    no such address, or the mailbox is disabled
5.2.2                                SOFT    mailbox full: the address exists
5.7.x, 5.6.x, 5.3.4, 5.2.3           POLICY  security, spam or policy; content; too big for the system
                                             or for the mailbox: refused for what we sent, not for who
5.1.7, 5.1.8                         POLICY  our sender address is refused
any other 5.x.x (5.0.0, 5.4.4, …)    SOFT    permanent for this message, yet no proof the address is
                                             dead: counts toward the bounce limit
4.x.x (e.g. 4.4.1 after the queue    SOFT    the reporting server gave up on a temporary failure
lifetime, Action: failed)
no code, permanent or temporary      SOFT    only a code proves a dead address ("550 User unknown"
                                             alone is also what some carriers say to a blocked sender)
===================================  ======  ==========================================================
"""

from __future__ import annotations

__all__ = ["ENHANCED_CODE", "classify", "first_code"]

import re

from outreach.models import BounceClass

# RFC 3463 section 2: class.subject.detail, the subject and detail without leading zeros. Like
# outreach.policy's pattern, but found anywhere in a text: "550-5.1.1 …", "(#5.1.1)", "<host #5.1.1>",
# never inside a longer dotted number such as an IP address or "5.1.10.2".
ENHANCED_CODE = re.compile(r"(?<![\d.])[245]\.(?:0|[1-9][0-9]{0,2})\.(?:0|[1-9][0-9]{0,2})(?![\d.]*\d)")
_HARD = frozenset({"5.2.1"})
_SENDER = frozenset({"5.1.7", "5.1.8"})
_POLICY = frozenset({"5.3.4", "5.2.3"})
_POLICY_SUBJECTS = ("5.7.", "5.6.")


def first_code(text: str) -> str | None:
    """The first RFC 3463 code in a text ("… said: 550 5.1.1 <a@example.jp>…" -> "5.1.1"), else None."""
    found = ENHANCED_CODE.search(text)
    return found.group(0) if found else None


def classify(status: str | None, *, permanent: bool) -> BounceClass:
    """The class of a failure by its RFC 3463 status; anything but a well-formed code is SOFT.

    `permanent` does not change the class today: without a code both kinds are SOFT, and with one the
    code decides. It is asked for so that every caller states what it knows.
    """
    if status is None or not ENHANCED_CODE.fullmatch(status) or not status.startswith("5."):
        return BounceClass.SOFT
    if status in _SENDER or status in _POLICY or status.startswith(_POLICY_SUBJECTS):
        return BounceClass.POLICY
    if status.startswith("5.1.") or status in _HARD:
        return BounceClass.HARD
    return BounceClass.SOFT
