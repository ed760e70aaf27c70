"""A poll end to end against a local HTTP feed and real databases: each entry stored once, every poll recorded
(ok, unchanged, error), failures survived, and the change, rule, action and state of each entry decided."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from outreach.alerts.dispatch import NOBODY
from outreach.alerts.errors import FeedError, FeedInvalid, FeedUnavailable
from outreach.alerts.models import AlertPlace, AlertPoll, AlertState, SafetyAlert
from outreach.alerts.poll import PollReport, poll
from outreach.alerts.rules import parse_rules
from outreach.alerts.settings import AlertMode, AlertSettings
from outreach.config import Settings
from outreach.db import Database
from tests.conftest import snapshot
from tests.feed_server import FIXTURES, FeedServer

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # 21:00 JST, after the third state's last entry


def _alerts(feed: str, **changes: object) -> AlertSettings:
    return replace(AlertSettings(feed=feed, timeout=2.0, max_bytes=1 << 20), **changes)  # type: ignore[arg-type]


def _poll(db: Database, site: Settings, alerts: AlertSettings, *, feed: str | None = None,
          now: datetime = NOW) -> PollReport:  # fmt: skip
    return asyncio.run(poll(db, site, alerts, feed=feed, now=now, actor="test"))


def _alerts_by_key(db: Database) -> dict[str, SafetyAlert]:
    with db.session() as session:
        return {alert.key: alert for alert in session.scalars(select(SafetyAlert))}


def _polls(db: Database) -> list[AlertPoll]:
    with db.session() as session:
        return list(session.scalars(select(AlertPoll).order_by(AlertPoll.id)))


def _count(db: Database, model: type[SafetyAlert] | type[AlertPlace]) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- stored once; every poll recorded --------------------------------------------------------------------


def test_three_states_of_the_feed_store_each_entry_once(seeded_db: Database, settings: Settings) -> None:
    with FeedServer() as server:
        alerts = _alerts(server.url())
        first = _poll(seeded_db, settings, alerts)
        again = _poll(seeded_db, settings, alerts)
        server.state = "newarrival_2.xml"
        second = _poll(seeded_db, settings, alerts)
        server.state = "newarrival_3.xml"
        third = _poll(seeded_db, settings, alerts)
        third_again = _poll(seeded_db, settings, alerts)

    assert (first.result, first.entries, first.new, first.skipped) == ("ok", 4, 4, 1)
    assert (again.result, again.http_status, again.new) == ("unchanged", 304, 0)
    assert (second.result, second.entries, second.new) == ("ok", 6, 2)
    assert (third.result, third.entries, third.new) == ("ok", 7, 2)
    assert third_again.result == "unchanged"
    assert sorted(_alerts_by_key(seeded_db)) == sorted(
        ["2026T050", "2026C101", "170001", "160900", "2026C102", "170002", "2026T051", "2026T052"]
    )
    polls = _polls(seeded_db)
    assert [(p.result, p.http_status, p.entries, p.new) for p in polls] == [
        ("ok", 200, 4, 4), ("unchanged", 304, 0, 0), ("ok", 200, 6, 2), ("ok", 200, 7, 2),
        ("unchanged", 304, 0, 0),
    ]  # fmt: skip
    assert polls[0].etag
    assert polls[0].last_modified
    assert polls[0].finished_at is not None
    assert polls[2].detail == "6 entries, 2 new (now 1, digest 1); 1 without a key skipped"
    assert server.requests[1].headers["if-none-match"] == polls[0].etag


def test_the_entries_places_are_stored(seeded_db: Database, settings: Settings) -> None:
    _poll(seeded_db, settings, _alerts(str(FIXTURES / "newarrival_2.xml")))

    with seeded_db.session() as session:
        places = {
            alert.key: [(place.area_code, place.country_code, place.name) for place in alert.places]
            for alert in session.scalars(select(SafetyAlert))
        }
    assert places["170002"] == [("10", "0063", "フィリピン"), ("10", "0062", "インドネシア")]
    assert places["2026C102"] == [("10", "", "アジア"), ("20", "", "大洋州")]
    assert places["2026T050"] == [("10", "0095", "ミャンマー")]


def test_a_file_polled_twice_stores_nothing_twice(seeded_db: Database, settings: Settings) -> None:
    alerts = _alerts(str(FIXTURES / "newarrival_1.xml"))
    first = _poll(seeded_db, settings, alerts)
    rows = _count(seeded_db, SafetyAlert), _count(seeded_db, AlertPlace)
    second = _poll(seeded_db, settings, alerts)

    assert (first.new, second.new, second.entries) == (4, 0, 4)
    assert (_count(seeded_db, SafetyAlert), _count(seeded_db, AlertPlace)) == rows == (4, 4)


def test_two_pollers_at_once_store_each_entry_once(seeded_db: Database, settings: Settings) -> None:
    alerts = _alerts(str(FIXTURES / "newarrival_3.xml"))
    start = threading.Barrier(2)
    reports: list[PollReport] = []

    def poller() -> None:
        start.wait()
        reports.append(_poll(seeded_db, settings, alerts))

    threads = [threading.Thread(target=poller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(reports) == 2
    assert sum(report.new for report in reports) == 7
    assert _count(seeded_db, SafetyAlert) == 7


# --- failures: recorded, nothing half-stored, the next poll works ----------------------------------------


@pytest.mark.parametrize(
    ("path", "error", "status", "detail"),
    [
        ("/fixture/malformed.xml", FeedInvalid, 200, "not well-formed XML (mismatched tag: line 6"),
        ("/fixture/bomb.xml", FeedInvalid, 200, "refused unread: it declares a document type (DTD)"),
        ("/fixture/maintenance.html", FeedInvalid, 200, "a web page came"),
        ("/500", FeedUnavailable, 500, "HTTP 500 Internal Server Error"),
        ("/hang", FeedUnavailable, None, "no complete answer within 0.5 s"),
        ("/huge.xml", FeedUnavailable, 200, "larger than OUTREACH_ALERTS_MAX_BYTES (1,048,576 bytes)"),
    ],
)
def test_a_failure_is_recorded_changes_nothing_else_and_the_next_poll_works(
    seeded_db: Database,
    settings: Settings,
    path: str,
    error: type[FeedError],
    status: int | None,
    detail: str,
) -> None:
    with FeedServer() as server:
        alerts = _alerts(server.url(), timeout=0.5)
        _poll(seeded_db, settings, alerts)
        before = {name: rows for name, rows in snapshot(seeded_db).items() if name != "alert_polls"}
        with pytest.raises(error) as failed:
            _poll(seeded_db, settings, alerts, feed=server.url(path))
        after = {name: rows for name, rows in snapshot(seeded_db).items() if name != "alert_polls"}
        server.state = "newarrival_2.xml"
        following = _poll(seeded_db, settings, alerts)

    assert detail in str(failed.value)
    assert after == before
    record = _polls(seeded_db)[1]
    assert (record.url, record.result, record.http_status) == (server.url(path), "error", status)
    assert detail in record.detail
    assert record.finished_at is not None
    assert (following.result, following.new) == ("ok", 2)


def test_a_bad_file_at_the_feeds_own_url_leaves_the_last_good_validators(
    seeded_db: Database, settings: Settings
) -> None:
    with FeedServer() as server:
        alerts = _alerts(server.url())
        _poll(seeded_db, settings, alerts)
        server.state = "malformed.xml"
        with pytest.raises(FeedInvalid):
            _poll(seeded_db, settings, alerts)
        server.state = "newarrival_1.xml"
        unchanged = _poll(seeded_db, settings, alerts)  # asks with the first poll's validators

    first = _polls(seeded_db)[0]
    assert server.requests[2].headers["if-none-match"] == first.etag
    assert unchanged.result == "unchanged"


# --- the decisions ---------------------------------------------------------------------------------------


def test_each_entry_gets_its_change_rule_action_and_state(seeded_db: Database, settings: Settings) -> None:
    for state in (1, 2, 3):
        _poll(seeded_db, settings, _alerts(str(FIXTURES / f"newarrival_{state}.xml")))

    # Nobody subscribes here: what the rules send now, the dispatch after each poll records instead.
    decided = {key: (a.change, a.rule, a.action, a.state) for key, a in _alerts_by_key(seeded_db).items()}
    assert decided == {
        "2026T050": ("same", "risk-same", "digest", "waiting"),  # no history: its title says 継続
        "2026C101": ("", "spot", "now", "recorded"),
        "170001": ("", "embassy-general", "digest", "waiting"),
        "160900": ("", "embassy-general", "digest", "recorded"),  # ten days old
        "2026C102": ("", "wide-area", "digest", "waiting"),
        "170002": ("", "embassy-urgent", "now", "recorded"),
        "2026T051": ("raised", "risk-raised", "now", "recorded"),  # level 4 flagged; T050's highest was 3
        "2026T052": ("lowered", "infection-lowered", "digest", "waiting"),  # T81, its title says 引き下げ
    }
    assert (
        _alerts_by_key(seeded_db)["160900"].note
        == "older than 24 h when it arrived: a first poll sends no history"
    )


def _risk_feed(tmp_path: Path, key: str, levels: tuple[int, ...], title: str, leave: str) -> str:
    flags = "".join(f"<riskLevel{n}>{int(n in levels)}</riskLevel{n}>" for n in range(1, 5))
    path = tmp_path / f"{key}.xml"
    path.write_text(
        f'<opendata dataType="A"><mail><keyCd>{key}</keyCd><infoType>T40</infoType>'
        f"<leaveDate>{leave}</leaveDate>"
        f'<area><cd>10</cd></area><country areaCd="10"><cd>0095</cd></country><title>{title}</title>{flags}'
        "</mail></opendata>",
        encoding="utf-8",
    )
    return str(path)


@pytest.mark.parametrize(
    ("levels", "title", "change", "action"),
    [
        (
            (2,),
            "ミャンマーの危険情報【危険レベル引き上げ】",
            "lowered",
            "digest",
        ),  # the flags win over the words
        ((2, 3), "ミャンマーの危険情報", "same", "digest"),
        ((1, 2, 3, 4), "ミャンマーの危険情報", "raised", "now"),
        ((), "ミャンマーの危険情報【危険レベル解除】", "lowered", "digest"),
    ],
)
def test_a_level_is_compared_with_the_last_entry_for_the_same_country(
    seeded_db: Database,
    settings: Settings,
    tmp_path: Path,
    levels: tuple[int, ...],
    title: str,
    change: str,
    action: str,
) -> None:
    _poll(seeded_db, settings, _alerts(str(FIXTURES / "newarrival_1.xml")))  # T050: levels 2 and 3
    _poll(
        seeded_db, settings, _alerts(_risk_feed(tmp_path, "2026T060", levels, title, "2026/11/30 20:00:00"))
    )

    alert = _alerts_by_key(seeded_db)["2026T060"]
    assert (alert.change, alert.action) == (change, action)


@pytest.mark.parametrize(
    ("title", "change"),
    [("ミャンマーの危険情報【レベル引き下げ】", "lowered"), ("ミャンマーの危険情報", "raised")],
)
def test_with_no_history_the_title_decides_and_else_raised(
    seeded_db: Database, settings: Settings, tmp_path: Path, title: str, change: str
) -> None:
    _poll(seeded_db, settings, _alerts(_risk_feed(tmp_path, "2026T061", (2,), title, "2026/11/30 20:00:00")))

    assert _alerts_by_key(seeded_db)["2026T061"].change == change


def test_an_earlier_entry_is_not_compared_with_a_later_one(
    seeded_db: Database, settings: Settings, tmp_path: Path
) -> None:
    _poll(
        seeded_db,
        settings,
        _alerts(_risk_feed(tmp_path, "2026T070", (4,), "危険情報", "2026/11/30 20:00:00")),
    )
    _poll(
        seeded_db,
        settings,
        _alerts(_risk_feed(tmp_path, "2026T069", (2,), "危険情報", "2026/11/30 19:00:00")),
    )

    assert (
        _alerts_by_key(seeded_db)["2026T069"].change == "raised"
    )  # no history before it; the title says nothing


def test_off_records_everything_and_says_why(seeded_db: Database, settings: Settings) -> None:
    report = _poll(seeded_db, settings, _alerts(str(FIXTURES / "newarrival_2.xml"), mode=AlertMode.OFF))

    alerts = _alerts_by_key(seeded_db).values()
    assert {alert.state for alert in alerts} == {AlertState.RECORDED}
    assert {alert.note for alert in alerts if alert.key != "160900"} == {"OUTREACH_ALERTS=off"}
    assert report.recorded == report.new == 6
    assert "6 recorded only" in report.describe()


def test_a_first_poll_long_after_sends_no_history(seeded_db: Database, settings: Settings) -> None:
    later = NOW + timedelta(days=3)
    _poll(seeded_db, settings, _alerts(str(FIXTURES / "newarrival_3.xml")), now=later)

    alerts = _alerts_by_key(seeded_db).values()
    assert {alert.state for alert in alerts} == {AlertState.RECORDED}
    assert {alert.note for alert in alerts} == {
        "older than 24 h when it arrived: a first poll sends no history"
    }


def test_the_rules_setting_changes_the_action(seeded_db: Database, settings: Settings) -> None:
    rules = parse_rules("spot=record,wide-area=now")
    _poll(seeded_db, settings, _alerts(str(FIXTURES / "newarrival_2.xml"), rules=rules))

    alerts = _alerts_by_key(seeded_db)
    assert (alerts["2026C101"].action, alerts["2026C101"].state) == ("record", "recorded")
    assert alerts["2026C101"].note == "the rules: spot=record"
    assert (alerts["2026C102"].action, alerts["2026C102"].state) == ("now", "recorded")
    assert alerts["2026C102"].note == NOBODY  # nobody subscribes here
