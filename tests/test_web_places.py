"""The country picker of the subscribe form and the preference page over real HTTP: chosen by checkbox or by
typed names (no JavaScript needed), carried through the confirmation link, saved with the consent record;
unknown names shown beside the field with the input kept, and nothing changed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from outreach.alerts.places import all_places, regions
from outreach.config import Settings
from outreach.db import Database
from outreach.models import ConsentEvent
from subscribers.places import places_of
from tests.conftest import snapshot
from tests.smtp_server import SmtpServer
from tests.test_web import Site, active_subscriber, assert_ours, csrf_in, link_in, served, subscribe

CHECKBOX = re.compile(r'<input type="checkbox" name="place" value="([^"]+)"( checked)?>')


@pytest.fixture
def site(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Iterator[Site]:
    with served(seeded_db, settings, smtp_server) as running:
        yield running


def _tokens(site: Site, email: str) -> list[str]:
    found = site.subscriber(email)
    assert found is not None
    with site.db.session() as session:
        return [place.token for place in places_of(session, found.id)]


def _confirm(site: Site, client: httpx.Client, email: str) -> httpx.Response:
    (mail,) = site.mails_to(email)
    page = client.get(link_in(mail, "/confirm/"))
    assert page.status_code == 200, page.text
    return page


def test_the_form_offers_every_region_and_country_in_details_and_the_alerts_topic(site: Site) -> None:
    with site.client() as client:
        page = client.get("/")
        english = client.get("/en/")
    boxes = CHECKBOX.findall(page.text)
    assert [value for value, _ in boxes] == [place.token for place in all_places()]
    assert not any(checked for _, checked in boxes)
    assert page.text.count('<details class="region"') == len(regions())
    assert "<summary>アジア</summary>" in page.text
    assert "<summary>Asia</summary>" in english.text
    assert "事業を行っている国・地域" in page.text
    assert "Countries and regions your company does business in" in english.text
    assert 'name="topic" value="alerts"' in page.text
    assert "安全情報の速報" in page.text
    assert "Safety alerts" in english.text
    assert 'name="places_text"' in page.text


def test_places_by_checkbox_and_by_name_travel_in_the_link_and_are_saved_on_confirming(site: Site) -> None:
    with site.client() as client:
        sent = subscribe(client, "new@example.jp", place=["42", "10-0066"], places_text="ベトナム、米国")
        assert sent.status_code == 303
        assert _tokens(site, "new@example.jp") == []  # nothing is theirs until they confirm
        page = _confirm(site, client, "new@example.jp")
        assert "<dd>欧州、タイ、ベトナム、アメリカ合衆国（本土）</dd>" in page.text  # as chosen
        confirmed = client.post(page.url.path, data={"csrf_token": csrf_in(page.text)})
        assert confirmed.status_code == 200

    assert _tokens(site, "new@example.jp") == ["10-0066", "10-0084", "30-1000", "42"]
    assert [event[:2] for event in site.events("new@example.jp")][-2:] == [
        ("confirmed", "web"),
        ("places_changed", "web"),
    ]


def test_unknown_names_are_shown_beside_the_field_with_the_input_kept_and_nothing_changes(
    site: Site,
) -> None:
    before = snapshot(site.db)
    with site.client() as client:
        answer = subscribe(
            client, "new@example.jp", path="/en/", place=["10-0066"], places_text="Viet Nam, Narnia、Atlantis"
        )
    assert answer.status_code == 400
    assert_ours(answer, language="en")
    assert "We could not find these countries or regions: Narnia, Atlantis." in answer.text
    assert 'value="Viet Nam, Narnia、Atlantis"' in answer.text
    assert '<input type="checkbox" name="place" value="10-0066" checked>' in answer.text
    assert '<details class="region" data-region' in answer.text
    assert snapshot(site.db) == before
    assert site.mails_to("new@example.jp") == []


def test_a_place_no_page_offers_is_refused_as_a_choice_and_changes_nothing(site: Site) -> None:
    before = snapshot(site.db)
    with site.client() as client:
        answer = subscribe(client, "new@example.jp", place=["99-9999"])
    assert answer.status_code == 400
    assert "選択肢から選んでください。" in answer.text
    assert snapshot(site.db) == before


def test_the_preference_page_shows_saves_and_clears_places_with_the_consent_record(site: Site) -> None:
    subscriber_id = active_subscriber(site)
    token = site.token("subscriber", subscriber_id)
    with site.client() as client:
        page = client.get(f"/preferences/{token}")
        fields = {"csrf_token": csrf_in(page.text), "organization": "jcci", "language": "ja"}
        saved = client.post(f"/preferences/{token}", data={**fields, "places_text": "Kenya；中東"})
        assert saved.status_code == 303
        shown = client.get(saved.headers["location"])
        assert '<input type="checkbox" name="place" value="50" checked>' in shown.text
        assert '<input type="checkbox" name="place" value="60-0254" checked>' in shown.text
        assert _tokens(site, "member@example.jp") == ["50", "60-0254"]

        again = client.post(f"/preferences/{token}", data={**fields, "place": ["50", "60-0254"]})
        assert again.status_code == 303
        cleared = client.post(f"/preferences/{token}", data=fields)
        assert cleared.status_code == 303

    assert _tokens(site, "member@example.jp") == []
    with site.db.session() as session:
        details = session.scalars(
            select(ConsentEvent.detail)
            .where(ConsentEvent.action == "places_changed")
            .order_by(ConsentEvent.id)
        ).all()
    assert details == ["places -> 50,60-0254", "places -> none"]  # the same places again: nothing recorded


def test_a_bad_name_on_the_preference_page_keeps_the_input_and_the_saved_places(site: Site) -> None:
    subscriber_id = active_subscriber(site)
    token = site.token("subscriber", subscriber_id)
    with site.client() as client:
        page = client.get(f"/preferences/{token}")
        fields = {"csrf_token": csrf_in(page.text), "organization": "jcci", "language": "ja"}
        assert client.post(f"/preferences/{token}", data={**fields, "places_text": "タイ"}).status_code == 303
        before = snapshot(site.db)
        answer = client.post(
            f"/preferences/{token}", data={**fields, "place": ["10-0084"], "places_text": "ナルニア"}
        )
    assert answer.status_code == 400
    assert "次の国・地域が見つかりません：ナルニア。" in answer.text
    assert 'value="ナルニア"' in answer.text
    assert '<input type="checkbox" name="place" value="10-0084" checked>' in answer.text
    assert snapshot(site.db) == before
    assert _tokens(site, "member@example.jp") == ["10-0066"]


def test_the_filter_script_is_a_file_of_ours_that_the_policy_allows(site: Site) -> None:
    with site.client() as client:
        page = client.get("/en/")
        script = client.get("/assets/places-filter.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "data-places" in script.text
    assert "addEventListener" in script.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'data-filter-label="Filter the list by name"' in page.text


def test_every_box_checked_and_the_field_filled_to_its_limit_fits_the_body_limit(site: Site) -> None:
    everything = [place.token for place in all_places()]
    name = "ボスニア・ヘルツェゴビナ、"
    typed = (name * (500 // len(name))).ljust(500, "　")  # 500 characters: names, then full-width spaces
    with site.client() as client:
        sent = subscribe(client, "all@example.jp", place=everything, places_text=typed)
        assert sent.status_code == 303, sent.text.split("<main>")[1][:400]
        page = _confirm(site, client, "all@example.jp")  # the link carries them all
        assert client.post(page.url.path, data={"csrf_token": csrf_in(page.text)}).status_code == 200
    regions_only = [region.code for region in regions()]
    assert _tokens(site, "all@example.jp") == regions_only  # a region covers its countries
