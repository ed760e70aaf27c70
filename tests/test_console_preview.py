"""The console's preview and test sends over real HTTP (uvicorn, httpx, both databases, a real SMTP server):
two renditions side by side in sandboxed frames, the plain-text part, and test sends that reach the relay
marked as a test and leave the ledger as it was. Every refusal (a bad address, no rendition, too many, the
relay down, an approver posting) sends nothing and changes no table.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from outreach.config import Settings, load_settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.staff import audit
from outreach.staff.models import StaffRole
from tests.conftest import snapshot
from tests.console_support import USERS, Console, add_user, served
from tests.smtp_server import SmtpServer, free_port
from tests.test_console_http import csrf_in, logged_in, without

PREVIEW = "/issues/1/preview"
FRAME = re.compile(r"<iframe (sandbox) srcdoc=\"([^\"]*)\" width=\"(\d+)\"")
GREETINGS = {  # a part of each organization's greeting, in each language (outreach/data/organizations.toml)
    ("network", "ja"): "中堅・中小企業海外安全対策ネットワーク事務局（外務省領事局）より",
    ("enaa", "ja"): "エンジニアリング協会より、会員企業の皆様へ",
    ("jetro", "en"): "JETRO is passing on the Ministry of Foreign Affairs",
    ("jetro", "ja"): "日本貿易振興機構より",
    ("jcci", "ja"): "日本商工会議所より、会員企業の皆様へ",
    ("jcci", "en"): "The Japan Chamber of Commerce and Industry is passing on",
}


def relay_settings(env: dict[str, str], smtp_url: str, **more: str) -> Settings:
    """The test settings with mail going to `smtp_url`; local settings may mail a relay in development."""
    return load_settings(
        {**env, "OUTREACH_SMTP_URL": smtp_url, "OUTREACH_ENV": "development", **more}, env_file=None
    )


def draft(db: Database, *, charset: str = "utf-8", subject_ja: str | None = None) -> None:
    with db.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 8))
        compose_issue(session, meetings=[meeting], charset=charset, subject_ja=subject_ja)


@pytest.fixture
def console(seeded_db: Database, env: dict[str, str], smtp_server: SmtpServer) -> Iterator[Console]:
    """A user of each role, draft No. 1, and the console mailing the test SMTP server."""
    for role in StaffRole:
        add_user(seeded_db, role)
    draft(seeded_db)
    with served(seeded_db, relay_settings(env, smtp_server.url)) as running:
        yield running


def frames(page: str) -> list[tuple[str, int]]:
    """Each frame's document (unescaped once, as the browser reads the attribute) and its width."""
    found = FRAME.findall(page)
    return [(html.unescape(document), int(width)) for _, document, width in found]


def post_test(client: httpx.Client, base: str = "/admin", **fields: Any) -> httpx.Response:
    token = csrf_in(client.get(f"{base}{PREVIEW}").text)
    return client.post(f"{base}/issues/1/test", data={"csrf_token": token, **fields})


def unchanged(db: Database, before: dict[str, list[tuple[Any, ...]]]) -> bool:
    """Every table as it was, but the session's idle clock, which an allowed request restarts."""
    return without(snapshot(db), "staff_sessions") == without(before, "staff_sessions")


def audited_tests(db: Database) -> list[audit.AuditEntry]:
    with db.session() as session:
        return [e for e in audit.read_page(session, per_page=1000).entries if e.action == "issue.test"]


@pytest.mark.parametrize("base", ["/admin", "/en/admin"])
def test_the_preview_shows_the_networks_rendition_and_the_first_members_side_by_side(
    console: Console, base: str
) -> None:
    with logged_in(console, StaffRole.STAFF) as client:
        page = client.get(f"{base}{PREVIEW}")

    assert page.status_code == 200, page.text
    (left, left_width), (right, right_width) = frames(page.text)
    assert left_width == right_width == 640
    assert GREETINGS["network", "ja"] in left
    assert GREETINGS["enaa", "ja"] in right
    assert GREETINGS["enaa", "ja"] not in left
    assert "allow-scripts" not in page.text  # the sandbox takes every right away from the rendition
    assert "<script" not in left.lower()
    assert "<script" not in right.lower()
    assert "第1号" in page.text  # the subject, above each frame
    assert "preview@example.jp" in left  # the sample reader, never a real one
    assert f'href="{base}/issues/1/preview/text?org=enaa&amp;lang=ja"' in page.text
    assert ("Test send" if base == "/en/admin" else "テスト配信") in page.text
    assert f">{USERS[StaffRole.STAFF]}</textarea>" in page.text  # a test goes to oneself unless told


