"""The staff console over real HTTP: uvicorn on 127.0.0.1, httpx, real databases.

Every admin route: the anonymous go to the login page, a role without the right gets a 403, a POST without a
valid CSRF token gets a 403, and each refusal leaves every table as it was (a failed login changes only its
account's failure count and the audit log). The session id is new at each login and dead after logout.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from sqlalchemy import select, update
from starlette.routing import Mount

from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue, get_issue
from outreach.models import utcnow
from outreach.staff import audit
from outreach.staff import users as staff_users
from outreach.staff.models import StaffRole, StaffSession, StaffUser
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import Acting
from outreach.usecases.sends import start_send
from subscribers.directory import add_subscriber
from subscribers.web import create_app
from tests.conftest import snapshot
from tests.console_support import OPTIONS, PASSWORD, STAFF, USERS, Console, add_user, served

UNCHECKED = Acting("cli:tester", ApprovalPolicy.NONE)  # a send in a test's setting, without the sign-off
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
COOKIE = "outreach_console"
BASES = ("/admin", "/en/admin")
ORGANIZATION_PAGES = {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.ORG_EDITOR}
# Every route of the console, under each base: (method, path, who may use it; None: anyone logged in).
GUARDED: list[tuple[str, str, set[StaffRole] | None]] = [
    ("GET", "/", {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER}),
    ("GET", "/audit", {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER}),
    # The member organizations' pages (tests/test_console_organizations.py and the others of issue 12).
    ("GET", "/organizations", ORGANIZATION_PAGES),
    ("GET", "/organizations/{slug}", ORGANIZATION_PAGES),
    ("GET", "/organizations/{slug}/profile", ORGANIZATION_PAGES),
    ("POST", "/organizations/{slug}/profile", ORGANIZATION_PAGES),
    ("POST", "/organizations/{slug}/profile/preview", ORGANIZATION_PAGES),
    # An organization's roster (tests/test_console_rosters.py, tests/test_rosters_browser.py).
    ("GET", "/organizations/{slug}/roster", ORGANIZATION_PAGES),
    ("GET", "/organizations/{slug}/roster/subscribers/{id:int}", ORGANIZATION_PAGES),
    ("POST", "/organizations/{slug}/roster/subscribers/{id:int}/unsubscribe", ORGANIZATION_PAGES),
    ("GET", "/organizations/{slug}/roster/import", ORGANIZATION_PAGES),
    ("POST", "/organizations/{slug}/roster/import", ORGANIZATION_PAGES),
    ("GET", "/organizations/{slug}/roster/export", ORGANIZATION_PAGES),
    # Reach per organization, and all side by side (tests/test_console_reach.py).
    ("GET", "/organizations/{slug}/reach", ORGANIZATION_PAGES),
    ("GET", "/organizations/{slug}/reach.csv", ORGANIZATION_PAGES),
    ("GET", "/reach", {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER}),
    # The forward kit (tests/test_console_kit.py).
    ("GET", "/organizations/{slug}/kit", ORGANIZATION_PAGES),
    ("POST", "/organizations/{slug}/kit/{number:int}/forwarded", ORGANIZATION_PAGES),
    ("GET", "/organizations/{slug}/kit/{number:int}/{name}", ORGANIZATION_PAGES),
    # The safety alerts (tests/test_console_alerts.py).
    ("GET", "/alerts", {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER}),
    ("POST", "/alerts/poll", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("GET", "/alerts/{id:int}", {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER}),
    ("POST", "/logout", None),
    # The issue pages (tests/test_console_approval.py): an issue, its approval and its send.
    ("GET", "/issues/{number:int}", {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER}),
    ("POST", "/issues/{number:int}/approve", {StaffRole.ADMIN, StaffRole.APPROVER}),
    ("GET", "/issues/{number:int}/send", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/issues/{number:int}/send", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("GET", "/issues/{number:int}/schedule", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/issues/{number:int}/schedule", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/issues/{number:int}/pause", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/issues/{number:int}/resume", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/issues/{number:int}/cancel", {StaffRole.ADMIN, StaffRole.STAFF}),
    # The content pages (tests/test_console_content.py, tests/test_console_promotions.py).
    ("GET", "/meetings", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("GET", "/meetings/new", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/meetings/new", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("GET", "/meetings/{kind}/{number:int}", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/meetings/{kind}/{number:int}", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/markdown", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("GET", "/assets/markdown-preview.js", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("GET", "/promotions", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("GET", "/promotions/new", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/promotions/new", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("GET", "/promotions/{slug}", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/promotions/{slug}", {StaffRole.ADMIN, StaffRole.STAFF}),
    # The composer (tests/test_console_composer.py).
    ("GET", "/issues/new", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/issues/new", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("GET", "/issues/{number:int}/edit", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/issues/{number:int}/edit", {StaffRole.ADMIN, StaffRole.STAFF}),
    ("POST", "/issues/{number:int}/delete", {StaffRole.ADMIN, StaffRole.STAFF}),
    # Previews and test sends (tests/test_console_preview.py).
    ("GET", "/issues/{number:int}/preview", {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER}),
    ("GET", "/issues/{number:int}/preview/text", {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER}),
    ("POST", "/issues/{number:int}/test", {StaffRole.ADMIN, StaffRole.STAFF}),
    # Watching a send (tests/test_console_delivery.py, tests/test_console_delivery_log.py).
    ("GET", "/issues/{number:int}/progress", {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER}),
    ("GET", "/issues/{number:int}/log", {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER}),
    ("GET", "/issues/{number:int}/log.csv", {StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER}),
]
PUBLIC = [("GET", "/login"), ("POST", "/login")]
FAILED = "ログインできませんでした"


def url(path: str) -> str:
    """A route's path as a request names it: issue No. 1, plenary meeting No. 1, the promotion `tabireg`, the
    organization `jetro` (whose org-editor the tests log in as), its forward kit's Japanese .eml."""
    named = path.replace("{number:int}", "1").replace("{id:int}", "1").replace("{kind}", "plenary")
    named = named.replace("{name}", "ja.eml")
    return named.replace("{slug}", "jetro" if path.startswith("/organizations/") else "tabireg")


