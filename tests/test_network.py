"""The network's data against its public page: members, meetings and promoted tools."""

from __future__ import annotations

import re
from datetime import date

import pytest

from outreach.network import MEETINGS, NETWORK, ORGANIZATIONS, PROMOTIONS, MeetingData, OrganizationData

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
