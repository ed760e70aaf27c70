"""Reading the feed: the parser on the fixtures (three states of newarrival, a country file, bad files), and
the fetch against a real local HTTP server (conditional requests, failures, the size cap, the time-out)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from outreach.alerts.errors import FeedInvalid, FeedUnavailable
from outreach.alerts.fetch import Validators, fetch_feed
from outreach.alerts.parse import Place, parse_feed, parse_jst
from tests.feed_server import FIXTURES, FeedServer


def _parse(name: str):  # type: ignore[no-untyped-def]
    return parse_feed((FIXTURES / name).read_bytes(), source=name)


# --- the parser --------------------------------------------------------------------------------------------


def test_each_entry_of_the_first_state_is_read_with_its_fields() -> None:
    feed = _parse("newarrival_1.xml")

    assert [entry.key for entry in feed.entries] == ["2026T050", "2026C101", "170001", "160900"]
    assert feed.skipped == 1  # the <mail> with an empty keyCd
    assert feed.data_type == "A"
    assert feed.last_modified == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    risk = feed.entries[0]
    assert risk.info_type == "T40"
    assert risk.info_name == "危険情報"
    assert risk.published_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 17:00 JST
    assert risk.places == (Place("10", "0095", "ミャンマー", "アジア"),)
    assert risk.title.startswith("ミャンマーの危険情報")
    assert risk.main_text == "（試験用の本文）"
    assert risk.url.endswith("pchazardspecificinfo_2026T050.html")
    assert (risk.mission_code, risk.mission_name) == ("609A", "在ミャンマー日本国大使館")
    assert risk.risk_levels == (2, 3)
    assert risk.infection_levels == ()


def test_the_later_states_add_entries_and_the_third_drops_the_oldest() -> None:
    first, second, third = (_parse(f"newarrival_{n}.xml") for n in (1, 2, 3))
    keys = [{entry.key for entry in feed.entries} for feed in (first, second, third)]

    assert keys[1] - keys[0] == {"2026C102", "170002"}
    assert keys[0] <= keys[1]
    assert keys[2] - keys[1] == {"2026T051", "2026T052"}
    assert keys[1] - keys[2] == {"160900"}


def test_several_countries_and_a_region_without_a_country_are_places() -> None:
    entries = {entry.key: entry for entry in _parse("newarrival_2.xml").entries}

    assert entries["170002"].places == (
        Place("10", "0063", "フィリピン", "アジア"),
        Place("10", "0062", "インドネシア", "アジア"),
    )
    assert entries["2026C102"].places == (
        Place("10", "", "アジア", "アジア"),
        Place("20", "", "大洋州", "大洋州"),
    )


def test_infection_levels_are_read_from_their_own_flags() -> None:
    entry = next(entry for entry in _parse("newarrival_3.xml").entries if entry.key == "2026T052")

    assert entry.info_type == "T81"
    assert entry.infection_levels == (1,)
    assert entry.risk_levels == ()


def test_a_country_files_entries_without_a_place_concern_its_country() -> None:
    feed = _parse("country_0095.xml")

    assert [entry.key for entry in feed.entries] == ["2026T051", "2026C095"]  # the summary is no entry
    assert {entry.places for entry in feed.entries} == {(Place("10", "0095", "ミャンマー", "アジア"),)}
    assert feed.entries[1].published_at == datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # the day alone, JST


def test_flags_spelled_y_count_and_missing_elements_are_empty() -> None:
    feed = parse_feed(
        b"<opendata><mail><keyCd>1</keyCd><riskLevel1>Y</riskLevel1><riskLevel2>N</riskLevel2>"
        b"<extra><deep/></extra></mail><mail><keyCd>1</keyCd><title>again</title></mail></opendata>"
    )

    [entry] = feed.entries  # a key twice in one file: the first
    assert entry.risk_levels == (1,)
    assert (entry.title, entry.info_type, entry.places, entry.published_at) == ("", "", (), None)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("malformed.xml", "not well-formed XML (mismatched tag: line 6"),
        ("bomb.xml", "refused unread: it declares a document type (DTD)"),
        ("external.xml", "refused unread: it declares a document type (DTD)"),
        ("maintenance.html", "a web page came"),
    ],
)
def test_a_bad_file_is_refused_in_one_line(name: str, words: str) -> None:
    with pytest.raises(FeedInvalid) as refused:
        _parse(name)

    assert words in str(refused.value)
    assert str(refused.value).startswith(f"{name}: ")
    assert "\n" not in str(refused.value)


def test_a_bomb_is_refused_before_it_expands() -> None:
    started = time.monotonic()
    with pytest.raises(FeedInvalid):
        _parse("bomb.xml")
    assert time.monotonic() - started < 1.0  # expanded, it would be 10**9 "lol"s


def test_another_root_is_not_the_open_data() -> None:
    with pytest.raises(FeedInvalid, match="the root element is <rss>"):
        parse_feed(b"<rss><channel/></rss>", source="x")


def test_leave_dates_are_japan_time() -> None:
    assert parse_jst("2026/01/01 00:30:00") == datetime(2025, 12, 31, 15, 30, tzinfo=UTC)
    assert parse_jst("not a date") is None


# --- the fetch ---------------------------------------------------------------------------------------------


def _fetch(url: str, validators: Validators | None = None, *, timeout: float = 5, max_bytes: int = 1 << 20):  # type: ignore[no-untyped-def]
    given = validators or Validators()
    return asyncio.run(fetch_feed(url, validators=given, timeout=timeout, max_bytes=max_bytes))


def test_a_fetch_sends_the_validators_back_and_an_unchanged_file_is_a_304() -> None:
    with FeedServer() as server:
        first = _fetch(server.url())
        again = _fetch(server.url(), first.validators)
        server.state = "newarrival_2.xml"
        changed = _fetch(server.url(), first.validators)

    assert first.status == 200
    assert first.body == (FIXTURES / "newarrival_1.xml").read_bytes()
    assert first.validators.etag
    assert first.validators.last_modified
    assert server.requests[1].headers["if-none-match"] == first.validators.etag
    assert server.requests[1].headers["if-modified-since"] == first.validators.last_modified
    assert (again.status, again.body, again.unchanged) == (304, None, True)
    assert changed.status == 200
    assert changed.body == (FIXTURES / "newarrival_2.xml").read_bytes()
    assert changed.validators.etag != first.validators.etag


def test_a_redirect_is_followed_and_a_loop_is_refused() -> None:
    with FeedServer() as server:
        moved = _fetch(server.url("/redirect"))
        with pytest.raises(FeedUnavailable, match="more than 3 redirects"):
            _fetch(server.url("/loop"))

    assert moved.body == (FIXTURES / "newarrival_1.xml").read_bytes()


def test_an_http_error_is_one_line_with_its_status() -> None:
    with FeedServer() as server, pytest.raises(FeedUnavailable) as failed:
        _fetch(server.url("/500"))

    assert failed.value.status == 500
    assert str(failed.value) == f"{server.url('/500')}: HTTP 500 Internal Server Error"


def test_no_answer_within_the_time_out_is_refused_in_time() -> None:
    with FeedServer() as server:
        started = time.monotonic()
        with pytest.raises(FeedUnavailable, match=r"no complete answer within 0.3 s"):
            _fetch(server.url("/hang"), timeout=0.3)
        waited = time.monotonic() - started

    assert waited < 5


def test_a_huge_file_is_refused_while_it_streams_in() -> None:
    with FeedServer() as server, pytest.raises(FeedUnavailable) as refused:
        _fetch(server.url("/huge.xml"), max_bytes=1 << 20)

    assert str(refused.value) == (
        f"{server.url('/huge.xml')}: larger than OUTREACH_ALERTS_MAX_BYTES (1,048,576 bytes): "
        "refused while it streamed in"
    )  # it announced no length: the client counted, and stopped at the first chunk past the cap


def test_a_file_is_read_from_disk_and_a_missing_one_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    read = _fetch(str(FIXTURES / "newarrival_1.xml"))
    with pytest.raises(FeedUnavailable, match="cannot read the file: No such file or directory"):
        _fetch(str(tmp_path / "missing.xml"))
    with pytest.raises(FeedUnavailable, match="larger than OUTREACH_ALERTS_MAX_BYTES"):
        _fetch(str(FIXTURES / "newarrival_1.xml"), max_bytes=100)

    assert read.body == (FIXTURES / "newarrival_1.xml").read_bytes()
    assert read.status is None


def test_a_refused_connection_is_one_line() -> None:
    from tests.smtp_server import free_port

    with pytest.raises(FeedUnavailable, match="ConnectError"):
        _fetch(f"http://127.0.0.1:{free_port()}/feed.xml")