def csrf_in(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def log_in(
    client: httpx.Client, email: str, password: str = PASSWORD, *, base: str = "/admin", **fields: str
) -> httpx.Response:
    page = client.get(f"{base}/login")
    if page.status_code == 303:  # logged in already: every page of the console has a form with a token
        page = client.get(page.headers["location"])
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_in(page.text), "email": email, "password": password, "code": "", **fields}
    return client.post(f"{base}/login", data=data)


@contextmanager
def logged_in(console: Console, role: StaffRole) -> Iterator[httpx.Client]:
    with console.client() as client:
        answer = log_in(client, USERS[role])
        assert answer.status_code == 303, answer.text
        yield client


def request(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    return client.request(method, url, **kwargs)


def session_cookie(response: httpx.Response) -> str:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.endswith(COOKIE):
            return rest.split(";")[0]
    raise AssertionError(f"no session cookie in {response.headers.get_list('set-cookie')}")


def the_row(db: Database, email: str) -> StaffUser:
    with db.session() as session:
        found = session.scalar(select(StaffUser).where(StaffUser.email == email))
        assert found is not None
        return found


def without(tables: dict[str, list[tuple[Any, ...]]], *names: str) -> dict[str, list[tuple[Any, ...]]]:
    return {name: rows for name, rows in tables.items() if name not in names}


def test_the_tests_know_every_route_of_the_console(console: Console, settings: Settings) -> None:
    app = create_app(replace(settings, base_url=console.url), options=OPTIONS, staff=STAFF)
    found = set()
    for route in app.routes:
        if isinstance(route, Mount) and route.path in BASES:
            for inner in route.routes:
                methods: set[str] = set(getattr(inner, "methods", set())) - {"HEAD"}
                found |= {(route.path, method, getattr(inner, "path", "")) for method in methods}
    known = {(base, method, path) for base in BASES for method, path, _ in GUARDED}
    known |= {(base, method, path) for base in BASES for method, path in PUBLIC}
    assert found == known


@pytest.mark.parametrize("base", BASES)
def test_the_anonymous_are_sent_to_the_login_page_and_nothing_changes(console: Console, base: str) -> None:
    before = snapshot(console.db)
    with console.client() as client:
        for method, path, _ in GUARDED:
            for cookie in (None, "x" * 43, "not-a-session"):
                client.cookies.clear()
                if cookie:
                    client.cookies.set(COOKIE, cookie)
                here = base + url(path)
                answer = request(client, method, f"{here}?page=2" if method == "GET" else here)
                assert answer.status_code == 303, (method, path)
                location = urlsplit(answer.headers["location"])
                assert location.path == f"{base}/login"
                expected = {"next": [f"{here}?page=2"]} if method == "GET" else {}
                assert parse_qs(location.query) == expected
    assert snapshot(console.db) == before


@pytest.mark.parametrize("role", list(StaffRole))
def test_a_role_without_the_right_gets_a_403_page_and_nothing_changes(
    console: Console, role: StaffRole
) -> None:
    with logged_in(console, role) as client:
        for base in BASES:
            for method, path, allowed in GUARDED:
                if allowed is None or role in allowed:
                    continue
                before = snapshot(console.db)
                answer = request(client, method, base + url(path))
                assert answer.status_code == 403, (role, base, path)
                english = base.startswith("/en")
                assert (
                    "You may not open this page" if english else "このページを開く権限がありません"
                ) in answer.text
                assert snapshot(console.db) == before
        for method, path, allowed in GUARDED:
            # The issue pages need an issue: test_console_approval opens them for each role.
            if method == "GET" and allowed is not None and role in allowed and "{" not in path:
                # An org-editor's list of organizations is their own organization's page.
                home = role is StaffRole.ORG_EDITOR and path == "/organizations"
                assert client.get(f"/admin{path}").status_code == (303 if home else 200), (role, path)


@pytest.mark.parametrize("base", BASES)
def test_a_post_without_a_valid_csrf_token_gets_a_403_and_changes_nothing(
    console: Console, base: str
) -> None:
    with logged_in(console, StaffRole.STAFF) as client:
        token = csrf_in(client.get(f"{base}/").text)
        before = snapshot(console.db)
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token + "x"}):
            answer = client.post(f"{base}/logout", data=data)
            assert answer.status_code == 403, data
            assert "フォームの有効期限が切れました" in answer.text or "The form has expired" in answer.text
        with console.client() as stranger:  # a token of another browser
            stranger_token = csrf_in(stranger.get(f"{base}/login").text)
        assert client.post(f"{base}/logout", data={"csrf_token": stranger_token}).status_code == 403
        assert snapshot(console.db) == before
        assert client.get(f"{base}/").status_code == 200  # still logged in
    before = snapshot(console.db)
    with console.client() as client:
        client.get(f"{base}/login")
        for data in ({}, {"csrf_token": "forged"}):
            answer = client.post(
                f"{base}/login", data={**data, "email": USERS[StaffRole.STAFF], "password": PASSWORD}
            )
            assert answer.status_code == 403
            assert COOKIE not in answer.headers.get("set-cookie", "")
    assert snapshot(console.db) == before


