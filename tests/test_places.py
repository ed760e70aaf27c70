"""The ministry's regions and countries (outreach.alerts.places) and a subscriber's places
(subscribers.places): finding a place however a person types it, reading lists back, and writing places
with their consent record."""

from __future__ import annotations

import tomllib
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from outreach.alerts import places
from outreach.alerts.models import SubscriberPlace
from outreach.alerts.places import Place, UnknownPlaces, find, name_of, parse_places, regions
from outreach.db import Database
from outreach.errors import InvalidInput
from outreach.models import ConsentEvent, Subscriber, SubscriberStatus
from subscribers.consent import ConsentSource, Origin
from subscribers.places import places_by_subscriber, places_of, replace_places

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
EVERY_PLACE = places.all_places()
PLACE = st.sampled_from(EVERY_PLACE)
LANGUAGE = st.sampled_from(["ja", "en"])
SEPARATOR = st.sampled_from([";", ",", "、", "，", "／", "\n", " ; ", "、 ", "\r\n"])


def test_the_table_has_the_regions_and_about_two_hundred_countries_with_unique_codes() -> None:
    found = regions()
    assert [region.code for region in found] == ["10", "20", "30", "33", "42", "50", "60"]
    assert [region.name_ja for region in found][:3] == ["アジア", "大洋州", "北米"]
    countries = [country for region in found for country in region.countries]
    assert len(countries) >= 200
    assert len({country.country_code for country in countries}) == len(countries)
    assert all(country.area_code == region.code for region in found for country in region.countries)
    raw = tomllib.loads(places.COUNTRIES_FILE.read_text(encoding="utf-8"))
    assert len(raw["countries"]) == len(countries)  # nothing dropped or invented on the way


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("タイ", "0066"),
        ("Thailand", "0066"),
        ("  thailand ", "0066"),
        ("ＴＨＡＩＬＡＮＤ", "0066"),  # full width
        ("0066", "0066"),
        ("０６６６", None),
        ("10-0066", "0066"),
        ("米国", "1000"),
        ("アメリカ", "1000"),
        ("USA", "1000"),
        ("United States", "1000"),
        ("英国", "0044"),
        ("イギリス", "0044"),
        ("U K", "0044"),
        ("カナダ", "9001"),
        ("ボスニア・ヘルツェゴビナ", "0387"),
        ("bosnia and herzegovina", "0387"),
        ("Atlantis", None),
        ("", None),
    ],
)
def test_find_by_code_name_or_alias_ignoring_width_case_and_spaces(typed: str, code: str | None) -> None:
    found = find(typed)
    assert (found.country_code if found else None) == code


def test_a_region_is_found_by_its_code_or_name_as_the_whole_region() -> None:
    for typed in ("42", "欧州", "ヨーロッパ", "Europe", "ｅｕｒｏｐｅ"):
        found = find(typed)
        assert found == Place("42", "", "欧州", "Europe"), typed
        assert found.is_region
        assert found.token == "42"


def test_parse_places_splits_on_every_separator_but_the_middle_dot_and_keeps_the_order() -> None:
    typed = "ベトナム、タイ;USA\nボスニア・ヘルツェゴビナ，中東／Kenya, タイ"
    assert [place.token for place in parse_places(typed)] == [
        "10-0084",
        "10-0066",
        "30-1000",
        "42-0387",
        "50",
        "60-0254",
    ]
    assert parse_places("") == []
    assert parse_places(" 、 ; \n") == []


def test_parse_places_names_every_unknown_entry_once_as_typed() -> None:
    with pytest.raises(UnknownPlaces) as caught:
        parse_places("タイ、ナルニア, Atlantis、ナルニア")
    assert caught.value.unknown == ["ナルニア", "Atlantis"]
    assert isinstance(caught.value, InvalidInput)
    assert "ナルニア, Atlantis" in str(caught.value)


def test_name_of_shows_an_unknown_code_by_the_feeds_name() -> None:
    assert name_of("10", "0066", "ja") == "タイ"
    assert name_of("10", "0066", "en") == "Thailand"
    assert name_of("33", "", "en") == "Latin America and the Caribbean"
    assert name_of("10", "9999", "ja", fallback="新しい国") == "新しい国"
    assert name_of("10", "9999", "en") == "10-9999"


@given(st.lists(PLACE, max_size=8), LANGUAGE)
def test_formatted_places_parse_back_to_the_same_places(chosen: list[Place], language: str) -> None:
    unique = list(dict.fromkeys(chosen))
    assert parse_places(places.format_places(unique, language)) == unique


