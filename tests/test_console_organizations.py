"""The organization pages over real HTTP (uvicorn, httpx, both databases): an org-editor of JETRO saves its
contact and the next rendition shows it; with nothing set the rendition shows JETRO's web page and the
secretariat; the preview button shows unsaved values in a sandboxed frame and saves nothing; a bad field is
refused at the field with nothing written; JCCI's pages answer 404 to JETRO's editor; staff see the list.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from outreach.composer import senders
from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.members.models import OrganizationProfile
from outreach.network import NETWORK
from outreach.render import Renderer
from outreach.staff import audit
from outreach.staff.models import StaffRole
from outreach.usecases import drafts
from tests.conftest import snapshot
from tests.console_support import Console, add_user, served
from tests.test_console_http import csrf_in, logged_in, without

FRAME = re.compile(r'<iframe sandbox srcdoc="([^"]*)"')
CONTACT = {
    "department_ja": "海外ビジネスサポート課",
    "department_en": "Overseas Business Support Division",
    "phone": "03-3582-5511",
    "email": "anzen@example.jp",
    "web_url": "https://www.jetro.go.jp/anzen/",
}


@pytest.fixture
def console(seeded_db: Database, settings: Settings) -> Iterator[Console]:
    """JETRO's editor, staff and an approver, draft No. 1, the console."""
    for role in (StaffRole.ORG_EDITOR, StaffRole.STAFF, StaffRole.APPROVER):
        add_user(seeded_db, role)
    with seeded_db.session() as session:
        compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
    with served(seeded_db, settings) as running:
        yield running


def _text(db: Database, settings: Settings, slug: str = "jetro", language: str = "ja") -> str:
    """The plain text of the organization's rendition of issue No. 1, as the issue preview shows it, without
    white space (the plain text is wrapped at 72 columns)."""
    with db.session() as session:
        parts = drafts.preview_parts(
            session,
            1,
            organization=slug,
            language=language,
            renderer=Renderer(sender=senders(settings)),
            base_url=settings.base_url,
        )
    return "".join(parts.text.split())


def _form(**fields: str) -> dict[str, str]:
    return {"action": "save", "report_language": "ja", **fields}


def _post(client: httpx.Client, path: str, fields: dict[str, Any], base: str = "/admin") -> httpx.Response:
    token = csrf_in(client.get(f"{base}/organizations/jetro/profile").text)
    return client.post(f"{base}{path}", data={"csrf_token": token, **fields})


def _frame(page: str) -> str:
    [document] = FRAME.findall(page)
    return html.unescape(document)


def unchanged(db: Database, before: dict[str, list[tuple[Any, ...]]]) -> bool:
    """Every table as it was, but the session's idle clock, which an allowed request restarts."""
    return without(snapshot(db), "staff_sessions") == without(before, "staff_sessions")


def test_an_org_editor_saves_its_contact_and_the_next_rendition_shows_it(console: Console) -> None:
    db, settings = console.db, console.settings
    assert "海外ビジネスサポート課" not in _text(db, settings)
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        home = client.get("/admin/organizations")
        assert (home.status_code, home.headers["location"]) == (303, "/admin/organizations/jetro")
        saved = _post(client, "/organizations/jetro/profile", _form(**CONTACT, footer_ja="会員向けのご案内"))
        assert (saved.status_code, saved.headers["location"]) == (
            303,
            "/admin/organizations/jetro?done=saved",
        )
        overview = client.get(saved.headers["location"])
        assert overview.status_code == 200
        assert "団体情報を保存しました" in overview.text
        assert "海外ビジネスサポート課" in overview.text
        for page in ("roster", "kit", "reach", "profile"):
            assert f'href="/admin/organizations/jetro/{page}"' in overview.text
        form = client.get("/admin/organizations/jetro/profile")
        assert 'value="03-3582-5511"' in form.text
        assert "海外ビジネスサポート課" in _frame(form.text)
    text = _text(db, settings)
    assert "本メールに関するお問い合わせ：海外ビジネスサポート課" in text
    assert "電話番号：03-3582-5511" in text
    assert "https://www.jetro.go.jp/anzen/" in text
    assert "会員向けのご案内" in text
    assert "Questions about this email: Overseas Business Support Division".replace(" ", "") in _text(
        db, settings, language="en"
    )
    with db.session() as session:
        [entry] = [each for each in audit.read_page(session).entries if each.action == "organization.profile"]
    assert (entry.actor, entry.target) == ("staff:jetro-editor@example.jp", "organization jetro")
    assert entry.ip == "127.0.0.1"


