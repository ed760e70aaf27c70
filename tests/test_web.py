"""The subscriber web app over real HTTP: uvicorn on 127.0.0.1, httpx, a real SMTP server, real databases.

Each refused request (bad token, CSRF failure, rate limit, bad input) must leave every table as it was.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from outreach.config import Settings, SmtpRelay
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.models import ConsentEvent, IssueStatus, Subscriber, SubscriberStatus, Topic
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.settings import SubscriptionSettings
from subscribers.tokens import Tokens
from subscribers.web import create_app
from subscribers.web.guards import SecurityHeaders
from tests.conftest import snapshot
from tests.smtp_server import SmtpServer, free_port
from tests.web_server import WebServer

GENEROUS = SubscriptionSettings(
    ratelimit_per_ip="1000/minute", ratelimit_per_address="1000/minute", inbound_domain="example.jp"
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
URL = re.compile(r"https?://[^\s<>\"]+")


@dataclass
class Site:
    url: str
    settings: Settings
    db: Database
    smtp: SmtpServer

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [received.parsed() for received in self.smtp.handler.to(address)]

    def token(self, purpose: str, payload: Any) -> str:
        return Tokens(self.settings.secret_key).sign(purpose, payload)

    def status(self, email: str) -> SubscriberStatus | None:
        found = self.subscriber(email)
        return found.status if found else None

    def subscriber(self, email: str) -> Subscriber | None:
        with self.db.session() as session:
            return session.scalar(select(Subscriber).where(Subscriber.email == email))

    def events(self, email: str) -> list[tuple[str, str, str | None]]:
        with self.db.session() as session:
            rows = session.execute(
                select(ConsentEvent.action, ConsentEvent.source, ConsentEvent.ip)
                .where(ConsentEvent.email == email)
                .order_by(ConsentEvent.id)
            )
            return [(action, source, ip) for action, source, ip in rows]


@contextmanager
def served(
    db: Database, settings: Settings, smtp: SmtpServer, options: SubscriptionSettings = GENEROUS
) -> Iterator[Site]:
    with WebServer() as web:
        site_settings = replace(settings, smtp=SmtpRelay.from_url(smtp.url), base_url=web.url)
        web.serve(create_app(site_settings, options=options))
        yield Site(web.url, site_settings, db, smtp)


@pytest.fixture
def site(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Iterator[Site]:
    with served(seeded_db, settings, smtp_server) as running:
        yield running


def csrf_in(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def csrf_token(client: httpx.Client, path: str = "/") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_in(page.text)


SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


def assert_ours(response: httpx.Response, *, language: str = "ja") -> None:
    """A page of the site, in its layout and language, with every security header the app sets."""
    missing = [name for name in SECURITY_HEADERS if name not in response.headers]
    assert missing == [], (response.status_code, response.url, missing)
    assert response.headers["cache-control"] == "no-store"
    assert f'<html lang="{language}">' in response.text, (response.status_code, response.url)
    assert '<header class="masthead">' in response.text
    assert '<footer class="site-footer">' in response.text


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def subscribe(client: httpx.Client, email: str, *, path: str = "/", **fields: Any) -> httpx.Response:
    data: dict[str, Any] = {
        "csrf_token": csrf_token(client, path),
        "email": email,
        "company": "株式会社テスト精機",
        "name": "試験 太郎",
        "organization": "jetro",
        "language": "en" if path.startswith("/en") else "ja",
        "topic": ["meetings", "tools"],
    }
    data.update(fields)
    return client.post(path, data=data)


def link_in(message: EmailMessage, path_part: str) -> str:
    links = [str(url) for url in URL.findall(text_of(message)) if path_part in url]
    assert links, f"no {path_part} link in the mail"
    return links[0]


def past_token(site: Site, purpose: str, payload: Any, *, age: timedelta) -> str:
    """A token signed `age` ago with the site's key, as itsdangerous would have made it then."""

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age.total_seconds())

    serializer = URLSafeTimedSerializer(
        site.settings.secret_key.reveal(), salt=f"outreach.{purpose}", signer=PastSigner
    )
    return str(serializer.dumps(payload))


