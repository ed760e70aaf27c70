"""Delivers an issue: claims due ledger rows in batches, stamps each message, sends it, records the reply."""

from __future__ import annotations

__all__ = ["DeliveryOptions", "IssueSender", "SendRun", "outcome_for", "salutation"]

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from outreach.config import Settings
from outreach.db import Database
from outreach.errors import RelayUnavailable
from outreach.issues import get_issue
from outreach.links import PersonalLinks
from outreach.mailer import ConnectionLost, Mailer, SmtpReply
from outreach.message import MessageFactory, Personal
from outreach.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Organization,
    Subscriber,
    utcnow,
)
from outreach.outbox import OPEN_STATES, enqueue_issue, open_rows, status_counts
from outreach.render import Renderer, Sender

NETWORK_SLUG = "network"


def outcome_for(reply: SmtpReply) -> DeliveryStatus:
    """The one place that maps an SMTP reply to a delivery state: 2xx sent, 4xx retry later, else failed."""
    if 200 <= reply.code < 300:
        return DeliveryStatus.SENT
    if 400 <= reply.code < 500:
        return DeliveryStatus.DEFERRED
    return DeliveryStatus.FAILED


def salutation(language: str, *, company: str, name: str) -> str:
    if language == "ja":
        if name:
            return f"{company} {name}様".strip()
        return f"{company} ご担当者様".strip()
    if name:
        return f"Dear {name}" + (f" ({company})" if company else "")
    return f"Dear {company} team" if company else "Dear subscriber"


@dataclass(frozen=True)
class DeliveryOptions:
    batch_size: int = 100
    retry_after: timedelta = timedelta(minutes=15)


@dataclass
class SendRun:
    """What one run of a send did."""

    issue_number: int
    destination: str
    enqueued: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    already_sent: bool = False
    finished: bool = False
    totals: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Result:
    delivery_id: int
    status: DeliveryStatus
    code: int | None
    reply: str
    message_id: str | None
    at: datetime