def test_a_form_no_page_sends_is_refused(console: Console) -> None:
    with logged_in(console, StaffRole.STAFF) as client:
        token = csrf_in(client.get("/admin/").text)
        before = snapshot(console.db)
        answer = client.post("/admin/logout", data={"csrf_token": token}, files={"upload": ("a.txt", b"x")})
        assert answer.status_code == 400
        assert snapshot(console.db) == before


def test_logging_in_lands_on_the_home_of_the_role(console: Console) -> None:
    with console.client() as client:
        answer = log_in(client, USERS[StaffRole.APPROVER])
        assert (answer.status_code, answer.headers["location"]) == (303, "/admin/")
    with console.client() as client:
        answer = log_in(client, USERS[StaffRole.ORG_EDITOR], base="/en/admin")
        assert (answer.status_code, answer.headers["location"]) == (303, "/en/admin/organizations/jetro")
        page = client.get("/en/admin/organizations/jetro")
        assert page.status_code == 200
        assert "Japan External Trade Organization" in page.text


def test_next_brings_you_back_but_only_to_a_page_of_the_console(console: Console) -> None:
    with console.client() as client:
        sent = client.get("/admin/audit?actor=staff")
        assert sent.headers["location"] == "/admin/login?next=%2Fadmin%2Faudit%3Factor%3Dstaff"
        answer = log_in(client, USERS[StaffRole.STAFF], next="/admin/audit?actor=staff")
        assert answer.headers["location"] == "/admin/audit?actor=staff"
    for bad in (
        "https://evil.example/admin/",
        "//evil.example/admin",
        "/\\evil.example",
        "javascript:alert(1)",
        "/admin//evil.example",
        "/subscribe",
        "/admin/\r\nSet-Cookie: x=1",
        "/admin\\..\\evil",
    ):
        with console.client() as client:
            page = client.get("/admin/login", params={"next": bad})
            assert 'name="next" value=""' in page.text, bad
            answer = log_in(client, USERS[StaffRole.STAFF], next=bad)
            assert answer.headers["location"] == "/admin/", bad


