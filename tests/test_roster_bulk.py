"""A roster imported in bulk (subscribers.roster_writer, through the use case the CLI and the console call):
files of several batches keep every rule of the row-by-row import, counted from the database. Also: the fast
paths of the reader give exactly what the full checks give."""

from __future__ import annotations

import asyncio
import io
import itertools
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from outreach.alerts.models import SubscriberPlace
from outreach.alerts.places import parse_places
from outreach.config import Settings, SmtpRelay
from outreach.db import Database
from outreach.errors import InvalidInput, RosterError
from outreach.models import ConsentEvent, Organization, Subscriber, SubscriberStatus
from outreach.usecases import rosters
from outreach.usecases.rosters import RosterImport
from subscribers.addresses import normalize_address
from subscribers.consent import ConsentSource, Origin
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.places import places_of, replace_places
from subscribers.read_ahead import read_ahead
from subscribers.roster import ImportConsent, clean_text
from subscribers.roster import _plain_address as plain_address
from subscribers.settings import SubscriptionSettings
from subscribers.subscriptions import Subscriptions
from tests.conftest import snapshot
from tests.smtp_server import SmtpServer

BATCH = 1_000
ROWS = 2_500  # three batches
HEADER = "email,会社名,氏名,文字コード,国・地域\r\n"


def roster(rows: list[str]) -> bytes:
    return (HEADER + "".join(f"{row}\r\n" for row in rows)).encode("utf-8-sig")


def new_rows(count: int, *, start: int = 0) -> list[str]:
    """New addresses, in upper case now and then (normalised), a country on every third."""
    return [
        f"{'USER' if i % 4 == 0 else 'user'}{i}@example{i % 7}.co.jp,株式会社山田{i},山田　太郎,,"
        f"{'タイ' if i % 3 == 0 else ''}"
        for i in range(start, start + count)
    ]


def run_import(
    subscriptions: Subscriptions,
    data: bytes,
    *,
    consent: ImportConsent = ImportConsent.VOUCHED,
    dry_run: bool = False,
    organization: str = "jetro",
) -> RosterImport:
    return asyncio.run(
        rosters.import_roster(
            subscriptions,
            data,
            organization=organization,
            language="ja",
            consent=consent,
            dry_run=dry_run,
            batch_rows=BATCH,
        )
    )


@pytest.fixture
def subscriptions(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Subscriptions:
    relayed = replace(settings, smtp=SmtpRelay.from_url(smtp_server.url))
    return Subscriptions(seeded_db, relayed, SubscriptionSettings())


@pytest.fixture
def known(seeded_db: Database) -> dict[str, int]:
    """Addresses registered before the import: jetro's in each state, one with countries, another's."""
    origin = Origin(ConsentSource.STAFF)
    with seeded_db.session() as session:
        jetro = organization_or_none(session, "jetro")
        other = session.scalar(select(Organization).where(Organization.slug.not_in(["jetro", "network"])))
        made = {
            "active@example.jp": add_subscriber(session, "active@example.jp", organization=jetro),
            "pending@example.jp": add_subscriber(
                session, "pending@example.jp", organization=jetro, status=SubscriberStatus.PENDING
            ),
            "left@example.jp": add_subscriber(
                session, "left@example.jp", organization=jetro, status=SubscriberStatus.UNSUBSCRIBED
            ),
            "bounced@example.jp": add_subscriber(
                session, "bounced@example.jp", organization=jetro, status=SubscriberStatus.BOUNCED
            ),
            "chosen@example.jp": add_subscriber(session, "chosen@example.jp", organization=jetro),
            "theirs@example.jp": add_subscriber(session, "theirs@example.jp", organization=other),
        }
        session.flush()
        chosen = made["chosen@example.jp"]
        replace_places(session, chosen, parse_places("ベトナム"), origin, now=chosen.created_at)
        return {email: subscriber.id for email, subscriber in made.items()}


def events(db: Database, action: str) -> Counter[int | None]:
    with db.session() as session:
        found = session.scalars(select(ConsentEvent.subscriber_id).where(ConsentEvent.action == action))
        return Counter(found)


def status_of(db: Database, email: str) -> SubscriberStatus:
    with db.session() as session:
        found = session.scalar(select(Subscriber.status).where(Subscriber.email == email))
        assert found is not None, email
        return found


def count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Subscriber)) or 0)


def mixed_roster() -> bytes:
    """New addresses over three batches, the known ones among them (some with a country and a charset)."""
    rows = new_rows(ROWS)
    rows[10] = "Active@Example.jp,,,iso-2022-jp,タイ"
    rows[1_200] = "pending@example.jp,,,,タイ"
    rows[1_300] = "left@example.jp,,,,タイ"
    rows[2_100] = "bounced@example.jp,,,,"
    rows[2_200] = "chosen@example.jp,,,,タイ"
    rows[2_300] = "theirs@example.jp,,,,タイ"
    return roster(rows)