def active_subscriber(site: Site, email: str = "member@example.jp", *, language: str = "ja") -> int:
    with site.db.session() as session:
        added = add_subscriber(
            session,
            email,
            company="既存商事",
            language=language,
            organization=organization_or_none(session, "jcci"),
        )
        return added.id


def test_the_form_in_japanese_and_english_with_every_organization_and_topic(site: Site) -> None:
    with site.client() as client:
        page = client.get("/")
        english = client.get("/en/")

    assert page.status_code == 200
    assert english.status_code == 200
    assert '<html lang="ja">' in page.text
    assert "購読申し込み" in page.text
    assert '<html lang="en">' in english.text
    assert "Subscribe to the SME Overseas Safety Network Newsletter" in english.text
    assert page.text.count("<option value=") == 31  # 30 members and "none"
    assert "日本貿易振興機構" in page.text
    assert "Japan External Trade Organization" in english.text
    for topic in Topic:
        assert f'name="topic" value="{topic.value}"' in page.text
    # one script, a file of ours (the country picker's filter): no inline script, which the policy refuses
    assert page.text.count("<script") == 1
    assert '<script src="/assets/places-filter.js" defer></script>' in page.text
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"


def test_subscribing_sends_a_confirmation_and_confirming_activates(site: Site) -> None:
    with site.client() as client:
        response = subscribe(client, "new@example.jp")
        assert response.status_code == 303
        assert response.headers["location"] == "/check-your-mail"
        assert "確認メールをお送りしました" in client.get("/check-your-mail").text

        pending = site.subscriber("new@example.jp")
        assert pending is not None
        assert pending.status == SubscriberStatus.PENDING
        assert site.events("new@example.jp") == [("subscribe_requested", "web", "127.0.0.1")]
        [mail] = site.mails_to("new@example.jp")
        assert mail["Subject"] == "【要確認】海外安全メールマガジンの購読確認"
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail.get_body(("html",)) is not None
        link = link_in(mail, "/confirm/")
        assert link.startswith(f"{site.url}/confirm/")

        page = client.get(link)
        assert page.status_code == 200
        assert "株式会社テスト精機" in page.text
        assert "日本貿易振興機構" in page.text
        assert site.status("new@example.jp") == SubscriberStatus.PENDING  # a GET changes nothing

        confirmed = client.post(link, data={"csrf_token": csrf_in(page.text)})

    assert confirmed.status_code == 200
    assert "登録が完了しました" in confirmed.text
    active = site.subscriber("new@example.jp")
    assert active is not None
    assert active.status == SubscriberStatus.ACTIVE
    assert active.company == "株式会社テスト精機"
    assert active.language == "ja"
    assert active.consent_source == "web"
    assert active.confirmed_at is not None
    assert site.events("new@example.jp")[-1] == ("confirmed", "web", "127.0.0.1")
    assert "/preferences/" in confirmed.text


def test_subscribing_in_english_sends_an_english_mail_with_an_english_link(site: Site) -> None:
    with site.client() as client:
        response = subscribe(client, "en@example.com", path="/en/", organization="")
        assert response.headers["location"] == "/en/check-your-mail"
        assert "Please check your mail" in client.get("/en/check-your-mail").text

    [mail] = site.mails_to("en@example.com")
    assert mail["Subject"].startswith("[Action needed] Confirm your subscription")
    assert link_in(mail, "/confirm/").startswith(f"{site.url}/en/confirm/")
    pending = site.subscriber("en@example.com")
    assert pending is not None
    assert pending.organization_id is None


def test_an_address_that_is_subscribed_gets_a_mail_and_the_same_page(site: Site) -> None:
    active_subscriber(site)
    with site.client() as client:
        fresh = subscribe(client, "someone-new@example.jp")
        known = subscribe(client, "member@example.jp", company="別の会社", language="en")

    assert (known.status_code, known.headers["location"]) == (fresh.status_code, fresh.headers["location"])
    [mail] = site.mails_to("member@example.jp")
    assert mail["Subject"] == "海外安全メールマガジンのご登録について"
    with site.client() as client:
        preferences = client.get(link_in(mail, "/preferences/"))
    assert preferences.status_code == 200
    assert "member@example.jp" in preferences.text
    assert "/confirm/" not in text_of(mail)
    member = site.subscriber("member@example.jp")
    assert member is not None
    assert member.company == "既存商事"
    assert member.language == "ja"
    assert site.events("member@example.jp")[-1] == ("subscribe_requested", "web", "127.0.0.1")


