"""The composer: each claimed row's message, from renditions rendered once per (issue, organization,
language, charset) and the few personal parts stamped in per recipient (salutation, address, signed links),
signed with DKIM when it is set up. An issue that carries safety alerts' entries is rendered once more per
set of entries its readers' places match (outreach.alerts.audience): each reader sees the entries of theirs.

A reader's charset is their own preference, else their organization's, else the issue's: some companies' mail
systems still need ISO-2022-JP. Compose checks the issue against it (`outreach.issues.rendition_charsets`).
"""

from __future__ import annotations

__all__ = ["Built", "Composer", "salutation", "senders"]

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from outreach import digest, issues
from outreach.alerts.audience import entries_by_subscriber
from outreach.alerts.models import SafetyAlert
from outreach.alerts.render import alerts_of
from outreach.config import Settings
from outreach.db import Database
from outreach.dkim import DkimSigner
from outreach.errors import InvalidInput
from outreach.links import PersonalLinks
from outreach.members.models import OrganizationProfile
from outreach.message import MessageFactory, Personal
from outreach.models import Issue, IssueItem, IssueKind, Organization, utcnow
from outreach.network import NETWORK_SLUG
from outreach.outbox import Claimed
from outreach.render import Renderer, Rendition, Sender
from outreach.verp import Verp

log = logging.getLogger("outreach.worker")

# The List-Id's descriptive name (RFC 2919), in the rendition's language.
LIST_NAMES = {
    "ja": "中堅・中小企業海外安全対策ネットワーク メールマガジン",
    "en": "SME Overseas Safety Network Newsletter",
}


def salutation(language: str, *, company: str, name: str) -> str:
    if language == "ja":
        if name:
            return f"{company} {name}様".strip()
        return f"{company} ご担当者様".strip()
    if name:
        return f"Dear {name}" + (f" ({company})," if company else ",")
    return f"Dear {company} team," if company else "Dear subscriber,"


def senders(settings: Settings) -> dict[str, Sender]:
    return {
        "ja": Sender(settings.sender_name_ja, settings.sender_address, settings.postal_address_ja),
        "en": Sender(settings.sender_name_en, settings.sender_address, settings.postal_address_en),
    }


@dataclass(frozen=True)
class Built:
    """A message ready for the relay, its Message-ID, and a label naming it in the local outbox."""

    message: bytes
    message_id: str
    label: str
    envelope_sender: str  # MAIL FROM: the delivery's VERP address (a trial's: the sender's own)
    stuffed: bool = False  # no line starts with a dot: SMTP need not look for one (RFC 5321 4.5.2)


@dataclass(frozen=True)
class _Rendition:
    factory: MessageFactory
    slug: str
    number: int