def test_failed_logins_look_alike_and_lock_the_account_after_n(console: Console) -> None:
    email = USERS[StaffRole.STAFF]
    with console.client() as client:
        wrong_password = log_in(client, email, "not the password at all")
        unknown = log_in(client, "nobody@example.jp")
    assert wrong_password.status_code == unknown.status_code == 400
    assert FAILED in wrong_password.text
    assert CSRF.sub("", wrong_password.text) == CSRF.sub("", unknown.text).replace("nobody@example.jp", email)
    assert "not the password at all" not in wrong_password.text
    for _ in range(STAFF.lockout_failures - 1):
        before = snapshot(console.db)
        with console.client() as client:
            assert log_in(client, email, "not the password at all").status_code == 400
        changed = {name for name, rows in snapshot(console.db).items() if rows != before[name]}
        assert changed == {"staff_users", "audit_events"}
    row = the_row(console.db, email)
    assert row.locked_until is not None
    assert row.locked_until > utcnow() + timedelta(minutes=14)
    before = snapshot(console.db)
    with console.client() as client:
        locked = log_in(client, email)  # the right password, while locked
        assert locked.status_code == 400
        assert CSRF.sub("", locked.text) == CSRF.sub("", wrong_password.text)
        assert client.get("/admin/").status_code == 303
    assert snapshot(console.db) == before
    with console.db.session() as session:
        staff_users.enable_user(session, email, actor="cli:tester", now=utcnow())
    with console.client() as client:
        assert log_in(client, email).status_code == 303


def test_a_disabled_user_is_logged_out_and_cannot_log_in(console: Console) -> None:
    email = USERS[StaffRole.STAFF]
    with logged_in(console, StaffRole.STAFF) as client:
        with console.db.session() as session:
            staff_users.disable_user(session, email, actor="cli:tester", now=utcnow())
        assert client.get("/admin/").status_code == 303
        before = snapshot(console.db)
        assert log_in(client, email).status_code == 400
        assert snapshot(console.db) == before