def test_one_click_unsubscribe_is_a_post_with_the_exact_body_and_no_cookie(site: Site) -> None:
    subscriber_id = active_subscriber(site)
    token = site.token("subscriber", subscriber_id)
    body = b"List-Unsubscribe=One-Click"

    with httpx.Client(base_url=site.url, timeout=30) as provider:  # a mailbox provider: no cookie, no token
        response = provider.post(
            f"/unsubscribe/{token}",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        again = provider.post(
            f"/unsubscribe/{token}",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    assert response.status_code == 200
    assert "配信を停止しました" in response.text
    assert not response.request.headers.get("cookie")
    assert again.status_code == 200
    member = site.subscriber("member@example.jp")
    assert member is not None
    assert member.status == SubscriberStatus.UNSUBSCRIBED
    assert [event[0] for event in site.events("member@example.jp")] == ["added", "unsubscribed"]


def test_one_click_in_multipart_form_data_works_too(site: Site) -> None:
    token = site.token("subscriber", active_subscriber(site))
    with httpx.Client(base_url=site.url, timeout=30) as provider:
        response = provider.post(f"/en/unsubscribe/{token}", files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.text
    assert site.status("member@example.jp") == SubscriberStatus.UNSUBSCRIBED


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"", "application/x-www-form-urlencoded"),
        (b"List-Unsubscribe=Yes", "application/x-www-form-urlencoded"),
        (b"unsubscribe=One-Click", "application/x-www-form-urlencoded"),
        (b"List-Unsubscribe=One-Click", "text/plain"),
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
    ],
)
def test_a_post_without_the_one_click_body_is_refused_and_changes_nothing(
    site: Site, content: bytes, content_type: str
) -> None:
    token = site.token("subscriber", active_subscriber(site))
    before = snapshot(site.db)
    with site.client() as client:
        response = client.post(
            f"/unsubscribe/{token}", content=content, headers={"Content-Type": content_type}
        )
    assert response.status_code == 400
    assert "リクエストを処理できませんでした" in response.text
    assert snapshot(site.db) == before


def test_the_unsubscribe_page_asks_with_a_button_that_carries_a_csrf_token(site: Site) -> None:
    token = site.token("subscriber", active_subscriber(site))
    with site.client() as client:
        page = client.get(f"/unsubscribe/{token}")
        assert page.status_code == 200
        assert "member@example.jp" in page.text
        assert f'action="/unsubscribe/{token}/confirm"' in page.text
        assert site.status("member@example.jp") == SubscriberStatus.ACTIVE
        done = client.post(f"/unsubscribe/{token}/confirm", data={"csrf_token": csrf_in(page.text)})
        assert done.status_code == 200
        assert "停止済み" in client.get(f"/unsubscribe/{token}").text
    assert site.status("member@example.jp") == SubscriberStatus.UNSUBSCRIBED


def _tampered(token: str) -> str:
    payload, _, signature = token.rpartition(".")
    flipped = "A" if signature[0] != "A" else "B"
    return f"{payload}.{flipped}{signature[1:]}"


def _requests(token: str, confirm: str) -> list[tuple[str, str, dict[str, Any]]]:
    form = {"data": {"csrf_token": "x", "language": "ja"}}
    one_click = {
        "content": b"List-Unsubscribe=One-Click",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }
    return [
        ("GET", f"/unsubscribe/{token}", {}),
        ("POST", f"/unsubscribe/{token}", one_click),
        ("POST", f"/en/unsubscribe/{token}", one_click),
        ("POST", f"/unsubscribe/{token}/confirm", form),
        ("GET", f"/preferences/{token}", {}),
        ("POST", f"/preferences/{token}", form),
        ("GET", f"/confirm/{confirm}", {}),
        ("POST", f"/en/confirm/{confirm}", form),
    ]


