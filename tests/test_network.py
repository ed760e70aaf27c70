"""The network's data files against its public page, and the loader's refusal of broken files."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from outreach import network
from outreach.errors import InvalidInput
from outreach.network import (
    DATA_DIR,
    DATA_FILES,
    MEETINGS,
    NETWORK,
    ORGANIZATIONS,
    PROMOTIONS,
    MeetingData,
    NetworkDataError,
    OrganizationData,
    load_network,
    packaged_network,
)

# The members as the page lists them (50音順), without the parenthesised abbreviations.
PAGE_MEMBERS = [
    "エンジニアリング協会",
    "海外建設協会",
    "海外コンサルタンツ協会",
    "海外邦人安全協会",
    "外務省",
    "金融庁",
    "経済産業省",
    "経済同友会",
    "国際協力機構",
    "国際協力銀行",
    "国際交流基金",
    "商工組合中央金庫",
    "全国銀行協会",
    "全国商工会連合会",
    "全国信用金庫協会",
    "全国信用組合中央協会",
    "全国知事会",
    "全国中小企業団体中央会",
    "中小企業基盤整備機構",
    "中小企業庁",
    "日本機械輸出組合",
    "日本経済団体連合会",
    "日本在外企業協会",
    "日本商工会議所",
    "日本政策金融公庫",
    "日本損害保険協会",
    "日本貿易会",
    "日本貿易振興機構",
    "日本貿易保険",
    "日本旅行業協会",
]

# The meeting table of the seed README: (kind, number) -> (date, format).
MEETING_TABLE = {
    ("plenary", 1): (date(2016, 9, 27), "in_person"),
    ("plenary", 2): (date(2017, 6, 30), "in_person"),
    ("plenary", 3): (date(2018, 7, 26), "in_person"),
    ("plenary", 4): (date(2019, 8, 30), "in_person"),
    ("plenary", 5): (date(2021, 3, 15), "online"),
    ("plenary", 6): (date(2022, 2, 28), "online"),
    ("plenary", 7): (date(2022, 11, 22), "hybrid"),
    ("plenary", 8): (date(2024, 1, 31), "hybrid"),
    ("secretariat", 1): (date(2016, 12, 1), None),
    ("secretariat", 2): (date(2017, 12, 20), None),
    ("secretariat", 3): (date(2018, 12, 7), None),
    ("secretariat", 4): (date(2019, 12, 13), None),
    ("secretariat", 5): (date(2021, 3, 22), None),
}

SLUG = re.compile(r"^[a-z0-9-]+$")
MEMBER_KINDS = {"ministry", "agency", "association"}


def _all_urls() -> list[str]:
    urls = [organization.url for organization in (*ORGANIZATIONS, NETWORK)]
    urls += [link.url for meeting in MEETINGS for link in meeting.links]
    urls += [promotion.url for promotion in PROMOTIONS]
    return urls


def test_thirty_members() -> None:
    assert len(ORGANIZATIONS) == 30


def test_member_names_follow_the_page_in_its_order() -> None:
    assert [organization.name_ja for organization in ORGANIZATIONS] == PAGE_MEMBERS


def test_slugs_are_unique_and_well_formed() -> None:
    slugs = [organization.slug for organization in (*ORGANIZATIONS, NETWORK)]
    assert len(set(slugs)) == len(slugs)
    assert all(SLUG.match(slug) for slug in slugs), slugs


def test_member_kinds_are_allowed() -> None:
    assert {organization.kind for organization in ORGANIZATIONS} <= MEMBER_KINDS


@pytest.mark.parametrize("organization", [*ORGANIZATIONS, NETWORK], ids=lambda o: o.slug)
def test_every_organization_text_is_filled_in(organization: OrganizationData) -> None:
    for field in ("name_en", "greeting_ja", "greeting_en", "contact_ja", "contact_en"):
        assert getattr(organization, field).strip(), field


def test_network_is_the_secretariats_own_rendition() -> None:
    assert NETWORK.slug == "network"
    assert NETWORK.kind == "network"
    assert NETWORK.name_ja == "中堅・中小企業海外安全対策ネットワーク"
    assert NETWORK.url == "https://www.anzen.mofa.go.jp/"


def test_thirteen_meetings_eight_plenary_five_secretariat() -> None:
    assert len(MEETINGS) == 13
    plenary = [meeting.number for meeting in MEETINGS if meeting.kind == "plenary"]
    secretariat = [meeting.number for meeting in MEETINGS if meeting.kind == "secretariat"]
    assert sorted(plenary) == list(range(1, 9))
    assert sorted(secretariat) == list(range(1, 6))


def test_meeting_dates_and_formats_match_the_table() -> None:
    found = {(meeting.kind, meeting.number): (meeting.held_on, meeting.format) for meeting in MEETINGS}
    assert found == MEETING_TABLE


@pytest.mark.parametrize("meeting", MEETINGS, ids=lambda m: f"{m.kind}-{m.number}")
def test_every_meeting_has_summaries_and_a_link(meeting: MeetingData) -> None:
    assert meeting.summary_ja.strip()
    assert meeting.summary_en.strip()
    assert meeting.links


def test_plenaries_name_who_opened_them_and_secretariat_meetings_do_not() -> None:
    for meeting in MEETINGS:
        if meeting.kind == "plenary":
            assert meeting.opened_by_ja
            assert meeting.opened_by_en
        else:
            assert (meeting.opened_by_ja, meeting.opened_by_en) == ("", "")


def test_summaries_keep_the_key_facts() -> None:
    summaries = {(meeting.kind, meeting.number): meeting.summary_ja for meeting in MEETINGS}
    assert "冊子" in summaries["plenary", 2]
    assert "海外コンサルタンツ協会" in summaries["plenary", 4]
    assert "30" in summaries["plenary", 4]
    assert "メールマガジン" in summaries["plenary", 7]
    assert "SNS" in summaries["plenary", 7]
    assert summaries["secretariat", 1].count("\n- ") == 5
    assert "ERT" in summaries["secretariat", 4]


def test_summer_safety_month_is_yearly_july_and_august() -> None:
    summer = next(promotion for promotion in PROMOTIONS if promotion.slug == "summer-safety-month")
    assert summer.yearly
    assert summer.starts_on is not None
    assert summer.ends_on is not None
    assert (summer.starts_on.month, summer.starts_on.day) == (7, 1)
    assert (summer.ends_on.month, summer.ends_on.day) == (8, 31)


def test_only_the_summer_month_is_yearly() -> None:
    assert [promotion.slug for promotion in PROMOTIONS if promotion.yearly] == ["summer-safety-month"]


def test_promotion_slugs_and_positions_do_not_repeat() -> None:
    slugs = [promotion.slug for promotion in PROMOTIONS]
    positions = [promotion.position for promotion in PROMOTIONS]
    assert len(set(slugs)) == len(slugs)
    assert all(SLUG.match(slug) for slug in slugs), slugs
    assert positions == sorted(set(positions))


def test_promotion_windows_are_in_order() -> None:
    for promotion in PROMOTIONS:
        if promotion.starts_on is not None and promotion.ends_on is not None:
            assert promotion.starts_on <= promotion.ends_on, promotion.slug


def test_promotion_texts_are_filled_in() -> None:
    for promotion in PROMOTIONS:
        for text in (promotion.title_ja, promotion.title_en, promotion.body_ja, promotion.body_en):
            assert text.strip(), promotion.slug


def test_every_url_is_https() -> None:
    bad = [url for url in _all_urls() if not url.startswith("https://")]
    assert not bad


# The keys as they were when the data moved from Python literals to TOML (compared then field by field).
MEMBER_SLUGS = [
    "enaa", "ocaji", "ecfa", "josa", "mofa", "fsa", "meti", "doyukai", "jica", "jbic",
    "jpf", "shokochukin", "zenginkyo", "shokokai", "shinkin", "shinkumi", "nga", "chuokai", "smrj", "chusho",
    "jmc", "keidanren", "joea", "jcci", "jfc", "sonpo", "jftc", "jetro", "nexi", "jata",
]  # fmt: skip
PROMOTION_WINDOWS = [
    ("golgo13-manual", 10, date(2017, 6, 30), None),
    ("tabireg", 20, None, None),
    ("residence-registration", 30, None, None),
    ("overseas-safety-website", 40, None, None),
    ("safety-quiz", 50, date(2019, 4, 1), None),
    ("safety-seminars", 60, None, None),
    ("summer-safety-month", 70, date(2000, 7, 1), date(2000, 8, 31)),
    ("awareness-flyer", 80, date(2024, 1, 31), None),
]


def test_member_slugs_are_those_the_network_has_always_used() -> None:
    assert [organization.slug for organization in ORGANIZATIONS] == MEMBER_SLUGS


def test_promotions_keep_their_order_and_windows() -> None:
    found = [(p.slug, p.position, p.starts_on, p.ends_on) for p in PROMOTIONS]
    assert found == PROMOTION_WINDOWS


def test_summaries_keep_their_paragraphs_and_lose_the_surrounding_blank_lines() -> None:
    first = MEETINGS[0]
    assert first.summary_ja.count("\n\n") == first.summary_en.count("\n\n") == 1
    texts = [text for meeting in MEETINGS for text in (meeting.summary_ja, meeting.summary_en)]
    texts += [text for promotion in PROMOTIONS for text in (promotion.body_ja, promotion.body_en)]
    assert all(text == text.strip() for text in texts)


def test_the_first_plenary_links_the_network_page_and_the_launch_press_release() -> None:
    assert [link.url for link in MEETINGS[0].links] == [
        "https://www.anzen.mofa.go.jp/anzen_info/network.html",
        "https://www.mofa.go.jp/mofaj/press/release/press4_003709.html",
    ]


def test_the_module_names_are_the_packaged_data_read_once() -> None:
    data = packaged_network()
    assert (data.network, data.organizations, data.promotions) == (NETWORK, ORGANIZATIONS, PROMOTIONS)
    assert network.MEETINGS is data.meetings
    assert packaged_network() is data
    assert load_network(DATA_DIR) == data
    with pytest.raises(AttributeError):
        _ = network.NO_SUCH_NAME


def test_the_packaged_folder_holds_exactly_the_data_files() -> None:
    places = "countries.toml"  # the ministry's country codes, read by outreach.alerts.places
    assert sorted(path.name for path in DATA_DIR.iterdir()) == sorted([*DATA_FILES, places])


# --- broken files: each names the file, the entry and the field ---------------------------------------------


def _copy_with(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the packaged data with the first `old` in `file` replaced by `new`."""
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old  # the edit below must really happen
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


