"""The database tables, as typed SQLAlchemy 2 models; the schema changes only through alembic."""

from __future__ import annotations

__all__ = [
    "AttemptKind",
    "Base",
    "BounceClass",
    "ConsentEvent",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "Issue",
    "IssueItem",
    "IssueKind",
    "IssueStatus",
    "JobRun",
    "Meeting",
    "Organization",
    "Promotion",
    "SchedulerJob",
    "Subscriber",
    "SubscriberStatus",
    "SubscriberTopic",
    "Topic",
    "utcnow",
]

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, name=cls.__name__.lower(), native_enum=False, length=20, values_callable=_values)


def _values(cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in cls]


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"


class IssueStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    BOUNCED = "bounced"
    UNKNOWN = "unknown"  # in flight when its worker died: held for staff to decide (resend or drop)
    CANCELLED = "cancelled"


class IssueKind(enum.StrEnum):
    MAGAZINE = "magazine"  # the mail magazine (メールマガジン), numbered 第N号
    ALERT = "alert"  # a safety alert (海外安全情報), composed from the ministry's feed (outreach.alerts)


class Topic(enum.StrEnum):
    """What a subscriber wants to hear about; an issue goes to those who chose any of its topics."""

    MEETINGS = "meetings"
    TOOLS = "tools"
    SEMINARS = "seminars"
    ALERTS = "alerts"  # safety alerts for the countries they chose (outreach.alerts)


class Organization(Base):
    """A member of the network, or the network itself (slug "network"), with its rendition's details."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(500))
    greeting_ja: Mapped[str] = mapped_column(Text)
    greeting_en: Mapped[str] = mapped_column(Text)
    contact_ja: Mapped[str] = mapped_column(Text)
    contact_en: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    charset: Mapped[str | None] = mapped_column(String(20))  # its companies' preference; None = the issue's


class Meeting(Base):
    """A plenary (本会合) or secretariat meeting (幹事会) and its outcome."""

    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("kind", "number", name="uq_meetings_kind_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer)
    held_on: Mapped[date] = mapped_column(Date)
    format: Mapped[str | None] = mapped_column(String(20))
    opened_by_ja: Mapped[str] = mapped_column(Text, default="")
    opened_by_en: Mapped[str] = mapped_column(Text, default="")
    summary_ja: Mapped[str] = mapped_column(Text)
    summary_en: Mapped[str] = mapped_column(Text)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.number}"


class Promotion(Base):
    """A safety tool the network promotes, with the window in which issues carry it."""

    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title_ja: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    body_ja: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(500))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    yearly: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer)


class Issue(Base):
    """One issue (号) of the mail magazine."""

    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    issue_date: Mapped[date] = mapped_column(Date)
    subject_ja: Mapped[str] = mapped_column(String(300))
    subject_en: Mapped[str] = mapped_column(String(300))
    # The editorial lead, Markdown, above the sections; "" is none (English renditions show only lead_en).
    lead_ja: Mapped[str] = mapped_column(Text, default="", server_default="")
    lead_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[IssueStatus] = mapped_column(_enum(IssueStatus), default=IssueStatus.DRAFT)
    kind: Mapped[IssueKind] = mapped_column(
        _enum(IssueKind), default=IssueKind.MAGAZINE, server_default=IssueKind.MAGAZINE.value
    )
    charset: Mapped[str] = mapped_column(String(20), default="utf-8")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    send_started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    scheduled_at: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(Text)
    # 起案 → 決裁 as audit actors ("staff:a@example.jp", "cli:<user>", "scheduler"): usecases.approval
    composed_by: Mapped[str | None] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]

    items: Mapped[list[IssueItem]] = relationship(
        back_populates="issue", order_by="IssueItem.position", cascade="all, delete-orphan"
    )


class IssueItem(Base):
    """A section of an issue: a meeting outcome, a promotion or a safety alert, in order."""

    __tablename__ = "issue_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    promotion_id: Mapped[int | None] = mapped_column(ForeignKey("promotions.id"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("safety_alerts.id"))  # outreach.alerts.models

    issue: Mapped[Issue] = relationship(back_populates="items")
    meeting: Mapped[Meeting | None] = relationship()
    promotion: Mapped[Promotion | None] = relationship()


class Subscriber(Base):
    """A person at an SME who receives the mail magazine."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    company: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(2), default="ja")
    status: Mapped[SubscriberStatus] = mapped_column(
        _enum(SubscriberStatus), default=SubscriberStatus.PENDING
    )
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    consent_source: Mapped[str] = mapped_column(String(20), default="", server_default="")
    bounce_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    charset: Mapped[str | None] = mapped_column(String(20))  # their preference; None = their organization's

    organization: Mapped[Organization | None] = relationship()
    topics: Mapped[list[SubscriberTopic]] = relationship(cascade="all, delete-orphan")