@pytest.mark.parametrize(
    "kind",
    [
        "tampered",
        "expired",
        "other purpose",
        "garbage",
        "huge",
        "bad payload",
        "id beyond 64 bits",
        "id beyond PostgreSQL's INTEGER",
    ],
)
def test_bad_tampered_and_expired_tokens_get_a_400_page_and_change_nothing(site: Site, kind: str) -> None:
    subscriber_id = active_subscriber(site)
    details: dict[str, Any] = {"e": "x@example.jp", "c": "", "n": "", "o": None, "l": "ja", "t": []}
    subscriber, confirm = {
        "tampered": (
            _tampered(site.token("subscriber", subscriber_id)),
            _tampered(site.token("confirm", details)),
        ),
        "expired": (
            past_token(site, "subscriber", subscriber_id, age=timedelta(days=401)),
            past_token(site, "confirm", details, age=timedelta(days=8)),
        ),
        "other purpose": (site.token("confirm", subscriber_id), site.token("subscriber", details)),
        "garbage": ("not-a-token", "not.a.token"),
        "huge": ("A" * 5000, "B" * 5000),
        "bad payload": (site.token("subscriber", "1 OR 1=1"), site.token("confirm", {"e": 1})),
        # Signed by us, yet no row can have them: SQLite overflows past 2**63, PostgreSQL past 2**31 - 1.
        "id beyond 64 bits": (
            site.token("subscriber", 2**64),
            site.token("confirm", {**details, "c": 2**64}),
        ),
        "id beyond PostgreSQL's INTEGER": (
            site.token("subscriber", 2**31),
            site.token("confirm", {**details, "n": -(2**31) - 1}),
        ),
    }[kind]
    expected = "有効期限が切れています" if kind == "expired" else "このリンクは使えません"
    before = snapshot(site.db)
    with site.client() as client:
        for method, path, options in _requests(subscriber, confirm):
            response = client.request(method, path, **options)
            assert response.status_code == 400, (method, path, response.status_code)
            assert_ours(response, language="en" if path.startswith("/en/") else "ja")
            english = "expired" if kind == "expired" else "cannot be used"
            assert (expected if not path.startswith("/en/") else english) in response.text, (method, path)
    assert snapshot(site.db) == before


def test_a_token_for_a_subscriber_that_is_gone_is_a_bad_link(site: Site) -> None:
    token = site.token("subscriber", 999_999)
    with site.client() as client:
        assert client.get(f"/preferences/{token}").status_code == 400
        assert client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 400


def test_csrf_failures_get_a_403_page_and_change_nothing(site: Site) -> None:
    token = site.token("subscriber", active_subscriber(site))
    with site.client() as client:
        good = csrf_token(client)
        other = site.client()
        others_token = csrf_token(other)
        payload, _, signature = good.rpartition(".")
        before = snapshot(site.db)
        form = {"email": "x@example.jp", "language": "ja"}
        attempts = [
            client.post("/", data=form),  # no token
            client.post("/", data={**form, "csrf_token": ""}),
            client.post("/", data={**form, "csrf_token": others_token}),  # another browser's token
            client.post("/", data={**form, "csrf_token": f"{payload}.{signature[::-1]}"}),  # tampered
            client.post("/", data={**form, "csrf_token": good}, headers={"Cookie": ""}),
            client.post("/", content=b"email=x%40example.jp", headers={"Content-Type": "text/plain"}),
            client.post(f"/preferences/{token}", data={"language": "en"}),
            client.post(f"/unsubscribe/{token}/confirm", data={}),
            other.post("/", data={**form, "csrf_token": past_csrf(site, other)}),  # expired
        ]
        other.close()
    for response in attempts:
        assert response.status_code == 403, response.text
        assert "フォームの有効期限が切れたか" in response.text
    assert snapshot(site.db) == before
    assert site.mails_to("x@example.jp") == []


