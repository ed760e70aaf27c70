"""The archive's Atom feed (/archive.atom, /en/archive.atom) from the real app over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from lxml import etree

from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.models import IssueStatus
from subscribers.settings import SubscriptionSettings
from subscribers.web import create_app
from tests.web_server import WebServer

ATOM = "{http://www.w3.org/2005/Atom}"
OPTIONS = SubscriptionSettings(
    ratelimit_per_ip="1000/minute", ratelimit_per_address="1000/minute", inbound_domain="example.jp"
)
BASE_URL = "https://mailmag.example.jp"


@pytest.fixture
def client(seeded_db: Database, settings: Settings) -> Iterator[httpx.Client]:
    with WebServer() as web:
        web.serve(create_app(replace(settings, base_url=BASE_URL), options=OPTIONS))
        with httpx.Client(base_url=web.url, timeout=30) as http:
            yield http


def _send(db: Database, *plenaries: int) -> None:
    with db.session() as session:
        for number in plenaries:
            issue = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", number))])
            issue.status = IssueStatus.SENT
            issue.sent_at = datetime(2024, 2, number, 1, 0, tzinfo=UTC)
        compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 1))])  # a draft


def _feed(client: httpx.Client, path: str) -> etree._Element:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=300"
    return etree.fromstring(response.content)


def test_the_feed_lists_sent_issues_newest_first_with_links_to_their_pages(
    seeded_db: Database, client: httpx.Client
) -> None:
    _send(seeded_db, 7, 8)
    for path, prefix, language, title in (
        ("/archive.atom", "", "ja", "第8回本会合"),
        ("/en/archive.atom", "/en", "en", "Plenary 8"),
    ):
        feed = _feed(client, path)
        assert feed.tag == f"{ATOM}feed"
        assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == language
        assert feed.findtext(f"{ATOM}id") == f"{BASE_URL}{prefix}/archive"
        self_link = feed.find(f"{ATOM}link[@rel='self']")
        assert self_link is not None
        assert self_link.get("href") == f"{BASE_URL}{prefix}/archive.atom"
        entries = feed.findall(f"{ATOM}entry")
        assert [entry.findtext(f"{ATOM}id") for entry in entries] == [
            f"{BASE_URL}{prefix}/archive/2",
            f"{BASE_URL}{prefix}/archive/1",
        ]
        newest = entries[0]
        assert title in (newest.findtext(f"{ATOM}title") or "")
        link = newest.find(f"{ATOM}link")
        assert link is not None
        assert link.get("href") == f"{BASE_URL}{prefix}/archive/2"
        assert (newest.findtext(f"{ATOM}updated") or "").startswith("2024-02-08T01:00:00")
        assert feed.findtext(f"{ATOM}updated") == newest.findtext(f"{ATOM}updated")
        assert title in (newest.findtext(f"{ATOM}summary") or "")  # the issue's first line
        page = client.get(f"{prefix}/archive/2")  # each entry's page is there
        assert page.status_code == 200


def test_a_feed_with_no_sent_issue_is_still_a_valid_feed(client: httpx.Client) -> None:
    feed = _feed(client, "/archive.atom")
    assert feed.findall(f"{ATOM}entry") == []
    assert (
        feed.findtext(f"{ATOM}title")
        == "中堅・中小企業海外安全対策ネットワーク メールマガジン ・ バックナンバー"
    )
    assert _feed(client, "/en/archive.atom").findtext(f"{ATOM}title") == (
        "SME Overseas Safety Network Newsletter | Back issues"
    )


def test_the_archive_page_links_its_feed(seeded_db: Database, client: httpx.Client) -> None:
    for prefix in ("", "/en"):
        assert f'href="{prefix}/archive.atom"' in client.get(f"{prefix}/archive").text


@pytest.mark.parametrize("page", ["/", "/archive", "/unsubscribe", "/privacy"])
def test_every_page_announces_the_feed_and_links_the_privacy_notice(client: httpx.Client, page: str) -> None:
    for prefix in ("", "/en"):
        html = client.get(f"{prefix}{page}").text
        assert f'<link rel="alternate" type="application/atom+xml" href="{prefix}/archive.atom"' in html
        assert f'href="{prefix}/privacy"' in html