class SubscriberTopic(Base):
    """One topic a subscriber chose; one with no rows here has not narrowed down and gets every issue."""

    __tablename__ = "subscriber_topics"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[Topic] = mapped_column(_enum(Topic), primary_key=True)


class ConsentEvent(Base):
    """The consent record: every change of a subscription, when, from where and through which channel."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    action: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """The ledger: one row per (issue, subscriber); its status is the recipient's final or current state."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id", name="uq_deliveries_issue_id_subscriber_id"),
        # Claims read queued rows of an issue in id order; leases look for stale claims.
        Index("ix_deliveries_claim", "issue_id", "status", "id"),
        Index("ix_deliveries_status_claimed_at", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    language: Mapped[str] = mapped_column(String(2))
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus), default=DeliveryStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300), index=True)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(40))  # the claim that holds the row now
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    subscriber: Mapped[Subscriber] = relationship()
    organization: Mapped[Organization | None] = relationship()
    attempts_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="delivery", order_by="DeliveryAttempt.id", cascade="all, delete-orphan"
    )


class AttemptKind(enum.StrEnum):
    """Where an attempt's word came from: the relay's reply, or a report that came back later."""

    RELAY = "relay"  # the relay's reply while handing the message over
    BOUNCE = "bounce"  # a bounce report (RFC 3464 DSN or the like) after the relay had taken the message
    COMPLAINT = "complaint"  # a feedback-loop report (RFC 5965 ARF): the reader marked it as spam


class BounceClass(enum.StrEnum):
    """What a bounce after delivery says about the address (outreach.feedback.classes decides)."""

    HARD = "hard"  # no such address, or disabled: the subscriber is bounced at once
    SOFT = "soft"  # e.g. mailbox full: the subscriber is bounced after N within a window
    POLICY = "policy"  # refused for policy, content or our sender: not the address's fault


class DeliveryAttempt(Base):
    """One try at handing a message to the relay, or a report about it that came back later."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus))
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[AttemptKind] = mapped_column(
        _enum(AttemptKind), default=AttemptKind.RELAY, server_default=AttemptKind.RELAY.value
    )
    bounce_class: Mapped[BounceClass | None] = mapped_column(_enum(BounceClass))
    status_code: Mapped[str | None] = mapped_column(String(16))  # RFC 3463, e.g. "5.1.1"

    delivery: Mapped[Delivery] = relationship(back_populates="attempts_log")


class JobRun(Base):
    """One run of a scheduler job: when it started and ended, and what came of it."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(191), index=True)
    job_name: Mapped[str] = mapped_column(String(200))
    scheduled_for: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    result: Mapped[str] = mapped_column(String(20), default="running")  # running, ok, skipped, missed, error
    detail: Mapped[str | None] = mapped_column(Text)


class SchedulerJob(Base):
    """APScheduler 3's job store table, created here so that only alembic changes the schema."""

    __tablename__ = "apscheduler_jobs"

    id: Mapped[str] = mapped_column(String(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)
