"""The alert latency: from a poll that finds a new entry to the last matching subscriber's message accepted.

A database with `count` subscribers doing business in Thailand (and a tenth as many elsewhere, who must get
nothing), a feed file with one raised risk level for Thailand, and `outreach alerts poll --feed FILE` with
OUTREACH_ALERTS=auto, run as staff run it. The ledger says when the entry was stored and when the relay
accepted each message; the command's wall time is measured around it.
"""

from __future__ import annotations

__all__ = ["alert_latency"]

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import func, insert, select

from outreach.alerts.models import SafetyAlert, SubscriberPlace
from outreach.alerts.places import find
from outreach.db import Database
from outreach.models import Delivery, DeliveryStatus, IssueItem, Subscriber, SubscriberStatus, utcnow
from outreach.seed import seed_network

_JST = timezone(timedelta(hours=9))


def _feed(path: Path, *, area: str, country: str) -> None:
    """One entry in the published shape: a raised risk level for the country, published a minute ago."""
    published = (datetime.now(_JST) - timedelta(minutes=1)).strftime("%Y/%m/%d %H:%M:%S")
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<opendata dataType="A" lastModified="{published}" mailCount="1" odType="01">\n'
        "<mail>\n"
        "  <keyCd>bench-0001</keyCd><infoType>T40</infoType><infoName>危険情報</infoName>\n"
        f"  <leaveDate>{published}</leaveDate>\n"
        f"  <area><cd>{area}</cd><name>アジア</name></area>\n"
        f'  <country areaCd="{area}"><cd>{country}</cd><name>タイ</name></country>\n'
        f"  <title>{escape('タイの危険情報【危険レベル引き上げ】')}</title>\n"
        "  <lead>南部の一部地域の危険レベルを引き上げました。</lead>\n"
        "  <infoUrl>https://www.anzen.mofa.go.jp/</infoUrl>\n"
        "  <koukanCd>0001</koukanCd><koukanName>在タイ日本国大使館</koukanName>\n"
        "  <riskLevel1>0</riskLevel1><riskLevel2>1</riskLevel2><riskLevel3>1</riskLevel3>"
        "<riskLevel4>0</riskLevel4>\n"
        "</mail>\n</opendata>\n",
        encoding="utf-8",
    )


def _prepare(db: Database, count: int) -> tuple[str, str]:
    db.upgrade()
    thailand, elsewhere = find("タイ"), find("ベトナム")
    if thailand is None or elsewhere is None:
        sys.exit("the country table has no タイ or ベトナム")
    now = utcnow()
    with db.session() as session:
        seed_network(session)
    total = count + count // 10
    for first in range(0, total, 20_000):
        indexes = range(first, min(first + 20_000, total))
        rows = [
            {
                "email": f"alert{index:07d}@bench.example.jp",
                "company": f"株式会社ベンチ{index % 997}",
                "language": "en" if index % 5 == 0 else "ja",
                "status": SubscriberStatus.ACTIVE,
                "consent_source": "import",
                "bounce_count": 0,
                "created_at": now,
                "updated_at": now,
            }
            for index in indexes
        ]
        with db.session() as session:
            ids = session.scalars(insert(Subscriber).returning(Subscriber.id), rows).all()
            places = [
                {
                    "subscriber_id": subscriber_id,
                    "area_code": (thailand if index < count else elsewhere).area_code,
                    "country_code": (thailand if index < count else elsewhere).country_code,
                }
                for subscriber_id, index in zip(ids, indexes, strict=True)
            ]
            session.execute(insert(SubscriberPlace), places)
    return thailand.area_code, thailand.country_code


def alert_latency(count: int, environment: dict[str, str], folder: Path) -> dict[str, Any]:
    """Run the poll as staff would and read the latency back from the ledger."""
    db = Database(environment["OUTREACH_DATABASE_URL"])
    area, country = _prepare(db, count)
    feed = folder / "newarrival-bench.xml"
    _feed(feed, area=area, country=country)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "outreach", "alerts", "poll", "--feed", str(feed)],
        env={**environment, "OUTREACH_ALERTS": "auto"},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"outreach alerts poll failed ({result.returncode}):\n{result.stderr[-4000:]}")
    with db.session() as session:
        alert = session.scalars(select(SafetyAlert).where(SafetyAlert.key == "bench-0001")).one()
        issue_id = session.scalar(select(IssueItem.issue_id).where(IssueItem.alert_id == alert.id))
        sent, last = session.execute(
            select(func.count(), func.max(Delivery.updated_at)).where(
                Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.SENT
            )
        ).one()
        received = alert.received_at
    last_at = last if last.tzinfo else last.replace(tzinfo=UTC)
    return {
        "matching": count,
        "others": count // 10,
        "sent": sent,
        "entry_to_last_accepted_s": (last_at - received).total_seconds(),
        "command_wall_s": wall,
    }
