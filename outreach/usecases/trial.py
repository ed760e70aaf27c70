"""A test send: one organization's rendition of an issue, to one address of staff's choosing, before the real
send. Nothing is written to the ledger; the message carries a Message-ID of its own, so a second test of the
same issue is not dropped by a mail service that has seen the first."""

from __future__ import annotations

__all__ = ["TrialSent", "send_trial"]

import secrets
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from outreach.composer import Composer
from outreach.config import Settings
from outreach.db import Database
from outreach.errors import InvalidInput, NotFound
from outreach.i18n import LANGUAGES
from outreach.issues import get_issue
from outreach.lanes import Lane, lanes_for
from outreach.links import PersonalLinks
from outreach.mailer import SmtpReply
from outreach.models import Organization, utcnow
from outreach.outbox import Claimed


@dataclass(frozen=True)
class TrialSent:
    to: str
    organization: str
    language: str
    reply: SmtpReply


def _address(to: str) -> str:
    try:
        return validate_email(to, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"{to!r} is not an address a test can go to: {exc}") from None


async def send_trial(
    db: Database,
    settings: Settings,
    number: int,
    *,
    to: str,
    organization: str,
    language: str,
    links: PersonalLinks,
    lane: Lane | None = None,
) -> TrialSent:
    """Send what a subscriber of `organization` would get, with sample links; return the relay's reply."""
    if language not in LANGUAGES:
        raise InvalidInput(f"the language must be one of {', '.join(LANGUAGES)}; got {language!r}")
    address = _address(to)
    with db.session() as session:
        issue_id = get_issue(session, number).id
        org_id = session.scalar(select(Organization.id).where(Organization.slug == organization.lower()))
    if org_id is None:
        raise NotFound(f"there is no organization {organization!r}: `outreach org list` shows them")
    now = utcnow()
    row = Claimed(0, issue_id, 0, org_id, language, address, "", "", 0, now, "")
    composer = Composer(db, settings, links=links)
    message_id = f"<outreach.test.{secrets.token_hex(8)}@{settings.sender_address.rpartition('@')[2]}>"
    mailer = (lane or lanes_for(settings)[0]).open_mailer()
    await mailer.open()
    try:
        built = composer.build(row, eight_bit=mailer.eight_bit, message_id=message_id)
        label = f"test/issue-{number:04d}/{organization}-{language}-{address}"
        reply = await mailer.send(
            sender=settings.sender_address, recipient=address, message=built.message, label=label
        )
    finally:
        await mailer.close()
    return TrialSent(address, organization.lower(), language, reply)
