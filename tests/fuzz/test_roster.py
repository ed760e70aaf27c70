"""Fuzz the roster importer: any bytes as a CSV file are imported whole, or refused with numbered problems.

`parse_roster` raises nothing but RosterError, whose problems each name a line of the file; rows it accepts
go in through the same use case as `outreach subscribers import`, all of them, in one transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from outreach.config import Settings, SmtpRelay
from outreach.db import Database
from outreach.errors import RosterError
from outreach.models import Subscriber
from outreach.usecases import rosters
from outreach.usecases.rosters import RosterImport
from subscribers.lifecycle import ImportConsent
from subscribers.roster import COLUMN_NAMES, parse_roster
from subscribers.settings import SubscriptionSettings
from subscribers.subscriptions import Subscriptions
from tests.conftest import snapshot
from tests.fuzz.inputs import line_breaks, nasty_text, raw_bytes, weighted
from tests.fuzz.replies import check_replies
from tests.smtp_server import SmtpServer

HEADERS = [name for names in COLUMN_NAMES.values() for name in names]


@dataclass
class Importer:
    db: Database
    smtp: SmtpServer
    subscriptions: Subscriptions
    mails_seen: int = 0

    def emails(self) -> set[str]:
        with self.db.session() as session:
            return set(session.scalars(select(Subscriber.email)))


@pytest.fixture
def importer(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Importer:
    relayed = replace(settings, smtp=SmtpRelay.from_url(smtp_server.url))
    return Importer(seeded_db, smtp_server, Subscriptions(seeded_db, relayed, SubscriptionSettings()))


def lines_in(data: bytes) -> int:
    """The most physical lines any reading of the file can find: every CR and every LF may end one."""
    return data.count(b"\n") + data.count(b"\r") + 1


def cell(draw: st.DrawFn, values: st.SearchStrategy[str]) -> str:
    text = draw(values)
    if draw(st.booleans()):
        return '"' + text.replace('"', draw(st.sampled_from(['""', '"']))) + '"'
    return text


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    """A file that looks like a roster: an email column among others, rows mostly of addresses and names.

    Each part is right more often than not, so that many files get as far as the database.
    """
    columns = [draw(st.sampled_from(COLUMN_NAMES["email"]))]
    for field in ("company", "name"):
        if draw(st.booleans()):
            columns.append(draw(st.sampled_from(COLUMN_NAMES[field])))
    if draw(st.integers(min_value=0, max_value=3)) == 0:  # a column of their own, or one twice
        columns.append(draw(st.one_of(st.sampled_from(HEADERS), nasty_text(max_size=10))))
    columns = draw(st.permutations(columns))
    texts = st.one_of(
        st.sampled_from(["", "株式会社テスト", "山田　太郎"]), nasty_text(max_size=60), line_breaks()
    )
    is_email = [name in COLUMN_NAMES["email"] for name in columns]
    rows = [columns]
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        width = draw(st.sampled_from([len(columns), len(columns), len(columns), 0, len(columns) + 1]))
        good = draw(st.integers(min_value=0, max_value=2)) > 0  # a row meant to be right
        rows.append(
            [cell(draw, st.emails() if good and email else texts) for email in [*is_email, False][:width]]
        )
    end = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    return end.join(",".join(row) for row in rows) + draw(st.sampled_from([end, ""]))


def encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "replace")


encodings = st.sampled_from(
    ["utf-8", "utf-8-sig", "cp932", "utf-8", "utf-8-sig", "cp932", "utf-16", "latin-1"]
)
roster_files = weighted(
    (1, st.binary(max_size=500)), (1, raw_bytes(max_size=500)), (2, st.builds(encoded, csv_text(), encodings))
)


def import_file(
    importer: Importer, data: bytes, *, organization: str | None, consent: ImportConsent
) -> RosterImport | RosterError:
    """What `outreach subscribers import` does with a file: read it and import its rows, in batches."""
    try:
        return asyncio.run(
            rosters.import_roster(
                importer.subscriptions, data, organization=organization, language="ja", consent=consent
            )
        )
    except RosterError as error:
        return error


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=roster_files, consent=st.sampled_from(ImportConsent), organization=st.sampled_from([None, "jetro"])
)
def test_any_file_is_imported_whole_or_refused_with_numbered_problems(
    importer: Importer, data: bytes, consent: ImportConsent, organization: str | None
) -> None:
    before = snapshot(importer.db)
    outcome = import_file(importer, data, organization=organization, consent=consent)
    if isinstance(outcome, RosterError):
        event("refused")
        assert outcome.problems, "a refusal names at least one problem"
        for problem in outcome.problems:
            assert 1 <= problem.line <= lines_in(data), problem
            assert problem.message.strip(), problem
        assert snapshot(importer.db) == before
        return
    event("imported" if outcome.rows else "imported: no rows")
    rows = parse_roster(data)
    assert outcome.rows == len(rows)
    assert [row.line for row in rows] == sorted({row.line for row in rows}), "one row a line, in order"
    assert {row.email for row in rows} <= importer.emails(), "every row of the file is in"
    importer.mails_seen = check_replies(importer.smtp, seen=importer.mails_seen)