ENAA_GREETING = 'greeting_ja = "エンジニアリング協会より'
ENAA_CONTACT = 'contact_en = "Questions about this email: the department in charge of this email at the Engi'
# (file, old text, new text, entry, field, part of the problem)
BROKEN = {
    "date-in-quotes": (
        "meetings.toml", "held_on = 2016-09-27", 'held_on = "2016-09-27"',
        "[[meetings]] #1 (plenary:1)", "held_on", "without quotes",
    ),
    "date-with-a-time": (
        "meetings.toml", "held_on = 2016-09-27", "held_on = 2016-09-27T10:00:00",
        "[[meetings]] #1 (plenary:1)", "held_on", "a TOML date",
    ),
    "unknown-field": (
        "organizations.toml", ENAA_GREETING, ENAA_GREETING.replace("greeting", "greting"),
        "[[members]] #1 (enaa)", "greting_ja", "unknown field",
    ),
    "misspelt-field-named-before-the-missing-one": (
        "organizations.toml", ENAA_CONTACT, ENAA_CONTACT.replace("contact_en", "contact_eng"),
        "[[members]] #1 (enaa)", "contact_eng", "unknown field",
    ),
    "duplicate-slug": (
        "organizations.toml", 'slug = "ocaji"', 'slug = "enaa"',
        "[[members]] #2 (enaa)", "slug", "'enaa' appears more than once",
    ),
    "member-takes-the-networks-slug": (
        "organizations.toml", 'slug = "enaa"', 'slug = "network"',
        "[[members]] #1 (network)", "slug", "appears more than once",
    ),
    "slug-with-capitals": (
        "organizations.toml", 'slug = "enaa"', 'slug = "ENAA"',
        "[[members]] #1 (ENAA)", "slug", "lower-case letters",
    ),
    "unknown-kind": (
        "organizations.toml", 'kind = "association"', 'kind = "club"',
        "[[members]] #1 (enaa)", "kind", "ministry, agency, association",
    ),
    "network-renamed": (
        "organizations.toml", 'slug = "network"', 'slug = "secretariat"',
        "[network]", "slug", "must be 'network'",
    ),
    "duplicate-meeting": (
        "meetings.toml", "number = 2\n", "number = 1\n",
        "[[meetings]] #2 (plenary:1)", "number", "'plenary:1' appears more than once",
    ),
    "unknown-format": (
        "meetings.toml", 'format = "in_person"', 'format = "in person"',
        "[[meetings]] #1 (plenary:1)", "format", "in_person, online, hybrid",
    ),
    "link-without-scheme": (
        "meetings.toml", 'url = "https://www.mofa.go.jp/mofaj/press', 'url = "www.mofa.go.jp/mofaj/press',
        "[[meetings]] #1 (plenary:1) link #2", "url", "http(s) URL",
    ),
    "true-is-no-number": (
        "promotions.toml", "position = 10", "position = true",
        "[[promotions]] #1 (golgo13-manual)", "position", "a whole number",
    ),
    "yearly-open-ended": (
        "promotions.toml", "ends_on = 2000-08-31\n", "",
        "[[promotions]] #7 (summer-safety-month)", "yearly", "both starts_on and ends_on",
    ),
    "window-backwards": (
        "promotions.toml", "starts_on = 2024-01-31", "starts_on = 2024-01-31\nends_on = 2023-12-31",
        "[[promotions]] #8 (awareness-flyer)", "ends_on", "before starts_on",
    ),
    "blank-title": (
        "promotions.toml", 'title_en = "Tabireg, MOFA\'s travel registration"', 'title_en = "   "',
        "[[promotions]] #2 (tabireg)", "title_en", "is empty",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("file", "old", "new", "entry", "field", "problem"), BROKEN.values(), ids=BROKEN)
def test_a_broken_entry_names_file_entry_and_field(
    tmp_path: Path, file: str, old: str, new: str, entry: str, field: str, problem: str
) -> None:
    folder = _copy_with(tmp_path, file, old, new)

    with pytest.raises(NetworkDataError) as raised:
        load_network(folder)

    error = raised.value
    assert isinstance(error, InvalidInput)
    assert (error.source, error.entry, error.field) == (folder / file, entry, field)
    assert problem in error.problem
    assert str(error).startswith(f"{folder / file}: {entry}: {field}: ")
    assert "\n" not in str(error)


def test_a_missing_required_field_is_named(tmp_path: Path) -> None:
    old = 'greeting_ja = "海外建設協会より'
    folder = _copy_with(tmp_path, "organizations.toml", old, "# " + old)

    with pytest.raises(NetworkDataError) as raised:
        load_network(folder)

    error = raised.value
    assert (error.entry, error.field, error.problem) == (
        "[[members]] #2 (ocaji)",
        "greeting_ja",
        "is missing",
    )


NOT_TOML = {
    "no-such-day": ("held_on = 2017-06-30", "held_on = 2017-02-30", "held_on = 2017-02-30"),
    "unclosed-quote": ('kind = "plenary"\nnumber = 2', 'kind = "plenary\nnumber = 2', 'kind = "plenary'),
}


@pytest.mark.parametrize(("old", "new", "quoted"), NOT_TOML.values(), ids=NOT_TOML)
def test_a_file_that_is_not_toml_is_named_with_its_line(
    tmp_path: Path, old: str, new: str, quoted: str
) -> None:
    folder = _copy_with(tmp_path, "meetings.toml", old, new)

    with pytest.raises(NetworkDataError) as raised:
        load_network(folder)

    assert raised.value.source == folder / "meetings.toml"
    assert "not valid TOML" in raised.value.problem
    assert re.search(r"at line \d+", raised.value.problem)
    assert raised.value.problem.endswith(quoted)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    folder = _copy_with(tmp_path, "promotions.toml", "[[promotions]]", "[[promotions]]")
    (folder / "promotions.toml").unlink()

    with pytest.raises(NetworkDataError) as raised:
        load_network(folder)

    assert (raised.value.source, raised.value.problem) == (folder / "promotions.toml", "no such file")


def test_an_unknown_table_is_named(tmp_path: Path) -> None:
    folder = _copy_with(tmp_path, "meetings.toml", "[[meetings]]", "[notes]\ntext = 'x'\n\n[[meetings]]")

    with pytest.raises(NetworkDataError) as raised:
        load_network(folder)

    assert raised.value.problem.startswith("unknown table or key 'notes'")
