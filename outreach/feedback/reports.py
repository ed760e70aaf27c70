"""Read what comes back to our envelope sender: a bounce (which addresses failed, why) or a complaint.

How a message is read, in order; the first rule that decides, decides:

1. Complaint: a multipart/report of report-type feedback-report with a message/feedback-report part
   (RFC 5965 ARF: feedback loops such as Yahoo's and Microsoft's JMRP). The reader marked our mail as
   spam. Feedback-Type not-spam (the opposite) and auth-failure (an RFC 6591 DMARC failure report, about
   our domain's authentication, not about a reader) are no complaint: None.
2. Bounce in RFC 3464 form: the message/delivery-status part, read here with the email package (never by
   flufl.bounce): each per-recipient block with Action: failed is a Failure, its Status the code. A
   report whose recipients are only delayed, delivered, relayed or expanded is a warning or a receipt,
   not a bounce: None.
3. An auto-reply (vacation, 自動応答, Auto-Submitted: auto-replied) that is no report: None.
4. Any other bounce format (qmail, Exim's text, Yahoo's legacy text, old Exchange, …):
   flufl.bounce.all_failures finds the addresses; its permanent set are the failures (its temporary set
   are warnings, ignored). flufl.bounce gives bare addresses only: the status code and the diagnostic
   line are read here, from the notification text next to each address. Among the fixtures
   (tests/fixtures/feedback) it is what reads the qmail, Exim and Yahoo legacy bounces, and it finds
   nothing in au's ezweb.ne.jp "Mail System Error - Returned Mail" reports.
5. A message that is clearly a bounce (a delivery-status report, a MAILER-DAEMON or postmaster sender,
   or a subject such as "Undelivered Mail Returned to Sender", "failure notice", "Undeliverable:",
   "Returned mail", 配信不能) in which no address was found, but whose notification text carries an
   RFC 3463 code: one Failure with no recipient. The caller finds the delivery by our VERP address or the
   returned Message-ID; the message may name an address we never sent to (a forward target).
6. Anything else: None.

The returned original's Message-ID and Return-Path come from its message/rfc822 or text/rfc822-headers
part, else from the headers quoted in a text bounce after a line such as qmail's "--- Below this line is
a copy of the message."; an ARF report's Original-Mail-From stands in for a missing Return-Path.
"""

from __future__ import annotations

__all__ = ["Failure", "Report", "ReportKind", "read_report"]

import email
import enum
from dataclasses import dataclass
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.policy import Compat32
from email.utils import collapse_rfc2231_value, parseaddr

from flufl.bounce import all_failures

from outreach.feedback.classes import classify, first_code
from outreach.feedback.dsn import (
    RecipientBlock,
    address_of,
    field_blocks,
    fold,
    header_text,
    recipient_blocks,
    report_parts,
)
from outreach.feedback.text import code_paragraph, envelope, near, notification, returned_original
from outreach.models import BounceClass

# The email package raises these on malformed input (a NUL in a charset name, MIME nested deeper than
# Python's recursion limit): input that raises one is no report we can read.
_MALFORMED = (MessageError, LookupError, UnicodeError, ValueError, RecursionError)
# flufl.bounce's detectors are heuristics over untrusted text, and some trip over odd input (its Yale
# detector indexes an empty list when From is missing): one that trips has found nothing.
_DETECTOR_ERRORS = (*_MALFORMED, AttributeError, IndexError, KeyError, TypeError)
_NOT_COMPLAINTS = frozenset({"not-spam", "auth-failure"})
_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailer_daemon"})
_BOUNCE_SUBJECTS = (
    "undelivered mail returned to sender",  # Postfix
    "delivery status notification (failure)",  # Gmail, Microsoft
    "mail delivery failed",  # Exim
    "failure notice",  # qmail
    "undeliverable",  # Exchange: "Undeliverable: <subject>"
    "returned mail",  # sendmail "Returned mail: …", carriers' "Mail System Error - Returned Mail"
    "delivery failure",  # Domino, and others
    "message not delivered",
    "配信不能",  # Exchange and Outlook in Japanese
)
_AUTO_REPLY_SUBJECTS = (
    "自動応答",
    "自動返信",
    "不在",
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
)
_AUTO_REPLY_HEADERS = ("x-autoreply", "x-autorespond")