def test_with_nothing_set_the_rendition_shows_the_web_page_and_the_secretariat(console: Console) -> None:
    for language in ("ja", "en"):
        text = _text(console.db, console.settings, language=language)
        assert "https://www.jetro.go.jp/" in text
        assert "".join((NETWORK.contact_ja if language == "ja" else NETWORK.contact_en).split()) in text
        assert "本メールの配信担当部署" not in text
        assert "departmentinchargeofthisemail" not in text
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        frame = _frame(client.get("/admin/organizations/jetro/profile").text)
    assert "https://www.jetro.go.jp/" in frame
    assert "本メールの配信担当部署" not in frame


def test_the_preview_button_shows_unsaved_values_and_saves_nothing(console: Console) -> None:
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        before = snapshot(console.db)
        shown = _post(
            client,
            "/organizations/jetro/profile",
            {**_form(**CONTACT), "action": "preview", "preview_lang": "en"},
        )
        assert shown.status_code == 200
        assert "まだ保存していません" in shown.text
        frame = _frame(shown.text)
        assert "Overseas Business Support Division" in frame
        assert 'lang="en"' in frame
        alone = _post(
            client, "/organizations/jetro/profile/preview", {**_form(**CONTACT), "preview_lang": "ja"}
        )
        assert alone.status_code == 200
        assert "default-src 'none'" in alone.headers["content-security-policy"]
        assert "海外ビジネスサポート課" in alone.text
        assert unchanged(console.db, before)
    with console.db.session() as session:
        assert session.scalar(select(OrganizationProfile)) is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "anzen-at-example.jp", "name@example.jp の形で入力してください"),
        ("web_url", "http://www.jetro.go.jp/", "https:// で始まるURL"),
        ("phone", "お電話ください", "半角の数字とハイフン"),
    ],
)
def test_a_bad_field_is_refused_at_the_field_and_nothing_is_written(
    console: Console, field: str, value: str, message: str
) -> None:
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        before = snapshot(console.db)
        refused = _post(client, "/organizations/jetro/profile", _form(**{**CONTACT, field: value}))
        assert refused.status_code == 400
        assert unchanged(console.db, before)
    assert f'<a href="#{field}">' in refused.text  # the error summary links to the field
    assert f'id="{field}-error">' in refused.text
    assert message in refused.text
    assert f'value="{html.escape(value)}"' in refused.text  # what was typed, kept
    assert 'value="海外ビジネスサポート課"' in refused.text


def test_an_editor_of_jetro_gets_404_for_the_pages_of_jcci(console: Console) -> None:
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        before = snapshot(console.db)
        for path in ("/organizations/jcci", "/organizations/jcci/profile", "/organizations/nosuch"):
            assert client.get(f"/admin{path}").status_code == 404
        for path in ("/organizations/jcci/profile", "/organizations/jcci/profile/preview"):
            answer = _post(client, path, _form(**CONTACT))
            assert answer.status_code == 404
            assert "海外ビジネスサポート課" not in answer.text
        assert unchanged(console.db, before)


def test_staff_see_every_organization_and_its_contact_state(console: Console) -> None:
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        assert _post(client, "/organizations/jetro/profile", _form(phone="03-3582-5511")).status_code == 303
    with logged_in(console, StaffRole.STAFF) as client:
        listing = client.get("/admin/organizations")
        assert listing.status_code == 200
        assert listing.text.count('href="/admin/organizations/') == 31 * 2  # the overview and the profile
        row = re.search(r'<tr>\s*<td><a href="/admin/organizations/jetro">.*?</tr>', listing.text, re.S)
        assert row is not None
        assert "設定済み" in row.group(0)
        jcci = re.search(r'<tr>\s*<td><a href="/admin/organizations/jcci">.*?</tr>', listing.text, re.S)
        assert jcci is not None
        assert "未設定" in jcci.group(0)
        assert client.get("/admin/organizations/jcci").status_code == 200
        english = client.get("/en/admin/organizations/jetro/profile")
        assert english.status_code == 200
        assert "Profile of Japan External Trade Organization" in english.text
        # Staff may edit any organization's profile.
        token = csrf_in(english.text)
        saved = client.post(
            "/en/admin/organizations/jcci/profile",
            data={"csrf_token": token, **_form(department_ja="国際部")},
        )
        assert (saved.status_code, saved.headers["location"]) == (
            303,
            "/en/admin/organizations/jcci?done=saved",
        )
    assert "本メールに関するお問い合わせ：国際部" in _text(console.db, console.settings, "jcci")
    with logged_in(console, StaffRole.APPROVER) as client:
        assert client.get("/admin/organizations").status_code == 403