def test_any_two_renditions_in_either_language_at_phone_width(console: Console) -> None:
    query = {"left": "jetro", "left_lang": "en", "right": "jcci", "right_lang": "ja", "width": "phone"}
    with logged_in(console, StaffRole.APPROVER) as client:  # approvers see what they approve
        page = client.get(f"/en/admin{PREVIEW}", params=query)

    assert page.status_code == 200, page.text
    (left, left_width), (right, right_width) = frames(page.text)
    assert left_width == right_width == 375
    assert GREETINGS["jetro", "en"] in left
    assert GREETINGS["jetro", "ja"] not in left
    assert GREETINGS["jcci", "ja"] in right
    assert 'value="jetro" selected' in page.text
    assert 'value="phone" checked' in page.text
    assert "Send the test" not in page.text  # an approver may not send tests


def test_an_iso_2022_jp_rendition_says_what_was_replaced(
    seeded_db: Database, env: dict[str, str], smtp_server: SmtpServer
) -> None:
    add_user(seeded_db, StaffRole.STAFF)
    draft(seeded_db, charset="iso-2022-jp", subject_ja="海外安全①のお知らせ")
    with (
        served(seeded_db, relay_settings(env, smtp_server.url)) as running,
        logged_in(running, StaffRole.STAFF) as client,
    ):
        page = client.get(f"/admin{PREVIEW}")

    assert page.status_code == 200, page.text
    assert "iso-2022-jp" in page.text
    assert "置き換えた文字" in page.text
    assert "① → (1)" in page.text
    assert "海外安全(1)のお知らせ" in page.text


def test_the_text_part_is_a_page_of_its_own(console: Console) -> None:
    with logged_in(console, StaffRole.STAFF) as client:
        page = client.get(f"/admin{PREVIEW}/text", params={"org": "jcci", "lang": "en"})
        unknown = client.get(f"/admin{PREVIEW}/text", params={"org": "nowhere", "lang": "ja"})
        french = client.get(f"/admin{PREVIEW}/text", params={"org": "jcci", "lang": "fr"})

    assert page.status_code == 200, page.text
    text = re.search(r"<pre[^>]*>(.*)</pre>", page.text, re.DOTALL)
    assert text is not None
    assert GREETINGS["jcci", "en"] in html.unescape(text.group(1))
    assert "<iframe" not in page.text
    assert (unknown.status_code, french.status_code) == (404, 404)


def test_a_test_send_reaches_the_relay_marked_as_a_test_and_leaves_the_ledger_alone(
    console: Console, smtp_server: SmtpServer
) -> None:
    with logged_in(console, StaffRole.STAFF) as client:
        before = snapshot(console.db)
        answer = post_test(
            client, rendition=["jetro:en", "jcci:ja"], to="Kouhou@Example.JP,\r\n b@example.jp"
        )

    assert answer.status_code == 200, answer.text
    assert answer.text.count("250 ") == 4  # the relay's reply, per message
    assert set(smtp_server.handler.copies()) == {"Kouhou@example.jp", "b@example.jp"}
    received = {}
    for message in smtp_server.handler.to("Kouhou@example.jp"):
        parsed = message.parsed()
        body = parsed.get_body(("html",))
        assert body is not None
        received[str(parsed["Subject"])] = body.get_content()
    english = next(text for subject, text in received.items() if subject.startswith("[TEST] "))
    japanese = next(text for subject, text in received.items() if subject.startswith("【テスト】"))
    assert all("第1号" in subject or "No. 1" in subject for subject in received)
    assert GREETINGS["jetro", "en"] in english
    assert GREETINGS["jcci", "ja"] in japanese
    assert without(snapshot(console.db), "staff_sessions", "audit_events") == without(
        before, "staff_sessions", "audit_events"
    )  # the deliveries above all: a test is no delivery
    (event,) = audited_tests(console.db)
    assert (event.actor, event.target) == ("staff:staff@example.jp", "issue No. 1")
    assert event.detail == "2 addresses; jetro:en, jcci:ja"
    assert event.ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"rendition": "jetro:ja", "to": "not-an-address"},
            "「not-an-address」はメールアドレスの形になっていません。",
        ),
        (
            {"rendition": "jetro:ja", "to": "a@example.jp, b@example"},
            "「b@example」はメールアドレスの形になっていません。",
        ),
        ({"rendition": "jetro:ja", "to": ""}, "送信先のメールアドレスを入力してください。"),
        ({"rendition": "jetro:ja", "to": ",".join(f"a{n}@example.jp" for n in range(6))}, "5件まで"),
        ({"to": "a@example.jp"}, "テスト配信する版を1つ以上選んでください。"),
        ({"rendition": "nowhere:ja", "to": "a@example.jp"}, "存在しない団体か言語があります"),
        ({"rendition": "jetro:fr", "to": "a@example.jp"}, "存在しない団体か言語があります"),
        (
            {
                "rendition": [
                    f"{slug}:{lang}" for slug in ("jetro", "jcci", "enaa", "network") for lang in ("ja", "en")
                ],
                "to": "a@example.jp",
            },
            "6版まで",
        ),
    ],
)
def test_a_bad_test_send_is_refused_at_its_field_and_sends_nothing(
    console: Console, smtp_server: SmtpServer, fields: dict[str, Any], message: str
) -> None:
    with logged_in(console, StaffRole.STAFF) as client:
        before = snapshot(console.db)
        answer = post_test(client, **fields)
        assert unchanged(console.db, before)

    assert answer.status_code == 400
    assert message in answer.text
    assert 'class="error-summary"' in answer.text
    assert len(frames(answer.text)) == 2  # the preview stays in view
    assert smtp_server.handler.messages == []
    if fields.get("to"):
        assert html.escape(fields["to"], quote=False) in answer.text  # what was typed is kept


