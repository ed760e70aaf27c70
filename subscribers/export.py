"""An organization's roster as CSV, UTF-8 with a BOM so that Excel opens it; the import reads it back."""

from __future__ import annotations

__all__ = ["HEADERS", "export_roster"]

import csv
from collections.abc import Collection
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from outreach.alerts.places import format_places
from outreach.models import Organization, Subscriber, SubscriberStatus, Topic
from subscribers.places import places_by_subscriber
from subscribers.roster import guard_formula

# The import reads the email, company, name, charset and countries columns back; each new column comes last,
# so that the columns that came before it keep their places.
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
        "国・地域",
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
        "countries",
    ),
}
_LANGUAGES = {"ja": {"ja": "日本語", "en": "英語"}, "en": {"ja": "Japanese", "en": "English"}}
_STATUSES = {
    "ja": {"pending": "確認待ち", "active": "配信中", "unsubscribed": "配信停止", "bounced": "不達"},
    "en": {"pending": "pending", "active": "active", "unsubscribed": "unsubscribed", "bounced": "bounced"},
}
_TOPICS = {
    "ja": {
        "meetings": "会合結果",
        "tools": "安全対策ツール",
        "seminars": "セミナー",
        "alerts": "安全情報の速報",
        "": "すべて",
    },
    "en": {"meetings": "meetings", "tools": "tools", "seminars": "seminars", "alerts": "alerts", "": "all"},
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
    for batch in session.scalars(query).partitions():
        places = places_by_subscriber(session, [subscriber.id for subscriber in batch])
        for subscriber in batch:
            named = format_places(places.get(subscriber.id, []), language)
            writer.writerow(_row(subscriber, language, named))
            count += 1
    return count


def _row(subscriber: Subscriber, language: str, places: str) -> list[str]:
    confirmed = subscriber.confirmed_at
    return [
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
        places,  # names in the export's language, "; " between them: the import reads them back
    ]
