"""An organization's roster as CSV, UTF-8 with a BOM so that Excel opens it; the import reads it back."""

from __future__ import annotations

__all__ = ["HEADERS", "export_roster"]

import csv
from collections.abc import Collection
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from outreach.models import Organization, Subscriber, SubscriberStatus, Topic
from subscribers.roster import guard_formula

# The import reads the email, company, name and charset columns back; the charset is last, so that the
# columns that came before it keep their places.
HEADERS = {
    "ja": (
        "メールアドレス",
        "会社名",
        "氏名",
        "言語",
        "状態",
        "受け取る内容",
        "同意の経路",
        "確認日時",
        "文字コード",
    ),
    "en": (
        "email",
        "company",
        "name",
        "language",
        "status",
        "topics",
        "consent source",
        "confirmed at",
        "charset",
    ),
}
_LANGUAGES = {"ja": {"ja": "日本語", "en": "英語"}, "en": {"ja": "Japanese", "en": "English"}}
_STATUSES = {
    "ja": {"pending": "確認待ち", "active": "配信中", "unsubscribed": "配信停止", "bounced": "不達"},
    "en": {"pending": "pending", "active": "active", "unsubscribed": "unsubscribed", "bounced": "bounced"},
}
_TOPICS = {
    "ja": {"meetings": "会合結果", "tools": "安全対策ツール", "seminars": "セミナー", "": "すべて"},
    "en": {"meetings": "meetings", "tools": "tools", "seminars": "seminars", "": "all"},
}
_SOURCES = {
    "ja": {"web": "ウェブ", "email": "メール", "import": "団体の名簿", "staff": "事務局", "": ""},
    "en": {"web": "web", "email": "email", "import": "roster", "staff": "staff", "": ""},
}
_JST = ZoneInfo("Asia/Tokyo")


def _topics(subscriber: Subscriber, language: str) -> str:
    chosen = sorted(row.topic for row in subscriber.topics)
    if not chosen or set(chosen) == set(Topic):
        return _TOPICS[language][""]
    return "・".join(_TOPICS[language][topic.value] for topic in chosen)


def export_roster(
    session: Session,
    out: TextIO,
    *,
    organization: Organization | None,
    statuses: Collection[SubscriberStatus] = (SubscriberStatus.ACTIVE,),
    language: str = "ja",
) -> int:
    """Write the subscribers of `organization` (None: the network's own) to `out`; return how many.

    `out` should be opened with encoding "utf-8-sig" and newline="": the BOM and CRLF are what Excel expects.
    Rows are streamed, so memory stays flat whatever the roster's size.
    """
    owner = (
        Subscriber.organization_id.is_(None)
        if organization is None
        else (Subscriber.organization_id == organization.id)
    )
    query = (
        select(Subscriber)
        .where(owner, Subscriber.status.in_(list(statuses)))
        .order_by(Subscriber.email)
        .options(selectinload(Subscriber.topics))
        .execution_options(yield_per=500)
    )
    writer = csv.writer(out)
    writer.writerow(HEADERS[language])
    count = 0
    for subscriber in session.scalars(query):
        confirmed = subscriber.confirmed_at
        writer.writerow(
            [
                # guarded where Excel would run a formula; the import takes the guard off again
                guard_formula(subscriber.email),
                guard_formula(subscriber.company),
                guard_formula(subscriber.name),
                _LANGUAGES[language].get(subscriber.language, subscriber.language),
                _STATUSES[language][subscriber.status.value],
                _topics(subscriber, language),
                _SOURCES[language].get(subscriber.consent_source, subscriber.consent_source),
                confirmed.astimezone(_JST).strftime("%Y-%m-%d %H:%M JST") if confirmed else "",
                subscriber.charset or "",  # empty: no preference (their organization's, else the issue's)
            ]
        )
        count += 1
    return count
