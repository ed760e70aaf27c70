"""Fuzz the public web app over real HTTP: every form and token endpoint, with hostile fields and paths.

Each answer must be a page of ours (status below 500, no traceback, every security header, no header that
is not ours); only a POST answered 200 or 303 may have changed the database, and any mail sent carries
only the headers of our notices.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from outreach.config import Settings, SmtpRelay
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.models import IssueStatus, Topic
from subscribers.addresses import InvalidAddress, normalize_address
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.links import CONFIRM_TOKEN, SUBSCRIBER_TOKEN
from subscribers.roster import clean_text
from subscribers.settings import SubscriptionSettings
from subscribers.tokens import Tokens
from subscribers.web import create_app
from subscribers.web.forms import LIMITS
from tests.conftest import snapshot
from tests.fuzz.inputs import huge_numbers, nasty_text, raw_bytes, weighted
from tests.fuzz.replies import check_replies
from tests.smtp_server import SmtpServer
from tests.web_server import WebServer

# No rate limit should refuse a fuzz run of 10,000 requests: the limits have tests of their own.
OPTIONS = SubscriptionSettings(
    ratelimit_per_ip="1000000/minute", ratelimit_per_address="1000000/minute", inbound_domain="example.jp"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
# Every header a page of ours may carry; uvicorn adds date and server.
OUR_HEADERS = {
    *SECURITY_HEADERS,
    "content-security-policy",
    "cache-control",
    "content-type",
    "content-length",
    "set-cookie",
    "location",
    "retry-after",
    "allow",  # a 405 names the methods the page takes
    "connection",
    "date",
    "server",
}
# The answers to a form that did something; any other answer must leave every table as it was.
WRITES = {200, 303}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NETWORK = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass
class Site:
    db: Database
    smtp: SmtpServer
    client: httpx.Client
    tokens: Tokens
    csrf: str
    subscriber_token: str
    mails_seen: int = 0

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """Send one request and check what every answer must be; a refusal must have changed nothing."""
        before = snapshot(self.db)
        # An absolute URL: httpx takes a relative one that starts with // for a host.
        response = self.client.request(method, f"{self.client.base_url}".rstrip("/") + path, **options)
        event(f"{method} {response.status_code}")
        assert response.status_code < 500, f"{method} {path}: {response.status_code}"
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, f"{method} {path}: {name}"
        policy = response.headers.get("content-security-policy", "")
        assert policy.startswith("default-src 'none'"), policy
        scripts = [part.strip() for part in policy.split(";") if part.strip().startswith("script-src")]
        assert scripts == ["script-src 'self'"]  # our own files (the country picker's filter), never inline
        assert "cache-control" in response.headers
        assert {name.lower() for name in response.headers} <= OUR_HEADERS, response.headers
        assert "Traceback" not in response.text
        if not (method == "POST" and response.status_code in WRITES):
            assert snapshot(self.db) == before, (
                f"{method} {path}: {response.status_code} changed the database"
            )
        self.mails_seen = check_replies(self.smtp, seen=self.mails_seen)
        return response


@pytest.fixture
def site(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Iterator[Site]:
    with seeded_db.session() as session:
        for number in (8, 7):  # issue No. 1 sent, No. 2 a draft: the archive has rows either way
            issue = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", number))])
            issue.status = IssueStatus.SENT if number == 8 else IssueStatus.DRAFT
        member = add_subscriber(
            session,
            "member@example.jp",
            company="既存商事",
            organization=organization_or_none(session, "jcci"),
        )
        member_id = member.id
    with WebServer() as web, httpx.Client(base_url=web.url, timeout=30) as client:
        served = replace(settings, smtp=SmtpRelay.from_url(smtp_server.url), base_url=web.url)
        web.serve(create_app(served, options=OPTIONS))
        page = client.get("/")
        csrf = CSRF.search(page.text)
        assert csrf is not None
        tokens = Tokens(served.secret_key)
        yield Site(
            seeded_db, smtp_server, client, tokens, csrf.group(1), tokens.sign(SUBSCRIBER_TOKEN, member_id)
        )


def segment(text: str) -> str:
    """Text as one path segment: the app sees it decoded, whatever it holds."""
    return quote(text, safe="")


prefixes = st.sampled_from(["", "/en"])
queries = st.one_of(
    st.just(""),
    st.lists(st.tuples(nasty_text(max_size=40), nasty_text(max_size=40)), max_size=3).map(
        lambda pairs: "?" + urlencode(pairs)
    ),
    raw_bytes(max_size=80).map(lambda raw: "?" + quote_from_bytes(raw, safe="=&")),
)
topics = [topic.value for topic in Topic]


@st.composite
def fields(
    draw: st.DrawFn, valid: dict[str, st.SearchStrategy[str]], *, csrf: str | None = None
) -> list[tuple[str, str]]:
    """A form's fields, each kept (more often than not), changed to anything, left out or repeated; then
    maybe a few strangers. Most forms stay close enough to a real one to get past the first check."""
    pairs: list[tuple[str, str]] = []
    if csrf is not None:
        how = draw(st.sampled_from(["ours"] * 6 + ["fuzz", "omit", "twice"]))
        if how == "fuzz":
            pairs.append(("csrf_token", draw(nasty_text(max_size=80))))
        elif how != "omit":
            pairs.extend([("csrf_token", csrf)] * (2 if how == "twice" else 1))
    for name, good in valid.items():
        how = draw(st.sampled_from(["keep", "keep", "keep", "fuzz", "omit", "twice"]))
        if how == "keep":
            pairs.append((name, draw(good)))
        elif how == "fuzz":
            pairs.append((name, draw(nasty_text())))
        elif how == "twice":
            pairs.extend([(name, draw(good)), (name, draw(st.one_of(good, nasty_text())))])
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        pairs.extend(draw(st.lists(st.tuples(nasty_text(max_size=30), nasty_text()), max_size=3)))
    return draw(st.permutations(pairs))


def preference_fields() -> dict[str, st.SearchStrategy[str]]:
    return {
        "organization": st.sampled_from(["", "jetro", "jcci", "network"]),
        "language": st.sampled_from(["ja", "en"]),
        "topic": st.sampled_from(topics),
    }


def body(pairs: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs).encode("ascii")


# Signed tokens with payloads of every shape: links from another version, or our own code's mistakes.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty_text(max_size=3), inner, max_size=4),
    max_leaves=8,
)
wild_details = st.fixed_dictionaries(
    {
        "e": st.one_of(st.emails(), nasty_text(max_size=60), json_values),
        "c": st.one_of(nasty_text(), json_values),
        "n": st.one_of(nasty_text(), json_values),
        "o": st.one_of(st.sampled_from([None, "jetro", "network", "nosuch"]), json_values),
        "l": st.one_of(st.sampled_from(["ja", "en"]), nasty_text(max_size=5), json_values),
        "t": st.one_of(st.lists(st.sampled_from(topics), unique=True), json_values),
    }
)
any_payload = weighted((2, wild_details), (1, json_values))


def normalized(address: str) -> str | None:
    try:
        return normalize_address(address)
    except InvalidAddress:
        return None


# What our subscribe form signs: a normalized address, cleaned text within its limit, our choices.
form_text = nasty_text().map(lambda text: clean_text(text[: LIMITS["company"]]))
details = st.fixed_dictionaries(
    {
        "e": st.emails().map(normalized).filter(bool),
        "c": form_text,
        "n": form_text,
        "o": st.sampled_from([None, "jetro", "network"]),
        "l": st.sampled_from(["ja", "en"]),
        "t": st.lists(st.sampled_from(topics), unique=True),
    }
)


def tokens(site: Site, purpose: str, payloads: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """Signed tokens of every shape, of another purpose, unsigned text; for subscribers often the real one."""
    signed = payloads.map(lambda payload: site.tokens.sign(purpose, payload))
    other_purpose = json_values.map(lambda payload: site.tokens.sign("other", payload))
    real = 3 if purpose == SUBSCRIBER_TOKEN else 0
    unsigned = nasty_text(max_size=2100)
    return weighted((real, st.just(site.subscriber_token)), (2, signed), (1, unsigned), (1, other_purpose))


subscriber_ids = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), json_values)


@NETWORK
@given(data=st.data(), prefix=prefixes)
def test_the_subscribe_form(site: Site, data: st.DataObject, prefix: str) -> None:
    valid = {
        "email": st.emails(),
        "company": st.sampled_from(["株式会社テスト精機", ""]),
        "name": st.sampled_from(["試験 太郎", ""]),
        **preference_fields(),
    }
    pairs = data.draw(fields(valid, csrf=site.csrf))
    site.request("POST", f"{prefix}/", content=body(pairs), headers=FORM)


@NETWORK
@given(data=st.data(), prefix=prefixes)
def test_the_confirm_page_and_button(site: Site, data: st.DataObject, prefix: str) -> None:
    token = data.draw(tokens(site, CONFIRM_TOKEN, details))
    site.request("GET", f"{prefix}/confirm/{segment(token)}{data.draw(queries)}")
    pairs = data.draw(fields({}, csrf=site.csrf))
    site.request("POST", f"{prefix}/confirm/{segment(token)}", content=body(pairs), headers=FORM)


@NETWORK
@given(payload=any_payload, prefix=prefixes, query=queries)
@example(
    payload={"e": "a@example.jp", "c": "\x00", "n": "", "o": None, "l": "ja", "t": []}, prefix="", query=""
)
def test_a_confirmation_link_of_any_shape(site: Site, payload: Any, prefix: str, query: str) -> None:
    """Links signed by another version of ours, or with a key that leaked: refused, never a 500."""
    token = site.tokens.sign(CONFIRM_TOKEN, payload)
    site.request("GET", f"{prefix}/confirm/{segment(token)}{query}")
    form = body([("csrf_token", site.csrf)])
    site.request("POST", f"{prefix}/confirm/{segment(token)}", content=form, headers=FORM)


@NETWORK
@given(data=st.data(), prefix=prefixes)
def test_the_preferences_page_and_form(site: Site, data: st.DataObject, prefix: str) -> None:
    token = data.draw(tokens(site, SUBSCRIBER_TOKEN, subscriber_ids))
    site.request("GET", f"{prefix}/preferences/{segment(token)}{data.draw(queries)}")
    pairs = data.draw(fields(preference_fields(), csrf=site.csrf))
    site.request("POST", f"{prefix}/preferences/{segment(token)}", content=body(pairs), headers=FORM)


@NETWORK
@given(data=st.data(), prefix=prefixes)
def test_the_unsubscribe_page_and_button(site: Site, data: st.DataObject, prefix: str) -> None:
    token = data.draw(tokens(site, SUBSCRIBER_TOKEN, subscriber_ids))
    site.request("GET", f"{prefix}/unsubscribe/{segment(token)}{data.draw(queries)}")
    pairs = data.draw(fields({}, csrf=site.csrf))
    site.request("POST", f"{prefix}/unsubscribe/{segment(token)}/confirm", content=body(pairs), headers=FORM)


one_click_bodies = weighted(
    (2, st.just(b"List-Unsubscribe=One-Click")),
    (2, fields({"List-Unsubscribe": st.just("One-Click")}).map(body)),
    (1, raw_bytes(max_size=200)),
)
content_types = st.sampled_from(
    ["application/x-www-form-urlencoded"] * 4
    + [
        "application/x-www-form-urlencoded; charset=shift_jis",
        "multipart/form-data; boundary=x",
        "multipart/form-data",
        "text/plain",
        "",
    ]
)


@NETWORK
@given(data=st.data(), prefix=prefixes)
def test_the_one_click_unsubscribe_post(site: Site, data: st.DataObject, prefix: str) -> None:
    """RFC 8058: no cookie and no CSRF token; anything but `List-Unsubscribe=One-Click` is refused."""
    token = data.draw(tokens(site, SUBSCRIBER_TOKEN, subscriber_ids))
    content = data.draw(one_click_bodies)
    headers = {"Content-Type": data.draw(content_types), "Cookie": ""}
    response = site.request(
        "POST", f"{prefix}/unsubscribe/{segment(token)}", content=content, headers=headers
    )
    if b"One-Click" not in content:
        assert response.status_code not in WRITES


@NETWORK
@given(
    number=weighted(
        (1, st.integers(min_value=0, max_value=3).map(str)), (2, huge_numbers()), (2, nasty_text(max_size=60))
    ),
    prefix=prefixes,
    query=queries,
)
def test_the_archive_by_issue_number(site: Site, number: str, prefix: str, query: str) -> None:
    site.request("GET", f"{prefix}/archive/{segment(number)}{query}")


@NETWORK
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]),
    path=st.lists(nasty_text(max_size=30), min_size=1, max_size=4).map(
        lambda segments: "/" + "/".join(map(segment, segments))
    ),
    prefix=prefixes,
    query=queries,
    content=raw_bytes(max_size=300),
    content_type=content_types,
)
def test_any_path_and_body(
    site: Site, method: str, path: str, prefix: str, query: str, content: bytes, content_type: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    site.request(method, f"{prefix}{path}{query}", content=content or None, headers=headers)