def past_csrf(site: Site, client: httpx.Client) -> str:
    key = next(value for name, value in client.cookies.items() if name.endswith("outreach_csrf"))
    return past_token(site, "csrf", key, age=timedelta(days=2))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "メールアドレスの形式が正しくありません"),
        ({"email": ""}, "メールアドレスを入力してください"),
        ({"email": "a@example.jp\r\nBcc: b@example.jp"}, "メールアドレスの形式が正しくありません"),
        ({"email": "a" * 250 + "@example.jp"}, "入力が長すぎます"),
        ({"company": "社" * 201}, "入力が長すぎます"),
        ({"name": "x" * 201}, "入力が長すぎます"),
        ({"organization": "nosuch"}, "選択肢から選んでください"),
        ({"language": "fr"}, "選択肢から選んでください"),
        ({"topic": ["meetings", "gossip"]}, "選択肢から選んでください"),
    ],
)
def test_bad_input_shows_the_form_again_with_a_400_and_changes_nothing(
    site: Site, fields: dict[str, Any], message: str
) -> None:
    before = snapshot(site.db)
    with site.client() as client:
        rest = {name: value for name, value in fields.items() if name != "email"}
        response = subscribe(client, fields.get("email", "good@example.jp"), **rest)
    assert response.status_code == 400
    assert message in response.text
    assert "入力内容をご確認ください" in response.text
    assert snapshot(site.db) == before
    assert site.smtp.handler.messages == []


def test_forms_no_page_could_send_are_refused_and_change_nothing(site: Site) -> None:
    before = snapshot(site.db)
    with site.client() as client:
        token = csrf_token(client)
        repeated = client.post(
            "/",
            content=f"csrf_token={token}&email=a@example.jp&email=b@example.jp&language=ja",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        upload = client.post("/", data={"csrf_token": token}, files={"email": ("a.txt", b"a@example.jp")})
        huge = client.post("/", data={"csrf_token": token, "email": "a@example.jp", "company": "x" * 20_000})
        fields = client.post("/", data={"csrf_token": token, **{f"f{i}": "x" for i in range(50)}})
    assert repeated.status_code == 400
    assert upload.status_code in (400, 403)
    assert huge.status_code == 413
    assert "大きすぎます" in huge.text
    assert fields.status_code == 400
    assert snapshot(site.db) == before


def test_rate_limits_per_ip_and_per_address_refuse_with_429_and_change_nothing(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    per_ip = replace(GENEROUS, ratelimit_per_ip="3/minute")
    with served(seeded_db, settings, smtp_server, per_ip) as site, site.client() as client:
        for number in range(3):
            assert subscribe(client, f"person{number}@example.jp").status_code == 303
        before = snapshot(site.db)
        refused = subscribe(client, "person3@example.jp")
        assert refused.status_code == 429
        assert "しばらく時間をおいてから" in refused.text
        assert snapshot(site.db) == before

    per_address = replace(GENEROUS, ratelimit_per_address="1/hour")
    with served(seeded_db, settings, smtp_server, per_address) as site, site.client() as client:
        assert subscribe(client, "target@example.jp").status_code == 303
        before = snapshot(site.db)
        assert subscribe(client, "TARGET@example.jp").status_code == 429  # the same address, other case
        assert snapshot(site.db) == before
        assert subscribe(client, "someone-else@example.jp").status_code == 303
    assert len(smtp_server.handler.to("target@example.jp")) == 1


def test_preferences_change_organization_language_and_topics(site: Site) -> None:
    subscriber_id = active_subscriber(site)
    token = site.token("subscriber", subscriber_id)
    with site.client() as client:
        page = client.get(f"/preferences/{token}")
        assert page.status_code == 200
        assert "member@example.jp" in page.text
        assert '<option value="jcci" selected>' in page.text
        saved = client.post(
            f"/preferences/{token}",
            data={
                "csrf_token": csrf_in(page.text),
                "organization": "jetro",
                "language": "en",
                "topic": ["tools"],
            },
        )
        assert saved.status_code == 303
        assert saved.headers["location"] == f"/en/preferences/{token}?saved=1"
        assert "Your preferences are saved." in client.get(saved.headers["location"]).text

    with site.db.session() as session:
        member = session.get_one(Subscriber, subscriber_id)
        assert member.language == "en"
        assert member.organization is not None
        assert member.organization.slug == "jetro"
        assert [row.topic for row in member.topics] == [Topic.TOOLS]
    assert site.events("member@example.jp")[-1][:2] == ("preferences_changed", "web")


def test_an_old_confirmation_link_does_not_bring_back_an_unsubscribed_address(site: Site) -> None:
    subscriber_id = active_subscriber(site)
    with site.client() as client:
        token = site.token("subscriber", subscriber_id)
        client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        payload: dict[str, Any] = {"e": "member@example.jp", "c": "", "n": "", "o": None, "l": "ja", "t": []}
        old_link = f"/confirm/{past_token(site, 'confirm', payload, age=timedelta(hours=1))}"
        page = client.get(old_link)  # the page shows; confirming is refused
        before = snapshot(site.db)
        refused = client.post(old_link, data={"csrf_token": csrf_in(page.text)})
        assert refused.status_code == 400
        assert "配信停止より前に送られた" in refused.text
        assert snapshot(site.db) == before

        subscribe(client, "member@example.jp")  # asking again: a new link
        [mail] = site.mails_to("member@example.jp")
        link = link_in(mail, "/confirm/")
        assert site.status("member@example.jp") == SubscriberStatus.UNSUBSCRIBED  # not before
        confirmed = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert confirmed.status_code == 200
    assert site.status("member@example.jp") == SubscriberStatus.ACTIVE


def test_when_the_relay_is_down_the_page_says_so_with_a_503(seeded_db: Database, settings: Settings) -> None:
    down = replace(settings, smtp=SmtpRelay.from_url(f"smtp://127.0.0.1:{free_port()}"))
    with WebServer() as web:
        web.serve(create_app(replace(down, base_url=web.url), options=GENEROUS))
        with httpx.Client(base_url=web.url, timeout=30) as client:
            response = subscribe(client, "later@example.jp")
    assert response.status_code == 503
    assert "ただいまメールを送信できません" in response.text
    assert response.headers["retry-after"] == "300"


def test_the_archive_lists_sent_issues_newest_first_in_the_networks_rendition(site: Site) -> None:
    with site.db.session() as session:
        for number in (8, 7):
            issue = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", number))])
            issue.status = IssueStatus.SENT
        compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 6))])  # a draft
    with site.client() as client:
        index = client.get("/archive")
        english = client.get("/en/archive")
        first = client.get("/archive/1")
        first_en = client.get("/en/archive/1")
        draft = client.get("/archive/3")
        missing = client.get("/archive/99")

    assert index.status_code == 200
    assert index.text.index("/archive/2") < index.text.index("/archive/1")
    assert "/archive/3" not in index.text
    assert "第8回本会合" in index.text
    assert "Plenary" in english.text
    assert " | " in english.text
    assert "・" not in english.text.replace("中堅・中小企業", "")
    assert first.status_code == 200
    assert (
        "中堅・中小企業海外安全対策ネットワーク事務局（外務省領事局）より" in first.text
    )  # the network's greeting
    assert "第8回本会合" in first.text
    assert "Plenary 8" in first_en.text
    assert draft.status_code == 404
    assert missing.status_code == 404
    assert "ページが見つかりません" in missing.text