def test_the_session_id_changes_at_login_and_is_refused_after_logout(console: Console) -> None:
    email = USERS[StaffRole.STAFF]
    with console.client() as client:
        first = session_cookie(log_in(client, email))
        second = session_cookie(log_in(client, email))  # the browser still sends the first
        assert first != second
        with console.db.session() as session:
            stored = set(session.scalars(select(StaffSession.id_hash)))
        assert stored == {hashlib.sha256(second.encode()).hexdigest()}  # the first ended; no id is stored
        assert second not in repr(snapshot(console.db))
        token = csrf_in(client.get("/admin/").text)
        out = client.post("/admin/logout", data={"csrf_token": token})
        assert (out.status_code, out.headers["location"]) == (303, "/admin/login?logged_out=1")
        assert 'outreach_console=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
        assert "ログアウトしました。" in client.get(out.headers["location"]).text
    for old in (first, second):
        with console.client() as client:
            client.cookies.set(COOKIE, old)
            assert client.get("/admin/").status_code == 303
    actions = [event.action for event in audit_events(console.db)]
    assert actions[:3] == ["logout", "login", "login"]  # newest first


def audit_events(db: Database) -> list[audit.AuditEntry]:
    with db.session() as session:
        return audit.read_page(session, per_page=1000).entries


def test_a_session_idle_too_long_or_past_its_lifetime_is_refused(console: Console) -> None:
    with logged_in(console, StaffRole.STAFF) as client:
        assert client.get("/admin/").status_code == 200
        with console.db.session() as session:
            session.execute(update(StaffSession).values(last_seen_at=utcnow() - STAFF.session_idle))
        before = snapshot(console.db)
        assert client.get("/admin/").status_code == 303
        assert snapshot(console.db) == before
    with logged_in(console, StaffRole.STAFF) as client:
        with console.db.session() as session:
            session.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert client.get("/admin/").status_code == 303


def test_an_allowed_request_restarts_the_idle_clock(console: Console) -> None:
    with logged_in(console, StaffRole.STAFF) as client:
        long_ago = utcnow() - STAFF.session_idle + timedelta(minutes=1)
        with console.db.session() as session:
            session.execute(update(StaffSession).values(last_seen_at=long_ago))
        assert client.get("/admin/").status_code == 200
        with console.db.session() as session:
            seen = session.scalar(select(StaffSession.last_seen_at))
        assert seen is not None
        assert seen > long_ago + timedelta(seconds=30)


def test_a_totp_user_needs_the_code(console: Console) -> None:
    email = USERS[StaffRole.APPROVER]
    with console.db.session() as session:
        enrolment = staff_users.enrol_totp(session, email, actor="cli:tester", now=utcnow())
    app = pyotp.TOTP(enrolment.secret)
    with console.client() as client:
        assert log_in(client, email).status_code == 400
        code = app.now()
        assert log_in(client, email, code=code).status_code == 303
    with console.client() as client:
        assert log_in(client, email, code=code).status_code == 400  # a code is good once
    assert the_row(console.db, email).failed_logins == 1  # the login between reset the count


@pytest.mark.parametrize("secure", [False, True])
def test_the_session_cookie_is_httponly_strict_and_under_https_secure_and_host_only(
    seeded_db: Database, settings: Settings, secure: bool
) -> None:
    email = add_user(seeded_db, StaffRole.STAFF)
    base_url = "https://mailmag.example.jp" if secure else None
    with served(seeded_db, settings, base_url=base_url) as running, running.client() as client:
        page = client.get("/admin/login")
        csrf_cookie = page.headers["set-cookie"].split(";")[0]
        answer = client.post(
            "/admin/login",
            data={"csrf_token": csrf_in(page.text), "email": email, "password": PASSWORD},
            headers={"cookie": csrf_cookie},  # httpx sends no Secure cookie over plain http
        )
    assert answer.status_code == 303
    header = next(value for value in answer.headers.get_list("set-cookie") if COOKIE in value)
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"httponly", "path"} <= attributes
    assert "samesite=strict" in header.lower()
    assert "max-age" not in attributes
    assert ("secure" in attributes) is secure
    assert header.startswith("__Host-outreach_console=" if secure else "outreach_console=")