class _TextHeaders(Compat32):
    """compat32, but a header with raw 8-bit bytes reads as text (UTF-8, else U+FFFD), never as a Header.

    flufl.bounce's detectors call str methods on header values; compat32 would hand them a Header object.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        if isinstance(value, str) and not value.isascii():
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return str(super().header_fetch_parse(name, value))


_POLICY = _TextHeaders()


class ReportKind(enum.StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class Failure:
    """One address a bounce reports as failed, and why."""

    recipient: str | None  # lower-cased, bare: "rcpt@example.jp"; None if the report does not say
    status: str | None  # RFC 3463, e.g. "5.1.1": the Status field, else the first code in the text
    diagnostic: str  # the Diagnostic-Code without its type, or the notification's text: one line, ≤ 500
    permanent: bool  # Action: failed, a 5.x.x code, or flufl.bounce's permanent set
    bounce_class: BounceClass  # classify(status, permanent=permanent)


@dataclass(frozen=True)
class Report:
    """A bounce or a complaint, with what identifies the message it is about."""

    kind: ReportKind
    failures: tuple[Failure, ...]  # empty for a complaint
    returned_message_id: str | None  # the original's Message-ID, with its angle brackets
    returned_envelope_sender: str | None  # the original's Return-Path: our VERP address, if it is ours
    complaint_recipient: str | None  # ARF Original-Rcpt-To, else Removal-Recipient; lower-cased
    feedback_type: str | None  # ARF Feedback-Type, lower-cased ("abuse", "fraud", …); None for a bounce


def read_report(raw: bytes) -> Report | None:
    """The bounce or complaint in a raw message; None for anything else. Never raises on bad input."""
    try:
        return _read(email.message_from_bytes(raw, policy=_POLICY))
    except _MALFORMED:
        return None


def _read(message: Message) -> Report | None:
    if _is_report(message, "feedback-report"):
        return _complaint(message)
    blocks = recipient_blocks(message)
    if blocks:
        return _dsn_bounce(message, [block for block in blocks if block.failed])
    subject = _decoded(message, "subject")
    bounce_like = _looks_like_bounce(message, subject)
    if not bounce_like and _is_auto_reply(message, subject):
        return None
    text = notification(message)
    failures = _detected_failures(message, text)
    if not failures and bounce_like:
        failures = _unaddressed_failure(text)
    return _bounce(message, failures) if failures else None


def _complaint(message: Message) -> Report | None:
    """An ARF report: who complained, of what kind, about which message; None if no complaint."""
    fields = _feedback_fields(message)
    if fields is None:
        return None
    feedback_type = header_text(fields, "feedback-type").strip().lower() or None
    if feedback_type in _NOT_COMPLAINTS:
        return None
    message_id, return_path = returned_original(message)
    recipients = [address_of(str(value)) for value in fields.get_all("original-rcpt-to") or []]
    return Report(
        kind=ReportKind.COMPLAINT,
        failures=(),
        returned_message_id=message_id,
        returned_envelope_sender=return_path or envelope(header_text(fields, "original-mail-from")),
        complaint_recipient=next(filter(None, recipients), None)
        or address_of(header_text(fields, "removal-recipient")),
        feedback_type=feedback_type,
    )


def _feedback_fields(message: Message) -> Message | None:
    """The fields of an ARF report's message/feedback-report part; None if it has no such part."""
    for part in report_parts(message):
        if part.get_content_type() == "message/feedback-report":
            blocks = field_blocks(part)
            return blocks[0] if blocks else Message()
    return None


def _dsn_bounce(message: Message, failed: list[RecipientBlock]) -> Report | None:
    """An RFC 3464 report's failures; None when no recipient failed (a delay warning, a receipt)."""
    if not failed:
        return None
    text = notification(message)
    failures = []
    for block in failed:
        diagnostic = block.diagnostic or near(text, block.recipient, single=len(failed) == 1)[1]
        status = block.status or first_code(diagnostic)
        failures.append(_failure(block.recipient, status, diagnostic, permanent=True))
    return _bounce(message, failures)


def _detected_failures(message: Message, text: str) -> list[Failure]:
    """The permanent failures flufl.bounce's detectors find, each with the code and text next to it."""
    if not header_text(message, "from").strip():
        return []  # no bounce format lacks a From; and flufl.bounce logs a traceback for each one that does
    try:
        _, permanent = all_failures(message)
    except _DETECTOR_ERRORS:
        return []
    addresses = sorted({found for raw in permanent if (found := address_of(raw.decode("ascii", "replace")))})
    failures = []
    for address in addresses:
        status, diagnostic = near(text, address, single=len(addresses) == 1)
        failures.append(_failure(address, status, diagnostic, permanent=True))
    return failures


def _unaddressed_failure(text: str) -> list[Failure]:
    """A bounce that names no address flufl.bounce knows: one failure if its text carries a code."""
    status, diagnostic = code_paragraph(text)
    if status is None:
        return []
    return [_failure(None, status, diagnostic, permanent=status.startswith("5."))]


def _failure(recipient: str | None, status: str | None, diagnostic: str, *, permanent: bool) -> Failure:
    return Failure(
        recipient=recipient,
        status=status,
        diagnostic=fold(diagnostic),
        permanent=permanent,
        bounce_class=classify(status, permanent=permanent),
    )


def _bounce(message: Message, failures: list[Failure]) -> Report:
    message_id, return_path = returned_original(message)
    return Report(
        kind=ReportKind.BOUNCE,
        failures=tuple(failures),
        returned_message_id=message_id,
        returned_envelope_sender=return_path,
        complaint_recipient=None,
        feedback_type=None,
    )


def _is_report(message: Message, report_type: str) -> bool:
    if message.get_content_type() != "multipart/report":
        return False
    value = message.get_param("report-type")
    if isinstance(value, tuple):
        value = collapse_rfc2231_value(value)
    return isinstance(value, str) and value.strip().strip('"').lower() == report_type


def _looks_like_bounce(message: Message, subject: str) -> bool:
    """A delivery-status report, a daemon's message, or a subject bounces have."""
    if _is_report(message, "delivery-status"):
        return True
    local_part = parseaddr(header_text(message, "from"))[1].partition("@")[0].lower()
    lowered = subject.lower()
    return local_part in _DAEMONS or any(marker in lowered for marker in _BOUNCE_SUBJECTS)


def _is_auto_reply(message: Message, subject: str) -> bool:
    """A vacation message or another auto-reply (RFC 3834's Auto-Submitted, or what mailers write)."""
    if any(message.get(name) is not None for name in _AUTO_REPLY_HEADERS):
        return True
    if header_text(message, "auto-submitted").strip().lower().startswith("auto-replied"):
        return True
    lowered = subject.lower()
    return any(marker in lowered for marker in _AUTO_REPLY_SUBJECTS)


def _decoded(message: Message, name: str) -> str:
    """A header's text with its encoded words decoded; as it stands if they do not decode."""
    value = header_text(message, name)
    try:
        return str(make_header(decode_header(value)))
    except _MALFORMED:
        return value