def test_a_vouched_roster_of_several_batches_keeps_every_rule(
    subscriptions: Subscriptions, known: dict[str, int]
) -> None:
    db = subscriptions.db
    before = count(db)
    report = run_import(subscriptions, mixed_roster())
    new = ROWS - 6
    assert (report.rows, report.added, report.activated) == (ROWS, new, 1)
    # active: a charset and a country; pending: made active and a country; chosen: kept as it was
    assert (report.updated, report.unchanged, report.skipped) == (2, 1, 3)
    assert count(db) == before + new
    imported = events(db, "imported")
    assert len(imported) == new + 1, "one event per new or activated address"
    assert set(imported.values()) == {1}
    assert imported[known["pending@example.jp"]] == 1
    assert status_of(db, "pending@example.jp") == SubscriberStatus.ACTIVE
    assert status_of(db, "left@example.jp") == SubscriberStatus.UNSUBSCRIBED, "never brought back"
    assert status_of(db, "bounced@example.jp") == SubscriberStatus.BOUNCED
    with db.session() as session:
        active = session.get(Subscriber, known["active@example.jp"])
        assert active is not None
        assert active.charset == "iso-2022-jp"
        assert [p.token for p in places_of(session, known["chosen@example.jp"])] == ["10-0084"]
        assert places_of(session, known["left@example.jp"]) == []
        assert places_of(session, known["theirs@example.jp"]) == [], "another organization's, untouched"
        given = session.scalar(select(func.count(func.distinct(SubscriberPlace.subscriber_id))))
    with_country = sum(1 for i in range(ROWS) if i % 3 == 0 and i not in (1_200, 1_300, 2_100, 2_200, 2_300))
    assert given == with_country + 3  # the active and pending given theirs, and `chosen` had one before
    assert sum(events(db, "places_changed").values()) == with_country + 2 + 1  # + chosen's own, before


def test_the_same_roster_again_adds_nothing(subscriptions: Subscriptions, known: dict[str, int]) -> None:
    run_import(subscriptions, mixed_roster())
    before = count(subscriptions.db)
    again = run_import(subscriptions, mixed_roster())
    assert (again.added, again.updated, again.activated) == (0, 0, 0)
    assert again.unchanged + again.skipped == ROWS
    assert count(subscriptions.db) == before


def test_a_duplicate_batches_apart_refuses_the_file_and_leaves_the_database_as_it_was(
    subscriptions: Subscriptions, known: dict[str, int]
) -> None:
    rows = new_rows(ROWS)
    rows[2_400] = "USER4@example4.co.jp,,,,"  # the same address as the row on line 6, normalised
    before = snapshot(subscriptions.db)
    with pytest.raises(RosterError) as refused:
        run_import(subscriptions, roster(rows))
    [problem] = refused.value.problems
    assert (problem.line, problem.message) == (2_402, "user4@example4.co.jp is a duplicate of line 6")
    assert snapshot(subscriptions.db) == before


def test_a_bad_line_deep_in_a_large_file_leaves_the_database_as_it_was(
    subscriptions: Subscriptions, known: dict[str, int]
) -> None:
    rows = new_rows(ROWS)
    rows[2_450] = "not an address,,,,"
    rows[2_460] = "ok@example.jp,,,,ナルニア"
    before = snapshot(subscriptions.db)
    with pytest.raises(RosterError) as refused:
        run_import(subscriptions, roster(rows))
    assert [problem.line for problem in refused.value.problems] == [2_452, 2_462]
    assert snapshot(subscriptions.db) == before


def test_rows_written_before_a_late_problem_are_rolled_back(
    subscriptions: Subscriptions, known: dict[str, int]
) -> None:
    """Batches far ahead of the problem are written (by COPY on PostgreSQL) before it is found."""
    rows = new_rows(4 * ROWS)
    rows[-1] = "not an address,,,,"
    before = snapshot(subscriptions.db)
    drawn = event_ids_drawn(subscriptions.db)
    with pytest.raises(RosterError) as refused:
        run_import(subscriptions, roster(rows))
    assert [problem.line for problem in refused.value.problems] == [4 * ROWS + 1]
    assert snapshot(subscriptions.db) == before
    if drawn is not None:  # a sequence is not rolled back: it tells that events were written
        assert (event_ids_drawn(subscriptions.db) or 0) > drawn + ROWS


def event_ids_drawn(db: Database) -> int | None:
    """How far the consent record's ids have gone on PostgreSQL (None on SQLite)."""
    if db.engine.dialect.name != "postgresql":
        return None
    with db.session() as session:
        drawn = session.scalar(text("SELECT last_value FROM consent_events_id_seq"))
    return int(drawn or 0)


def test_a_dry_run_counts_what_the_import_does_and_writes_nothing(
    subscriptions: Subscriptions, known: dict[str, int]
) -> None:
    before = snapshot(subscriptions.db)
    dry = run_import(subscriptions, mixed_roster(), dry_run=True)
    assert snapshot(subscriptions.db) == before
    real = run_import(subscriptions, mixed_roster())
    assert replace(dry, dry_run=False) == real