def test_an_archived_issue_is_a_page_of_the_site_with_a_way_back_and_no_mail_wording(site: Site) -> None:
    _sent_issue(site)
    with site.client() as client:
        client.get("/")  # the first visit sets the CSRF cookie; the archive pages set none
        pages = {"ja": client.get("/archive/1"), "en": client.get("/en/archive/1")}
    for language, page in pages.items():
        prefix = "" if language == "ja" else "/en"
        assert page.status_code == 200
        assert f'<html lang="{language}">' in page.text
        assert '<header class="masthead">' in page.text
        assert '<footer class="site-footer">' in page.text
        assert f'href="{prefix}/archive"' in page.text
        assert ("バックナンバーの一覧に戻る" if language == "ja" else "Back to all issues") in page.text
        assert page.text.count("<h1>") == 1
        assert page.headers["cache-control"] == "public, max-age=300"
        assert "set-cookie" not in page.headers
        for mail_wording in (
            "このメールは",
            "This email was sent to",
            "配信設定の変更",
            "@@OUTREACH",
            "読者の皆様",
        ):
            assert mail_wording not in page.text, mail_wording
        assert "<script" not in page.text


def test_the_privacy_notice_in_both_languages_is_linked_from_the_form_that_marks_required_fields(
    site: Site,
) -> None:
    with site.client() as client:
        pages = {
            language: client.get(f"{prefix}/privacy") for language, prefix in (("ja", ""), ("en", "/en"))
        }
        forms = {language: client.get(f"{prefix}/") for language, prefix in (("ja", ""), ("en", "/en"))}
    words = {
        "ja": ("個人情報の取扱い", "利用目的", "お預かりする情報", "保存期間", "配信の停止", "お問い合わせ"),
        "en": (
            "Privacy notice",
            "Purpose of use",
            "What we keep",
            "How long we keep it",
            "How to leave",
            "Contact",
        ),
    }
    for language, page in pages.items():
        prefix = "" if language == "ja" else "/en"
        assert page.status_code == 200
        assert_ours(page, language=language)
        for heading in words[language]:
            assert heading in page.text, heading
        assert "mailmag@example.jp" in page.text  # whom to ask
        assert f'href="{prefix}/unsubscribe"' in page.text  # how to leave
        form = forms[language].text
        assert f'<a href="{prefix}/privacy">{words[language][0]}</a>' in form
        required = "必須" if language == "ja" else "required"
        label = "メールアドレス" if language == "ja" else "Email address"
        assert f'<label for="email">{label} <span class="required">{required}</span></label>' in form
        assert form.count('class="required"') == 1  # the address alone; the others say they are optional