@given(st.lists(st.tuples(PLACE, LANGUAGE, SEPARATOR), min_size=1, max_size=8))
def test_any_mix_of_names_languages_and_separators_parses_to_the_places_named(
    typed: list[tuple[Place, str, str]],
) -> None:
    text = "".join(place.name(language) + separator for place, language, separator in typed)
    assert parse_places(text) == list(dict.fromkeys(place for place, _, _ in typed))


@given(PLACE, st.sampled_from(["upper", "lower", "wide", "spaced"]))
def test_a_name_is_found_however_it_is_cased_widened_or_spaced(place: Place, how: str) -> None:
    name = place.name_en
    typed = {
        "upper": name.upper(),
        "lower": name.lower(),
        "wide": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name),
        "spaced": f"  {name}\u3000",
    }[how]
    assert unicodedata.normalize("NFKC", typed).strip()  # still a name
    assert find(typed) == place


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40))
def test_parse_places_either_finds_places_or_names_what_it_did_not_know(text: str) -> None:
    try:
        found = parse_places(text)
    except UnknownPlaces as error:
        unknown = error.unknown
        found = []
    else:
        unknown = []
    entries = [part.strip() for part in places.SEPARATORS.split(text) if part.strip()]
    assert len(found) + len(unknown) <= len(entries)
    assert all(entry in entries for entry in unknown)  # named as typed, never empty


# subscribers.places: the one writer of subscriber_places


def _subscriber(db: Database, email: str = "a@example.jp") -> int:
    with db.session() as session:
        subscriber = Subscriber(email=email, status=SubscriberStatus.ACTIVE, created_at=NOW, updated_at=NOW)
        session.add(subscriber)
        session.flush()
        return subscriber.id


def _replace(db: Database, subscriber_id: int, typed: str) -> bool:
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        assert subscriber is not None
        origin = Origin(ConsentSource.WEB, ip="192.0.2.1")
        return replace_places(session, subscriber, parse_places(typed), origin, now=NOW)


def test_replacing_places_writes_them_and_the_consent_record_together(db: Database) -> None:
    subscriber_id = _subscriber(db)

    assert _replace(db, subscriber_id, "ベトナム、タイ、欧州、France") is True

    with db.session() as session:
        assert [p.token for p in places_of(session, subscriber_id)] == ["10-0066", "10-0084", "42"]
        events = session.scalars(select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber_id))
        (event,) = list(events)
        assert (event.action, event.source, event.ip) == ("places_changed", "web", "192.0.2.1")
        assert event.detail == "places -> 10-0066,10-0084,42"


def test_the_same_places_again_change_and_record_nothing_and_none_clears_them(db: Database) -> None:
    subscriber_id = _subscriber(db)
    assert _replace(db, subscriber_id, "タイ") is True
    assert _replace(db, subscriber_id, "Thailand、タイ") is False
    assert _replace(db, subscriber_id, "") is True

    with db.session() as session:
        assert places_of(session, subscriber_id) == []
        assert session.scalars(select(SubscriberPlace)).all() == []
        details = session.scalars(select(ConsentEvent.detail).order_by(ConsentEvent.id)).all()
        assert details == ["places -> 10-0066", "places -> none"]


def test_a_failed_transaction_leaves_neither_places_nor_record(db: Database) -> None:
    subscriber_id = _subscriber(db)

    def change_then_fail() -> None:
        with db.session() as session:
            subscriber = session.get(Subscriber, subscriber_id)
            assert subscriber is not None
            replace_places(session, subscriber, parse_places("タイ"), Origin(ConsentSource.STAFF), now=NOW)
            session.flush()
            raise RuntimeError("the rest of the change failed")

    with pytest.raises(RuntimeError):
        change_then_fail()
    with db.session() as session:
        assert places_of(session, subscriber_id) == []
        assert session.scalars(select(ConsentEvent)).all() == []


def test_places_of_many_subscribers_in_one_read_and_an_unknown_code_kept(db: Database) -> None:
    first, second, third = (_subscriber(db, f"{n}@example.jp") for n in ("one", "two", "three"))
    _replace(db, first, "タイ")
    with db.session() as session:
        session.add(SubscriberPlace(subscriber_id=second, area_code="10", country_code="9999"))
    with db.session() as session:
        found = places_by_subscriber(session, [first, second, third])
    assert set(found) == {first, second}
    assert found[first][0].name_ja == "タイ"
    assert found[second] == [Place("10", "9999", "10-9999", "10-9999")]