@pytest.mark.parametrize(
    ("base", "words"),
    [("/admin", ("号の一覧", "下書き", "配信中")), ("/en/admin", ("Issues", "Draft", "Sending"))],
)
def test_the_dashboard_lists_issues_newest_first_with_state_and_recipients(
    console: Console, base: str, words: tuple[str, str, str]
) -> None:
    with console.db.session() as session:
        for index in range(3):
            add_subscriber(session, f"reader{index}@example.jp")
        compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
    with console.db.session() as session:
        start_send(session, get_issue(session, 1), now=utcnow(), by=UNCHECKED)
        compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 7))])
    with logged_in(console, StaffRole.APPROVER) as client:
        before = snapshot(console.db)
        page = client.get(f"{base}/")
        after = snapshot(console.db)
    assert page.status_code == 200
    assert without(after, "staff_sessions") == without(before, "staff_sessions")
    for word in words:
        assert word in page.text
    rows = re.findall(r"<tr>\s*<td[^>]*>([^<]+)</td>", page.text)
    assert rows == (["第2号", "第1号"] if base == "/admin" else ["Issue No. 2", "Issue No. 1"])
    assert re.search(r'class="figure">3</td>', page.text)


def test_the_audit_log_pages_50_at_a_time_and_filters_by_actor(console: Console) -> None:
    with console.db.session() as session:
        for index in range(60):
            moment = utcnow() + timedelta(seconds=index)
            target = f"u{index}@example.jp"
            audit.record(
                session, actor=audit.cli_actor("operator"), action="user.add", target=target, now=moment
            )
    with logged_in(console, StaffRole.STAFF) as client:
        first = client.get("/admin/audit")
        second = client.get("/admin/audit", params={"page": "2"})
        odd = client.get("/admin/audit", params={"page": "二"})
        filtered = client.get("/en/admin/audit", params={"actor": "staff@"})
    assert first.status_code == second.status_code == odd.status_code == filtered.status_code == 200
    assert first.text.count("<tr>") - 1 == 50
    assert "u59@example.jp" in first.text
    assert 'rel="next"' in first.text
    assert "u0@example.jp" in second.text
    assert 'rel="prev"' in second.text
    assert odd.text.count("<tr>") - 1 == 50
    assert "cli:operator" not in filtered.text
    assert "staff:staff@example.jp" in filtered.text
    assert "Logged in" in filtered.text
    assert 'value="staff@"' in filtered.text


def test_every_console_page_carries_the_security_headers_and_no_script(console: Console) -> None:
    with logged_in(console, StaffRole.ADMIN) as client:
        pages = [
            client.get(f"{base}{path}")
            for base in BASES
            for path in ("/", "/audit", "/organizations", "/login")
        ]
    for page in pages:
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert "<script" not in page.text


def test_the_pages_come_in_both_languages_with_a_switch_and_the_user_in_the_top_bar(console: Console) -> None:
    with logged_in(console, StaffRole.ADMIN) as client:
        japanese = client.get("/admin/audit?actor=x")
        english = client.get("/en/admin/audit?actor=x")
        login_page = client.get("/admin/login")
        bare = client.get("/admin")
    assert '<html lang="ja">' in japanese.text
    assert 'href="/en/admin/audit?actor=x"' in japanese.text
    assert "管理者" in japanese.text
    assert "admin user" in japanese.text
    assert '<html lang="en">' in english.text
    assert 'href="/admin/audit?actor=x"' in english.text
    assert "Administrator" in english.text
    assert "Log out" in english.text
    assert "Audit log" in english.text
    assert login_page.status_code == 303  # logged in already: to the home page
    assert (bare.status_code, bare.headers["location"]) == (307, f"{console.url}/admin/")
