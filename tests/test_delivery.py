"""Delivery against a real SMTP server (aiosmtpd on 127.0.0.1): every recipient ends in a visible state."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from outreach.config import Settings, SmtpRelay
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.errors import RelayUnavailable
from outreach.issues import compose_issue, get_issue
from outreach.mailer import SmtpMailer
from outreach.models import Delivery, DeliveryAttempt, DeliveryStatus, IssueStatus, Organization
from outreach.seed import seed_network
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import Acting
from outreach.usecases.sends import DeliveryOptions, SendRun, send_now
from outreach.verp import Verp
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.links import SignedLinks
from tests.smtp_server import SmtpServer, free_port

RECIPIENTS = [
    ("a.tanaka@example.jp", "jetro", "ja", "株式会社田中製作所", "田中 明"),
    ("b.suzuki@example.jp", "jcci", "ja", "鈴木商事株式会社", "鈴木 花子"),
    ("c.smith@example.com", "chuokai", "en", "Smith Trading", "Carol Smith"),
    ("d.yamada@example.jp", None, "ja", "山田工業", ""),
]


def _add_recipients(db: Database, recipients: list[tuple[str, str | None, str, str, str]]) -> None:
    with db.session() as session:
        for email, slug, language, company, name in recipients:
            add_subscriber(
                session,
                email,
                company=company,
                name=name,
                language=language,
                organization=organization_or_none(session, slug),
            )


def _compose(db: Database) -> int:
    with db.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 8))
        return compose_issue(session, meetings=[meeting]).number


def _send(
    db: Database, settings: Settings, server_port: int, number: int, *, batch_size: int = 100
) -> SendRun:
    relay = SmtpRelay(host="127.0.0.1", port=server_port, security="none")
    return asyncio.run(
        send_now(
            db,
            replace(settings, smtp=relay),
            number,
            mailer=SmtpMailer(relay),
            links=SignedLinks(settings),
            by=Acting("cli:tester", ApprovalPolicy.NONE),
            options=DeliveryOptions(batch_size=batch_size),
        )
    )


def _delivery_id(db: Database, email: str, number: int) -> int:
    with db.session() as session:
        issue_id = get_issue(session, number).id
        found = session.scalar(
            select(Delivery.id).where(Delivery.email == email, Delivery.issue_id == issue_id)
        )
    assert found is not None
    return found


def _states(db: Database) -> dict[str, tuple[DeliveryStatus, int | None, int]]:
    with db.session() as session:
        rows = session.execute(select(Delivery.email, Delivery.status, Delivery.smtp_code, Delivery.attempts))
        return {email: (status, code, attempts) for email, status, code, attempts in rows}


@pytest.fixture
def ready(seeded_db: Database) -> Database:
    _add_recipients(seeded_db, RECIPIENTS)
    return seeded_db


def test_every_recipient_gets_a_wellformed_message_of_their_organization(
    ready: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    number = _compose(ready)
    run = _send(ready, settings, smtp_server.port, number)

    assert run.outcomes == Counter({"sent": 4})
    assert run.finished
    with ready.session() as session:
        greetings = {
            org.slug: (org.greeting_ja, org.greeting_en) for org in session.scalars(select(Organization))
        }
    for email, slug, language, company, _name in RECIPIENTS:
        [received] = smtp_server.handler.to(email)
        message = received.parsed()
        # VERP: the envelope sender names this delivery; From stays the sender's address.
        verp = Verp(settings.secret_key, settings.verp_domain)
        assert verp.delivery_id(received.mail_from) == _delivery_id(ready, email, number)
        assert received.mail_from.startswith("bounces+")
        assert message["From"].addresses[0].addr_spec == settings.sender_address
        for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe"):
            assert len(message.get_all(header) or []) == 1, header
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        names = {
            "ja": "中堅・中小企業海外安全対策ネットワーク メールマガジン",
            "en": "SME Overseas Safety Network Newsletter",
        }
        assert str(message["List-Id"]) == f"{names[language]} <{settings.list_id}>"
        assert message["Feedback-ID"] == f"issue{number}:{slug or 'network'}:{language}:outreach"
        assert message["To"].addresses[0].addr_spec == email
        unsubscribe = str(message["List-Unsubscribe"])
        assert re.search(r"<https://mailmag\.example\.jp(/en)?/unsubscribe/[\w.-]+>", unsubscribe)
        assert "<mailto:unsubscribe@example.jp?subject=unsubscribe%20" in unsubscribe
        assert message.get_content_type() == "multipart/alternative"
        text_part, html_part = message.iter_parts()
        assert (text_part.get_content_type(), html_part.get_content_type()) == ("text/plain", "text/html")
        text, html = text_part.get_content(), html_part.get_content()
        greeting_ja, greeting_en = greetings[slug or "network"]
        expected_greeting = greeting_ja if language == "ja" else greeting_en
        # The text part is wrapped for reading (Japanese anywhere, English at spaces): compare without breaks.
        flat = "".join(text.split())
        assert "".join(expected_greeting.split()) in flat
        assert expected_greeting in html.replace("\n", " ") or expected_greeting in html
        assert company in text
        if language == "ja":
            assert "第8回本会合" in text
            assert "2024年（令和6年）1月31日" in html
            assert "海外安全メールマガジン" in str(message["Subject"])
        else:
            assert "Plenary 8" in text
            assert "31 January 2024" in html
        assert re.search(r"<td class=\"masthead\" style=[\"'][^>]*background-color:#12355b", html)
        postal = (settings.postal_address_ja, settings.postal_address_en)
        assert any("".join(address.split()) in flat for address in postal)
        assert "/unsubscribe/" in html
        assert "/unsubscribe/" in text


def test_sending_again_sends_nothing_new(
    ready: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    number = _compose(ready)
    _send(ready, settings, smtp_server.port, number)
    again = _send(ready, settings, smtp_server.port, number)

    assert again.already_sent
    assert len(smtp_server.handler.messages) == len(RECIPIENTS)
    with ready.session() as session:
        assert get_issue(session, number).status == IssueStatus.SENT


def test_a_5xx_fails_one_recipient_a_4xx_defers_another_and_the_send_goes_on(
    ready: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.rcpt_replies["b.suzuki@example.jp"] = "550 5.1.1 <b.suzuki@example.jp>: user unknown"
    smtp_server.handler.data_replies["c.smith@example.com"] = "451 4.3.0 try again later"
    number = _compose(ready)

    run = _send(ready, settings, smtp_server.port, number, batch_size=1)

    states = _states(ready)
    assert states["b.suzuki@example.jp"] == (DeliveryStatus.BOUNCED, 550, 1)
    assert states["c.smith@example.com"] == (DeliveryStatus.DEFERRED, 451, 1)
    assert states["a.tanaka@example.jp"] == (DeliveryStatus.SENT, 250, 1)
    assert states["d.yamada@example.jp"] == (DeliveryStatus.SENT, 250, 1)
    assert not run.finished
    with ready.session() as session:
        replies = session.scalars(
            select(DeliveryAttempt.smtp_reply).where(DeliveryAttempt.smtp_code == 550)
        ).all()
        assert replies == ["5.1.1 <b.suzuki@example.jp>: user unknown"]
        assert get_issue(session, number).status == IssueStatus.SENDING


def test_a_dropped_connection_reconnects_and_carries_on(
    ready: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.drop_on_data["b.suzuki@example.jp"] = 1
    number = _compose(ready)

    run = _send(ready, settings, smtp_server.port, number)

    assert run.outcomes == Counter({"sent": 4})
    assert len(smtp_server.handler.to("b.suzuki@example.jp")) == 1
    assert {state for state, _, _ in _states(ready).values()} == {DeliveryStatus.SENT}


def test_a_connection_that_drops_twice_defers_that_recipient_only(
    ready: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.drop_on_data["b.suzuki@example.jp"] = 2
    number = _compose(ready)

    _send(ready, settings, smtp_server.port, number)

    states = _states(ready)
    assert states.pop("b.suzuki@example.jp") == (DeliveryStatus.DEFERRED, None, 2)  # two tries, both logged
    assert {state for state, _, _ in states.values()} == {DeliveryStatus.SENT}


def test_an_unreachable_server_leaves_every_row_queued(ready: Database, settings: Settings) -> None:
    number = _compose(ready)

    with pytest.raises(RelayUnavailable, match="cannot connect"):
        _send(ready, settings, free_port(), number)

    assert {state for state, _, _ in _states(ready).values()} == {DeliveryStatus.QUEUED}
    assert len(_states(ready)) == len(RECIPIENTS)


def test_a_deferred_recipient_is_retried_by_the_next_run(
    ready: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.data_replies["c.smith@example.com"] = "451 4.3.0 try again later"
    number = _compose(ready)
    _send(ready, settings, smtp_server.port, number)
    del smtp_server.handler.data_replies["c.smith@example.com"]
    with ready.session() as session:  # the retry time has come
        deferred = session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.DEFERRED)).one()
        deferred.next_attempt_at = deferred.created_at

    run = _send(ready, settings, smtp_server.port, number)

    assert run.outcomes == Counter({"sent": 1})
    assert _states(ready)["c.smith@example.com"] == (DeliveryStatus.SENT, 250, 2)
    assert run.finished


def test_message_ids_of_two_databases_never_meet(
    ready: Database, settings: Settings, smtp_server: SmtpServer, tmp_path: Path, sqlite_template: Path
) -> None:
    """Two installations (or one database reset) with the same key send the same first delivery of the same
    first issue: Gmail must not take the second for a copy of the first."""
    other_path = tmp_path / "other.sqlite3"
    shutil.copy(sqlite_template, other_path)
    other = Database(f"sqlite:///{other_path}")
    with other.session() as session:
        seed_network(session)
    _add_recipients(other, RECIPIENTS)
    for database in (ready, other):
        _send(database, settings, smtp_server.port, _compose(database))
    other.dispose()
    ids = [str(received.parsed()["Message-ID"]) for received in smtp_server.handler.messages]
    assert len(ids) == 2 * len(RECIPIENTS)
    assert len(set(ids)) == len(ids)