def test_unknown_pages_and_methods_get_our_error_pages(site: Site) -> None:
    with site.client() as client:
        missing = client.get("/no/such/page")
        missing_en = client.get("/en/no-such-page")
        method = client.put("/")
        redirect = client.get("/en")
    assert missing.status_code == 404
    assert "ページが見つかりません" in missing.text
    assert missing_en.status_code == 404
    assert "Page not found" in missing_en.text
    assert method.status_code == 405
    assert "<html" in method.text
    assert redirect.status_code == 308
    assert redirect.headers["location"] == "/en/"


def _sent_issue(site: Site) -> None:
    with site.db.session() as session:
        issue = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
        issue.status = IssueStatus.SENT


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _hostile_requests(token: str, csrf: str) -> list[tuple[str, str, dict[str, Any], int]]:
    """What no page of ours sends: each path parameter, query and body out of shape; and the answer due."""
    return [
        ("GET", "/archive/9223372036854775808", {}, 404),  # past 64 bits: SQLite overflowed
        ("GET", "/archive/2147483648", {}, 404),  # past PostgreSQL's INTEGER
        ("GET", "/archive/" + "9" * 5000, {}, 404),  # past the digits int() reads
        ("GET", "/en/archive/99999999999", {}, 404),
        ("GET", "/archive/%D9%A1", {}, 404),  # an Arabic-Indic one: int() reads it as 1
        ("GET", "/archive/1_0", {}, 404),  # int() reads 10
        ("GET", "/archive/-1", {}, 404),
        ("GET", "/archive/0", {}, 404),
        ("GET", "/archive/%ff%fe", {}, 404),
        ("GET", "/preferences/%ff%fe", {}, 400),
        ("GET", "/confirm/%00", {}, 400),
        ("GET", "/unsubscribe/" + "%e3%81%82" * 700, {}, 400),
        ("GET", "/?" + "a=%ff&" * 2000, {}, 200),
        ("GET", f"/preferences/{token}?saved=%ff%00", {}, 200),
        ("PUT", "/", {}, 405),
        ("DELETE", f"/unsubscribe/{token}", {}, 405),
        ("GET", f"/unsubscribe/{token}/confirm", {}, 405),
        ("POST", "/archive", {}, 405),
        ("POST", "/", {"data": {"csrf_token": csrf}}, 400),  # every field missing
        ("POST", f"/preferences/{token}", {"data": {"csrf_token": csrf}}, 400),
        ("POST", "/", {"content": b"--x", "headers": {"Content-Type": "multipart/form-data"}}, 400),
        ("POST", "/", {"content": f"csrf_token={csrf}{'&a=1' * 3000}".encode(), "headers": FORM}, 400),
        ("POST", "/", {"content": b"x" * 17_000, "headers": {"Content-Type": "text/plain"}}, 413),
        ("POST", "/", {"content": iter([b"x" * 9000] * 2), "headers": FORM}, 413),  # chunked, no length
    ]