def test_the_relay_down_is_said_plainly_and_nothing_is_written(
    seeded_db: Database, env: dict[str, str]
) -> None:
    add_user(seeded_db, StaffRole.STAFF)
    draft(seeded_db)
    with (
        served(seeded_db, relay_settings(env, f"smtp://127.0.0.1:{free_port()}")) as running,
        logged_in(running, StaffRole.STAFF) as client,
    ):
        before = snapshot(seeded_db)
        answer = post_test(client, base="/en/admin", rendition="jetro:ja", to="a@example.jp")
        assert unchanged(seeded_db, before)

    assert answer.status_code == 503
    assert "The mail server could not be reached" in answer.text
    assert 'value="jetro:ja" id="rendition-jetro-ja" aria-label' in answer.text


def test_local_only_settings_never_mail_a_real_relay(
    seeded_db: Database, env: dict[str, str], smtp_server: SmtpServer
) -> None:
    add_user(seeded_db, StaffRole.STAFF)
    draft(seeded_db)
    settings = replace(relay_settings(env, smtp_server.url), development=False)
    # The base URL is 127.0.0.1: no link in real mail may point there.
    with served(seeded_db, settings) as running, logged_in(running, StaffRole.STAFF) as client:
        before = snapshot(seeded_db)
        answer = post_test(client, rendition="jetro:ja", to="a@example.jp")
        assert unchanged(seeded_db, before)

    assert answer.status_code == 503
    assert "OUTREACH_BASE_URL" in answer.text
    assert smtp_server.handler.messages == []


def test_an_approver_sees_the_preview_but_may_not_send_a_test(
    console: Console, smtp_server: SmtpServer
) -> None:
    with logged_in(console, StaffRole.APPROVER) as client:
        assert client.get(f"/admin{PREVIEW}").status_code == 200
        before = snapshot(console.db)
        answer = post_test(client, rendition="jetro:ja", to="approver@example.jp")
        assert unchanged(console.db, before)

    assert answer.status_code == 403
    assert smtp_server.handler.messages == []


def test_an_unknown_issue_is_a_404_and_an_unknown_organization_in_the_query_a_400(
    console: Console, smtp_server: SmtpServer
) -> None:
    with logged_in(console, StaffRole.STAFF) as client:
        token = csrf_in(client.get(f"/admin{PREVIEW}").text)
        for number in (2, 2**31, 10**12):
            assert client.get(f"/admin/issues/{number}/preview").status_code == 404
            assert client.get(f"/admin/issues/{number}/preview/text?org=jetro&lang=ja").status_code == 404
            posted = client.post(
                f"/admin/issues/{number}/test",
                data={"csrf_token": token, "rendition": "jetro:ja", "to": "a@example.jp"},
            )
            assert posted.status_code == 404
        bad = client.get(f"/admin{PREVIEW}", params={"left": "nowhere", "right_lang": "fr", "width": "tv"})

    assert smtp_server.handler.messages == []
    assert bad.status_code == 400
    assert frames(bad.text) == []  # nothing shown for a choice that names nothing
    for message in (
        "団体を一覧から選んでください。",
        "日本語版か英語版かを選んでください。",
        "表示幅を選んでください。",
    ):
        assert message in bad.text
    assert 'href="#left"' in bad.text
    assert 'href="#right_lang"' in bad.text
    assert 'href="#width"' in bad.text


def test_a_refused_recipient_is_shown_with_the_relays_words_and_the_others_still_go(
    console: Console, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.rcpt_replies["refused@example.jp"] = "550 5.1.1 no such mailbox here"
    with logged_in(console, StaffRole.STAFF) as client:
        answer = post_test(client, rendition="jcci:en", to="refused@example.jp\nok@example.jp")

    assert answer.status_code == 200, answer.text
    assert 'class="reply-failed">550 5.1.1 no such mailbox here' in answer.text
    assert smtp_server.handler.copies() == {"ok@example.jp": 1}
    (event,) = audited_tests(console.db)
    assert event.detail == "2 addresses; jcci:en"