def test_confirm_makes_new_addresses_pending_and_mails_each_new_and_pending_one_link(
    subscriptions: Subscriptions, known: dict[str, int], smtp_server: SmtpServer
) -> None:
    rows = new_rows(1_200)
    rows[5] = "pending@example.jp,,,,"
    rows[6] = "active@example.jp,,,,"
    report = run_import(subscriptions, roster(rows), consent=ImportConsent.CONFIRM)
    assert (report.added, report.to_confirm, report.activated) == (1_198, 1_199, 0)
    assert status_of(subscriptions.db, "user0@example0.co.jp") == SubscriberStatus.PENDING
    assert status_of(subscriptions.db, "pending@example.jp") == SubscriberStatus.PENDING
    assert sum(events(subscriptions.db, "subscribe_requested").values()) == 1_198
    copies = smtp_server.handler.copies()
    assert len(copies) == 1_199
    assert set(copies.values()) == {1}
    assert "active@example.jp" not in copies


def test_a_file_is_read_as_a_stream_as_the_cli_opens_it(subscriptions: Subscriptions) -> None:
    data = roster(new_rows(ROWS))
    report = asyncio.run(
        rosters.import_roster(
            subscriptions,
            io.BytesIO(data),
            organization="network",
            language="en",
            consent=ImportConsent.VOUCHED,
            batch_rows=BATCH,
        )
    )
    assert report.added == ROWS
    with subscriptions.db.session() as session:
        languages = set(session.scalars(select(Subscriber.language)))
        owners = set(session.scalars(select(Subscriber.organization_id)))
    assert (languages, owners) == ({"en"}, {None})


def test_read_ahead_gives_every_item_in_order() -> None:
    with read_ahead(iter(range(50)), depth=2) as items:
        assert list(items) == list(range(50))


def test_read_ahead_raises_an_error_of_the_reading_where_its_item_would_be() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise RosterError([])

    with read_ahead(failing()) as items:
        assert next(items) == 1
        with pytest.raises(RosterError):
            next(items)


def test_leaving_read_ahead_early_stops_the_reading() -> None:
    read: list[int] = []

    def endless() -> Iterator[int]:
        for count in itertools.count():
            read.append(count)
            yield count

    with read_ahead(endless(), depth=2) as items:
        assert next(items) == 0
    assert len(read) <= 5, "a few ahead at most, and then no more"
    assert not [thread for thread in threading.enumerate() if thread.name == "read-ahead"]


# The reader's fast paths: whatever they accept, the full checks give the same.

_ATOM = st.text(alphabet="abcXYZ019_%+-.!#", min_size=1, max_size=12)
_LABEL = st.text(alphabet="abcXYZ019-", min_size=1, max_size=12)
_TLD = st.one_of(
    st.text(alphabet="abcJPxyz", min_size=1, max_size=5), st.sampled_from(SPECIAL_USE_DOMAIN_NAMES)
)


@given(local=_ATOM, labels=st.lists(_LABEL, min_size=0, max_size=3), tld=_TLD)
def test_a_plain_address_is_what_normalize_address_makes_of_it(
    local: str, labels: list[str], tld: str
) -> None:
    raw = f"{local}@{'.'.join([*labels, tld])}"
    fast = plain_address(raw)
    try:
        full = normalize_address(raw)
    except InvalidInput:
        assert fast is None, raw
        return
    assert fast in (None, full), raw


@pytest.mark.parametrize(
    "raw",
    [
        "a" * 65 + "@example.jp",
        "a@" + "b" * 64 + ".jp",
        "a@" + ".".join(["b" * 60] * 5) + ".jp",
        "a@xn--r8jz45g.jp",
        "a@ab--cd.jp",
        "a@example.123",
        "a@localhost",
        "a@host.test",
        ".a@example.jp",
        "a..b@example.jp",
        " a@example.jp",
    ],
)
def test_what_the_fast_path_leaves_goes_to_the_full_checks(raw: str) -> None:
    assert plain_address(raw) is None


def _clean_text_slowly(raw: str) -> str:
    """clean_text as it reads character by character, for comparison."""
    import re

    def neutral(char: str) -> str:
        category = unicodedata.category(char)
        return " " if category in ("Cc", "Zl", "Zp") else "" if category == "Cf" else char

    text = "".join(neutral(char) for char in raw).strip()
    return re.sub(r"\s+", lambda run: run.group()[0], text)


@given(st.text(alphabet=st.sampled_from(" \u3000\t\u200b\u2028\ufeffa山ｱア、\x85"), max_size=20) | st.text())
def test_clean_text_is_the_same_on_its_fast_path(raw: str) -> None:
    assert clean_text(raw) == _clean_text_slowly(raw)