class Composer:
    """Builds the messages of claimed rows; raises OutreachError when a rendition cannot be built."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        links: PersonalLinks,
        renderer: Renderer | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.links = links
        self.renderer = renderer or Renderer(sender=senders(settings))
        self.clock = clock
        self.dkim = DkimSigner.from_settings(settings)
        self._domain = settings.sender_address.rpartition("@")[2]
        self.verp = Verp(settings.secret_key, settings.verp_domain)
        self._renditions: dict[tuple[int, int | None, str, str, tuple[int, ...]], _Rendition] = {}
        self._organizations: dict[int, Organization] = {}
        self._profiles: dict[int, OrganizationProfile] = {}  # what each organization's editors set
        self._issues: dict[int, Issue] = {}
        self._carried: dict[int, frozenset[str]] = {}
        self._created: dict[int, str] = {}  # an issue's creation time, in its messages' Message-IDs
        self._entries: dict[int, dict[int, SafetyAlert]] = {}  # an issue's safety entries, by id
        self._matched: dict[int, dict[int, tuple[int, ...]]] = {}  # per issue: subscriber -> their entries

    def build(self, row: Claimed, *, eight_bit: bool, message_id: str | None = None) -> Built:
        rendition = self._rendition(row)
        links = self.links.for_subscriber(row.subscriber_id, row.language)
        # The same on a resend, so that a reader's mail client can drop the second copy (outreach.verp).
        message_id = message_id or self.verp.message_id(row.id, self._created[row.issue_id], self._domain)
        personal = Personal(
            email=row.email,
            display_name=row.name or row.company,
            message_id=message_id,
            salutation=salutation(row.language, company=row.company, name=row.name),
            unsubscribe_url=links.unsubscribe_url,
            unsubscribe_mailto=links.unsubscribe_mailto,
            preferences_url=links.preferences_url,
        )
        # A DKIM signature must survive a hop without 8BITMIME: with DKIM, every part is 7bit.
        eight_bit = eight_bit and self.dkim is None
        message, stuffed = rendition.factory.build_marked(personal, now=self.clock(), eight_bit=eight_bit)
        if self.dkim is not None:
            message, stuffed = self.dkim.sign(message), False
        label = f"issue-{rendition.number:04d}/{rendition.slug}/{row.id:08d}-{row.email}"
        envelope = self.verp.address(row.id) if row.id else self.settings.sender_address
        return Built(message, message_id, label, envelope, stuffed)

    def describe(self, row: Claimed) -> str:
        """Which rendition a row uses, for a message that says why it could not be built."""
        organization = self._organizations.get(row.organization_id or -1)
        slug = organization.slug if organization is not None else NETWORK_SLUG
        return f"the {slug} rendition ({row.language})"

    def forget(self, issue_id: int) -> None:
        """Drop an issue's renditions (its send is over): a long-running worker does not grow."""
        self._issues.pop(issue_id, None)
        self._carried.pop(issue_id, None)
        self._created.pop(issue_id, None)
        self._entries.pop(issue_id, None)
        self._matched.pop(issue_id, None)
        self._renditions = {key: value for key, value in self._renditions.items() if key[0] != issue_id}

    def _issue(self, issue_id: int) -> Issue:
        if issue_id not in self._issues:
            with self.db.session() as session:
                self._issues[issue_id] = session.scalars(
                    select(Issue)
                    .where(Issue.id == issue_id)
                    .options(selectinload(Issue.items).selectinload(IssueItem.meeting))
                    .options(selectinload(Issue.items).selectinload(IssueItem.promotion))
                ).one()
                # A shorter issue: what the previous sent issue carried goes in a compact list.
                self._carried[issue_id] = digest.carried_before(session, self._issues[issue_id])
                self._created[issue_id] = self._issues[issue_id].created_at.isoformat()
                self._load_entries(session, self._issues[issue_id])
                # Again for each issue: a worker that runs for days sees an organization's new charset
                # and profile (greeting, contact, footer), both in one query.
                joined = select(Organization, OrganizationProfile).outerjoin(OrganizationProfile)
                rows = session.execute(joined).all()
                self._organizations = {org.id: org for org, _ in rows}
                self._profiles = {org.id: profile for org, profile in rows if profile is not None}
        return self._issues[issue_id]

    def _load_entries(self, session: Session, issue: Issue) -> None:
        """The safety entries the issue carries, and which of them each of its readers' places match."""
        entries = alerts_of(session, issue)
        self._entries[issue.id] = {entry.id: entry for entry in entries}
        self._matched[issue.id] = entries_by_subscriber(session, issue) if entries else {}

    def _organization(self, organization_id: int | None) -> Organization:
        """The row's organization; the network's own for a subscriber of none."""
        if (found := self._organizations.get(organization_id or -1)) is not None:
            return found
        return next(org for org in self._organizations.values() if org.slug == NETWORK_SLUG)

    def _rendition(self, row: Claimed) -> _Rendition:
        issue = self._issue(row.issue_id)
        organization = self._organization(row.organization_id)
        charset = row.charset or organization.charset or issue.charset
        shown = self._shown(row)
        key = (row.issue_id, row.organization_id, row.language, charset, shown)
        if key not in self._renditions:
            sender = self.renderer.sender[row.language]
            factory = MessageFactory(
                self._render(issue, organization, row.language, charset, shown),
                sender_name=sender.name,
                sender_address=sender.address,
                list_id=self.settings.list_id,
                list_name=LIST_NAMES[row.language],
                # Mailbox providers' feedback loops count complaints per issue and rendition by it.
                feedback_id=f"issue{issue.number}:{organization.slug}:{row.language}:outreach",
            )
            self._renditions[key] = _Rendition(factory, organization.slug, issue.number)
        return self._renditions[key]

    def _shown(self, row: Claimed) -> tuple[int, ...]:
        """The safety entries the row's reader sees: those of their places. An alert's reader whose places
        changed after their row was claimed (the claim checked them) sees them all rather than none."""
        entries = self._entries.get(row.issue_id)
        if not entries:
            return ()
        matched = self._matched[row.issue_id].get(row.subscriber_id, ())
        alert = self._issues[row.issue_id].kind == IssueKind.ALERT
        return tuple(entries) if alert and not matched else matched

    def _render(
        self, issue: Issue, organization: Organization, language: str, charset: str, shown: tuple[int, ...]
    ) -> Rendition:
        """The rendition in the readers' charset; in the issue's own where that one cannot carry it (a
        preference set after compose checked the issue), as a name it cannot carry goes in UTF-8."""
        carried = self._carried[issue.id]
        profile = self._profiles.get(organization.id)
        # Only an issue with entries passes them: a renderer that knows none still renders the others.
        options: dict[str, Any] = {"carried": carried, "profile": profile}
        if self._entries.get(issue.id):
            options["alerts"] = [self._entries[issue.id][entry] for entry in shown]
        if charset != issue.charset:
            try:
                with issues.in_charset(issue, charset):
                    return self.renderer.render(issue, organization, language, **options)
            except InvalidInput as error:
                where = f"issue No. {issue.number} for {organization.slug} ({language})"
                log.warning(
                    "%s goes in %s to readers who prefer %s: %s", where, issue.charset, charset, error
                )
        return self.renderer.render(issue, organization, language, **options)
