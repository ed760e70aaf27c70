"""Checks on every mail the system sends back to someone: no header that should not be there."""

from __future__ import annotations

__all__ = ["NOTICE_HEADERS", "check_replies"]

import email
import email.policy
from email.message import EmailMessage

from tests.smtp_server import SmtpServer

# What subscribers.notices puts at the top of each mail, each exactly once.
NOTICE_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "x-auto-response-suppress",
    "mime-version",
    "content-type",
}
_PART_HEADERS = {"content-type", "content-transfer-encoding", "mime-version"}


def check_replies(smtp: SmtpServer, *, seen: int) -> int:
    """Check the mails the server received after the first `seen`; return how many it has now."""
    with smtp.handler.lock:
        received = list(smtp.handler.messages)
    for mail in received[seen:]:
        message = email.message_from_bytes(mail.data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        names = [name.lower() for name in message]
        assert sorted(names) == sorted(NOTICE_HEADERS), f"headers {names} in a mail to {mail.rcpt_tos}"
        assert len(mail.rcpt_tos) == 1
        assert message["To"].addresses[0].addr_spec.lower() == mail.rcpt_tos[0].lower()
        for name in NOTICE_HEADERS:
            assert not {"\r", "\n"} & set(str(message[name])), f"{name}: {message[name]!r}"
        for part in message.walk():
            if part is not message:
                assert {name.lower() for name in part} <= _PART_HEADERS, list(part)
    return len(received)