class IssueSender:
    """Sends one issue to every due row of its ledger over one mailer."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        mailer: Mailer,
        links: PersonalLinks,
        renderer: Renderer | None = None,
        options: DeliveryOptions | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.mailer = mailer
        self.links = links
        self.renderer = renderer or Renderer(sender=senders(settings))
        self.options = options or DeliveryOptions()
        self.clock = clock
        self._factories: dict[tuple[int | None, str], tuple[MessageFactory, str]] = {}
        self._domain = settings.sender_address.rpartition("@")[2]

    async def send(self, issue_number: int) -> SendRun:
        run = SendRun(issue_number=issue_number, destination=self.mailer.describe())
        issue_id = self._prepare(issue_number, run)
        if not run.already_sent:
            await self.mailer.open()
            try:
                await self._drain(issue_id, run)
            finally:
                await self.mailer.close()
            self._finish(issue_id, run)
        with self.db.session() as session:
            run.totals = status_counts(session, issue_id)
        return run

    def _prepare(self, issue_number: int, run: SendRun) -> int:
        with self.db.session() as session:
            issue = get_issue(session, issue_number)
            if issue.status == IssueStatus.SENT:
                run.already_sent = True
                return issue.id
            if issue.status in (IssueStatus.DRAFT, IssueStatus.SCHEDULED):
                run.enqueued = enqueue_issue(session, issue)
                issue.status = IssueStatus.SENDING
                issue.send_started_at = self.clock()
            self._organizations = {org.id: org for org in session.scalars(select(Organization))}
            self._network = next(org for org in self._organizations.values() if org.slug == NETWORK_SLUG)
            self._issue = issue
            return issue.id

    async def _drain(self, issue_id: int, run: SendRun) -> None:
        while batch := self._claim(issue_id):
            results: list[_Result] = []
            try:
                for row in batch:
                    results.append(await self._deliver(row))
            finally:
                self._record(results, unsent=[row.id for row in batch[len(results) :]])
            run.outcomes.update(str(result.status) for result in results)

    def _claim(self, issue_id: int) -> Sequence[Row[Any]]:
        with self.db.session() as session:
            rows = session.execute(
                select(
                    Delivery.id,
                    Delivery.subscriber_id,
                    Delivery.organization_id,
                    Delivery.language,
                    Delivery.email,
                    Subscriber.name,
                    Subscriber.company,
                )
                .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                .where(open_rows(issue_id))
                .order_by(Delivery.id)
                .limit(self.options.batch_size)
            ).all()
            ids = [row.id for row in rows]
            if ids:
                session.execute(
                    update(Delivery).where(Delivery.id.in_(ids)).values(status=DeliveryStatus.SENDING)
                )
            return list(rows)  # type: ignore[arg-type]

    def _factory(self, organization_id: int | None, language: str) -> tuple[MessageFactory, str]:
        key = (organization_id, language)
        if key not in self._factories:
            organization = self._organizations.get(organization_id or -1, self._network)
            with self.db.session() as session:
                issue = session.merge(self._issue, load=False)
                rendition = self.renderer.render(get_issue(session, issue.number), organization, language)
            sender = self.renderer.sender[language]
            factory = MessageFactory(
                rendition,
                sender_name=sender.name,
                sender_address=sender.address,
                list_id=self.settings.list_id,
            )
            self._factories[key] = (factory, organization.slug)
        return self._factories[key]

    def _message(self, row: Row[Any]) -> tuple[bytes, str, str]:
        factory, slug = self._factory(row.organization_id, row.language)
        links = self.links.for_subscriber(row.subscriber_id, row.language)
        message_id = f"<outreach.{self._issue.number}.{row.id}@{self._domain}>"
        personal = Personal(
            email=row.email,
            display_name=row.name or row.company,
            message_id=message_id,
            salutation=salutation(row.language, company=row.company, name=row.name),
            unsubscribe_url=links.unsubscribe_url,
            unsubscribe_mailto=links.unsubscribe_mailto,
            preferences_url=links.preferences_url,
        )
        label = f"issue-{self._issue.number:04d}/{slug}/{row.id:08d}-{row.email}"
        return factory.build(personal, now=self.clock()), message_id, label

    async def _deliver(self, row: Row[Any]) -> _Result:
        message, message_id, label = self._message(row)
        reply = await self._send_with_reconnect(row.email, message, label)
        if reply is None:
            return _Result(
                row.id, DeliveryStatus.DEFERRED, None, "connection dropped twice", None, self.clock()
            )
        return _Result(row.id, outcome_for(reply), reply.code, reply.text, message_id, self.clock())

    async def _send_with_reconnect(self, recipient: str, message: bytes, label: str) -> SmtpReply | None:
        """Send; after a dropped connection reconnect and try once more. None: it dropped again."""
        sender = self.settings.sender_address
        for attempt in (1, 2):
            try:
                return await self.mailer.send(
                    sender=sender, recipient=recipient, message=message, label=label
                )
            except ConnectionLost:
                await self.mailer.close()
                await self.mailer.open()  # RelayUnavailable propagates: the rows go back to the queue
                if attempt == 2:
                    return None
        return None

    def _record(self, results: list[_Result], *, unsent: list[int]) -> None:
        """Write the outcomes and put back what was claimed but not tried, in one transaction."""
        with self.db.session() as session:
            for result in results:
                self._record_one(session, result)
            if unsent:
                session.execute(
                    update(Delivery).where(Delivery.id.in_(unsent)).values(status=DeliveryStatus.QUEUED)
                )

    def _record_one(self, session: Session, result: _Result) -> None:
        retry_at = result.at + self.options.retry_after if result.status == DeliveryStatus.DEFERRED else None
        session.execute(
            update(Delivery)
            .where(Delivery.id == result.delivery_id)
            .values(
                status=result.status,
                smtp_code=result.code,
                smtp_reply=result.reply,
                message_id=result.message_id,
                attempts=Delivery.attempts + 1,
                next_attempt_at=retry_at,
                updated_at=result.at,
            )
        )
        session.execute(
            insert(DeliveryAttempt).values(
                delivery_id=result.delivery_id,
                attempted_at=result.at,
                outcome=result.status,
                smtp_code=result.code,
                smtp_reply=result.reply,
            )
        )

    def _finish(self, issue_id: int, run: SendRun) -> None:
        with self.db.session() as session:
            left = session.scalar(
                select(Delivery.id)
                .where(Delivery.issue_id == issue_id, Delivery.status.in_(OPEN_STATES))
                .limit(1)
            )
            if left is None:
                issue = session.get_one(Issue, issue_id)
                issue.status = IssueStatus.SENT
                issue.sent_at = self.clock()
                run.finished = True


def senders(settings: Settings) -> dict[str, Sender]:
    return {
        "ja": Sender(settings.sender_name_ja, settings.sender_address, settings.postal_address_ja),
        "en": Sender(settings.sender_name_en, settings.sender_address, settings.postal_address_en),
    }


_ = RelayUnavailable  # re-raised from mailer.open(); named here for readers of _send_with_reconnect