def test_no_input_reaches_a_500_every_answer_is_our_page_with_the_headers(site: Site) -> None:
    _sent_issue(site)
    token = site.token("subscriber", active_subscriber(site))
    with site.client() as client:
        csrf = csrf_token(client)
        before = snapshot(site.db)
        for method, path, options, status in _hostile_requests(token, csrf):
            response = client.request(method, path, **options)
            assert response.status_code == status, (method, path[:60], response.status_code)
            assert_ours(response, language="en" if path.startswith("/en/") else "ja")
        assert client.get("/archive/1").status_code == 200  # the issue the odd numbers did not reach
    assert snapshot(site.db) == before


def test_error_pages_are_ours_in_both_languages_with_the_headers(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    once = replace(GENEROUS, ratelimit_per_ip="1/minute")
    with served(seeded_db, settings, smtp_server, once) as site, site.client() as client:
        assert subscribe(client, "first@example.jp").status_code == 303  # the one the limit lets through
        for prefix, language in (("", "ja"), ("/en", "en")):
            pages = {
                400: client.get(f"{prefix}/preferences/not-a-token"),
                403: client.post(f"{prefix}/", data={"email": "a@example.jp"}),
                404: client.get(f"{prefix}/no/such/page"),
                405: client.get(f"{prefix}/unsubscribe/some-token/confirm"),
                413: client.post(f"{prefix}/", content=b"x" * 17_000),
                429: subscribe(client, "second@example.jp", path=f"{prefix}/"),
            }
            assert {status: response.status_code for status, response in pages.items()} == {
                status: status for status in pages
            }
            for response in pages.values():
                assert_ours(response, language=language)
            assert "POST" in pages[405].headers["allow"]
            method = "この方法では開けません" if language == "ja" else "This page cannot be opened this way"
            assert method in pages[405].text


@contextmanager
def table_away(db: Database, table: str) -> Iterator[None]:
    """A real fault: the table is renamed behind the app's back, and put back after."""
    with db.engine.begin() as connection:
        connection.execute(text(f'ALTER TABLE "{table}" RENAME TO "{table}_away"'))
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            connection.execute(text(f'ALTER TABLE "{table}_away" RENAME TO "{table}"'))


def test_an_unexpected_error_gets_our_500_page_with_the_headers_and_the_site_goes_on(site: Site) -> None:
    with table_away(site.db, "issues"):
        # A client each: after a 500 the server closes the connection (the error goes on to its log).
        with site.client() as client:
            japanese = client.get("/archive")
        with site.client() as client:
            english = client.get("/en/archive")
    assert (japanese.status_code, english.status_code) == (500, 500)
    assert_ours(japanese)
    assert_ours(english, language="en")
    assert "システムエラー" in japanese.text
    assert "Something went wrong on our side" in english.text
    assert "Traceback" not in japanese.text
    assert "no such table" not in japanese.text  # nor anything of the cause
    assert "UndefinedTable" not in japanese.text
    with site.client() as client:
        assert client.get("/archive").status_code == 200


def test_when_even_the_error_page_fails_the_answer_is_a_500_with_the_headers() -> None:
    async def fails(request: Request) -> Response:
        raise RuntimeError("a fault")

    async def error_page_fails(request: Request, exc: Exception) -> Response:
        raise RuntimeError("the error page failed too")

    app = Starlette(routes=[Route("/", fails)], exception_handlers={Exception: error_page_fails})
    with WebServer() as web:
        web.serve(SecurityHeaders(app))
        response = httpx.get(f"{web.url}/", timeout=30)
    assert response.status_code == 500
    assert [name for name in SECURITY_HEADERS if name not in response.headers] == []
    assert "Something went wrong on our side" in response.text
    assert "fail" not in response.text


def test_outreach_serve_runs_the_app_with_uvicorn(env: dict[str, str], seeded_db: Database) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "outreach", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # uvicorn says when it listens; the read blocks until it does
            if "Uvicorn running on" in line or process.poll() is not None:
                break
        response = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert response.status_code == 200
        assert "購読申し込み" in response.text
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    # uvicorn shuts down cleanly, then exits through the signal it caught
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "Application shutdown complete" in stderr
    assert f"serving http://127.0.0.1:{port}" in stdout
    assert env["OUTREACH_SECRET_KEY"] not in stdout + stderr


def test_outreach_serve_refuses_an_unmigrated_database(env: dict[str, str], tmp_path: Any) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "outreach", "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "OUTREACH_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 3
    assert "outreach db upgrade" in result.stderr
