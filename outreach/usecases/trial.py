"""Test sends: chosen renditions of an issue, to a few addresses of staff's choosing, before the real send.

Nothing is written to the ledger; each message's subject says it is a test (【テスト】, "[TEST] "), so that
nobody takes it for the issue itself, and carries a Message-ID of its own, so that a second test of the same
issue is not dropped by a mail service that has seen the first. Sent from the console, a test is in the audit
log ("issue.test"): how many addresses, which renditions."""

from __future__ import annotations

__all__ = ["TEST_MARKS", "TrialSent", "checked_address", "send_trial", "send_trials"]

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from outreach.alerts.render import Entries
from outreach.composer import Composer, senders
from outreach.config import Settings
from outreach.db import Database
from outreach.errors import InvalidInput, NotFound
from outreach.i18n import LANGUAGES
from outreach.issues import get_issue
from outreach.lanes import Lane, lanes_for
from outreach.links import PersonalLinks
from outreach.mailer import SmtpReply
from outreach.members.models import OrganizationProfile
from outreach.models import Issue, Organization, utcnow
from outreach.outbox import Claimed
from outreach.render import Renderer, Rendition
from outreach.staff import audit

# What a test's subject starts with, per language.
TEST_MARKS = {"ja": "【テスト】", "en": "[TEST] "}


@dataclass(frozen=True)
class TrialSent:
    to: str
    organization: str
    language: str
    reply: SmtpReply


@dataclass(frozen=True)
class _Trial:
    address: str
    slug: str
    organization_id: int
    language: str


class _MarkedRenderer(Renderer):
    """Renders as the real send does, with the subject marked as a test."""

    def render(
        self,
        issue: Issue,
        organization: Organization,
        language: str,
        *,
        carried: Collection[str] = (),
        profile: OrganizationProfile | None = None,
        alerts: Entries | None = None,
    ) -> Rendition:
        rendition = super().render(
            issue, organization, language, carried=carried, profile=profile, alerts=alerts
        )
        return replace(rendition, subject=TEST_MARKS[language] + rendition.subject)


def checked_address(to: str) -> str:
    """The address normalized (domain in lower case), or InvalidInput saying why a test cannot go to it."""
    try:
        return validate_email(to, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"{to!r} is not an address a test can go to: {exc}") from None


def _checked(
    db: Database, number: int, to: Sequence[str], renditions: Sequence[tuple[str, str]]
) -> tuple[int, list[_Trial]]:
    """The issue's id and every (address, rendition) to send; InvalidInput or NotFound before any goes."""
    for _, language in renditions:
        if language not in LANGUAGES:
            raise InvalidInput(f"the language must be one of {', '.join(LANGUAGES)}; got {language!r}")
    addresses = list(dict.fromkeys(checked_address(address) for address in to))
    with db.session() as session:
        issue_id = get_issue(session, number).id
        ids = {row.slug: row.id for row in session.execute(select(Organization.slug, Organization.id))}
    trials = []
    for organization, language in dict.fromkeys(renditions):
        slug = organization.lower()
        if slug not in ids:
            raise NotFound(f"there is no organization {organization!r}: `outreach org list` shows them")
        trials += [_Trial(address, slug, ids[slug], language) for address in addresses]
    return issue_id, trials


async def send_trials(
    db: Database,
    settings: Settings,
    number: int,
    *,
    to: Sequence[str],
    renditions: Sequence[tuple[str, str]],
    links: PersonalLinks,
    lane: Lane | None = None,
    actor: str | None = None,
    ip: str | None = None,
) -> list[TrialSent]:
    """Send each rendition ((organization, language)) to each address over one connection, as a subscriber
    of the organization would get it, with sample links; return the relay's replies. Every address and
    rendition is checked before anything goes. With an `actor`, what was sent is in the audit log, also when
    the connection drops halfway (RelayUnavailable or ConnectionLost then reaches the caller)."""
    issue_id, trials = _checked(db, number, to, renditions)
    composer = Composer(db, settings, links=links, renderer=_MarkedRenderer(sender=senders(settings)))
    domain = settings.sender_address.rpartition("@")[2]
    mailer = (lane or lanes_for(settings)[0]).open_mailer()
    sent: list[TrialSent] = []
    await mailer.open()
    try:
        for trial in trials:
            row = Claimed(
                0, issue_id, 0, trial.organization_id, trial.language, trial.address, "", "", 0, utcnow(), ""
            )
            built = composer.build(
                row, eight_bit=mailer.eight_bit, message_id=f"<outreach.test.{secrets.token_hex(8)}@{domain}>"
            )
            label = f"test/issue-{number:04d}/{trial.slug}-{trial.language}-{trial.address}"
            reply = await mailer.send(
                sender=settings.sender_address, recipient=trial.address, message=built.message, label=label
            )
            sent.append(TrialSent(trial.address, trial.slug, trial.language, reply))
    finally:
        await mailer.close()
        if actor is not None and sent:
            _audit(db, number, sent, actor=actor, ip=ip)
    return sent


def _audit(db: Database, number: int, sent: Sequence[TrialSent], *, actor: str, ip: str | None) -> None:
    addresses = len({trial.to for trial in sent})
    renditions = ", ".join(dict.fromkeys(f"{trial.organization}:{trial.language}" for trial in sent))
    detail = f"{addresses} address{'es' if addresses != 1 else ''}; {renditions}"
    with db.session() as session:
        audit.record(
            session,
            actor=actor,
            action="issue.test",
            target=audit.issue_target(number),
            detail=detail,
            ip=ip,
            now=utcnow(),
        )


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
    sent = await send_trials(
        db, settings, number, to=[to], renditions=[(organization, language)], links=links, lane=lane
    )
    return sent[0]
