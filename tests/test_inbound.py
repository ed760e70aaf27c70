"""`outreach inbound` driven by a real SMTP client (smtplib): subscribing and leaving by mail, and garbage."""

from __future__ import annotations

import email.policy
import os
import signal
import smtplib
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from outreach.config import Settings, SmtpRelay
from outreach.db import Database
from outreach.models import ConsentEvent, Subscriber, SubscriberStatus
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.inbound import InboundServer, create_inbound, parse_recipient
from subscribers.links import SignedLinks
from subscribers.settings import SubscriptionSettings
from tests.conftest import snapshot
from tests.smtp_server import SmtpServer, free_port

OPTIONS = SubscriptionSettings(
    ratelimit_per_ip="1000/minute",
    ratelimit_per_address="1000/minute",
    inbound_domain="example.jp",
    inbound_max_bytes=20_000,
)


@contextmanager
def running(
    settings: Settings, smtp: SmtpServer, options: SubscriptionSettings = OPTIONS
) -> Iterator[InboundServer]:
    relayed = replace(settings, smtp=SmtpRelay.from_url(smtp.url))
    with create_inbound(relayed, options, host="127.0.0.1", port=free_port()) as server:
        yield server


@pytest.fixture
def inbound(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Iterator[InboundServer]:
    with running(settings, smtp_server) as server:
        yield server


def mail(
    to: str, *, sender: str = "海外 太郎 <taro@sme.example.co.jp>", subject: str = "", **headers: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = "<test-1@sme.example.co.jp>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("")
    return message


def send(server: InboundServer, message: EmailMessage, *, mail_from: str | None = None) -> None:
    with smtplib.SMTP(server.host, server.port, timeout=30) as client:
        client.send_message(message, from_addr=mail_from)


def subscriber(db: Database, email: str) -> Subscriber | None:
    with db.session() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == email))
        if found is not None:
            _ = found.organization
        return found


def status(db: Database, email: str) -> SubscriberStatus | None:
    found = subscriber(db, email)
    return found.status if found else None


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def active(db: Database, email: str = "taro@sme.example.co.jp", language: str = "ja") -> int:
    with db.session() as session:
        return add_subscriber(
            session, email, language=language, organization=organization_or_none(session, "jcci")
        ).id


def test_a_mail_to_subscribe_starts_a_double_opt_in_for_the_sender(
    inbound: InboundServer, seeded_db: Database, smtp_server: SmtpServer
) -> None:
    send(inbound, mail("subscribe@example.jp"))

    pending = subscriber(seeded_db, "taro@sme.example.co.jp")
    assert pending is not None
    assert (pending.status, pending.name, pending.language) == (SubscriberStatus.PENDING, "海外 太郎", "ja")
    with seeded_db.session() as session:
        event = session.scalars(select(ConsentEvent)).one()
    assert (event.action, event.source) == ("subscribe_requested", "email")
    assert "Message-ID <test-1@sme.example.co.jp>" in (event.detail or "")
    [reply] = smtp_server.handler.to("taro@sme.example.co.jp")
    parsed = reply.parsed()
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["Subject"] == "【要確認】海外安全メールマガジンの購読確認"
    assert "/confirm/" in text_of(parsed)


def test_subscribe_plus_an_organization_with_english_in_the_subject(
    inbound: InboundServer, seeded_db: Database, smtp_server: SmtpServer
) -> None:
    send(inbound, mail("Subscribe+JETRO@Example.JP", sender="ann@example.com", subject="subscribe english"))

    pending = subscriber(seeded_db, "ann@example.com")
    assert pending is not None
    assert pending.language == "en"
    assert pending.organization is not None
    assert pending.organization.slug == "jetro"
    [reply] = smtp_server.handler.to("ann@example.com")
    assert reply.parsed()["Subject"].startswith("[Action needed]")


@pytest.mark.parametrize(
    "address",
    ["subscribe+nosuch@example.jp", "info@example.jp", "subscribe@other.example", "unsubscribe+x@example.jp"],
)
def test_unknown_mailboxes_are_refused_at_rcpt_and_change_nothing(
    inbound: InboundServer, seeded_db: Database, smtp_server: SmtpServer, address: str
) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(inbound, mail(address))
    [(code, _reply)] = refused.value.recipients.values()
    assert code == 550
    assert snapshot(seeded_db) == before
    assert smtp_server.handler.messages == []


def test_the_list_unsubscribe_mailto_unsubscribes_at_once(
    inbound: InboundServer, seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    subscriber_id = active(seeded_db, "reader@example.jp")
    mailto = urlsplit(SignedLinks(settings).for_subscriber(subscriber_id, "ja").unsubscribe_mailto)
    [subject] = parse_qs(mailto.query)["subject"]

    # Sent from another address, as a forwarded copy would be: the token alone decides.
    send(inbound, mail(mailto.path, sender="reader.home@example.net", subject=subject))

    assert status(seeded_db, "reader@example.jp") == SubscriberStatus.UNSUBSCRIBED
    assert smtp_server.handler.messages == []


def test_unsubscribe_without_a_token_mails_the_sender_a_link_and_changes_no_status(
    inbound: InboundServer, seeded_db: Database, smtp_server: SmtpServer
) -> None:
    active(seeded_db, language="en")

    send(inbound, mail("unsubscribe@example.jp", subject="please stop"))

    assert status(seeded_db, "taro@sme.example.co.jp") == SubscriberStatus.ACTIVE
    [reply] = smtp_server.handler.to("taro@sme.example.co.jp")
    body = text_of(reply.parsed())
    assert "/en/unsubscribe/" in body
    assert reply.parsed()["Auto-Submitted"] == "auto-replied"


def test_a_tampered_token_is_no_token(
    inbound: InboundServer, seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    subscriber_id = active(seeded_db)
    token = SignedLinks(settings).for_subscriber(subscriber_id, "ja").unsubscribe_url.rsplit("/", 1)[1]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    send(inbound, mail("unsubscribe@example.jp", subject=f"unsubscribe {tampered}"))

    assert status(seeded_db, "taro@sme.example.co.jp") == SubscriberStatus.ACTIVE
    assert len(smtp_server.handler.to("taro@sme.example.co.jp")) == 1  # the link instead


def test_unsubscribe_from_an_address_that_is_not_subscribed_sends_nothing(
    inbound: InboundServer, seeded_db: Database, smtp_server: SmtpServer
) -> None:
    before = snapshot(seeded_db)
    send(inbound, mail("unsubscribe@example.jp", sender="stranger@example.org"))
    assert snapshot(seeded_db) == before
    assert smtp_server.handler.messages == []


@pytest.mark.parametrize(
    ("headers", "mail_from"),
    [
        ({"Auto_Submitted": "auto-replied"}, None),
        ({"Auto_Submitted": "auto-generated"}, None),
        ({"Precedence": "bulk"}, None),
        ({"Precedence": "junk"}, None),
        ({"Precedence": "list"}, None),
        ({"List_Id": "SME mail magazine <mailmag.example.jp>"}, None),
        ({}, "<>"),
    ],
)
def test_automatic_mail_is_accepted_and_dropped_without_an_answer(
    inbound: InboundServer,
    seeded_db: Database,
    smtp_server: SmtpServer,
    headers: dict[str, str],
    mail_from: str | None,
) -> None:
    before = snapshot(seeded_db)
    send(inbound, mail("subscribe@example.jp", **headers), mail_from=mail_from)
    assert snapshot(seeded_db) == before
    assert smtp_server.handler.messages == []


def test_mail_from_ourselves_is_dropped(
    inbound: InboundServer, seeded_db: Database, smtp_server: SmtpServer
) -> None:
    before = snapshot(seeded_db)
    send(inbound, mail("subscribe@example.jp", sender="mailmag@example.jp"))
    assert snapshot(seeded_db) == before
    assert smtp_server.handler.messages == []


def test_oversized_mail_is_refused_with_552_and_the_endpoint_goes_on(
    inbound: InboundServer, seeded_db: Database, smtp_server: SmtpServer
) -> None:
    big = mail("subscribe@example.jp")
    big.set_content(("x" * 70 + "\n") * 600)
    before = snapshot(seeded_db)
    with pytest.raises(smtplib.SMTPSenderRefused) as declared:  # smtplib declares SIZE in MAIL FROM
        send(inbound, big)
    with smtplib.SMTP(inbound.host, inbound.port, timeout=30) as client:  # and one that does not say
        client.ehlo()
        client.mail("taro@sme.example.co.jp")
        client.rcpt("subscribe@example.jp")
        undeclared, _reply = client.data(big.as_bytes(policy=email.policy.SMTP))
    assert declared.value.smtp_code == 552
    assert undeclared == 552
    assert snapshot(seeded_db) == before
    send(inbound, mail("subscribe@example.jp"))
    assert subscriber(seeded_db, "taro@sme.example.co.jp") is not None


@pytest.mark.parametrize(
    "raw",
    [
        b"this is not a mail at all\r\n",
        b"Subject: no sender\r\n\r\nbody\r\n",
        b"From: two@example.jp, three@example.jp\r\nSubject: x\r\n\r\nbody\r\n",
        b"From: <not an address>\r\n\r\n",
        b"From: =?utf-8?q?=E0=80=80?= <@@>\r\n\r\n",
        b"From: \xff\xfe\x00\r\n\r\n",
    ],
)
def test_malformed_mail_is_refused_with_550_and_changes_nothing(
    inbound: InboundServer, seeded_db: Database, raw: bytes
) -> None:
    before = snapshot(seeded_db)
    with smtplib.SMTP(inbound.host, inbound.port, timeout=30) as client:
        client.ehlo()
        client.mail("someone@example.org")
        client.rcpt("subscribe@example.jp")
        code, _reply = client.data(raw)
    assert code == 550
    assert snapshot(seeded_db) == before


def _still_answers(server: InboundServer) -> bool:
    with smtplib.SMTP(server.host, server.port, timeout=30) as client:
        return client.noop()[0] == 250


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=2000))
def test_any_bytes_as_a_message_get_an_answer_and_never_crash_the_endpoint(
    inbound: InboundServer, raw: bytes
) -> None:
    with smtplib.SMTP(inbound.host, inbound.port, timeout=30) as client:
        client.ehlo()
        client.mail("fuzz@example.org")
        client.rcpt("subscribe@example.jp")
        code, _reply = client.data(raw)
    assert code in (250, 450, 550)
    assert _still_answers(inbound)


def test_garbage_commands_get_500s_and_the_endpoint_goes_on(inbound: InboundServer) -> None:
    with socket.create_connection((inbound.host, inbound.port), timeout=30) as raw:
        reader = raw.makefile("rb")
        assert reader.readline().startswith(b"220")
        for line in (b"\x00\xff\xfe garbage\r\n", b"MAIL FROM:<<<>>>\r\n", b"RCPT TO:<x@example.jp>\r\n"):
            raw.sendall(line)
            assert reader.readline()[:1] == b"5"
    assert _still_answers(inbound)


def test_too_many_recipients_get_452(inbound: InboundServer) -> None:
    with smtplib.SMTP(inbound.host, inbound.port, timeout=30) as client:
        client.ehlo()
        client.mail("a@example.org")
        addresses = [
            "subscribe@example.jp",
            "unsubscribe@example.jp",
            "subscribe+jetro@example.jp",
            "subscribe+jcci@example.jp",
        ]
        codes = [client.rcpt(address)[0] for address in addresses]
    assert codes == [250, 250, 250, 452]


def test_too_many_requests_for_one_address_get_450_and_change_nothing(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    with running(settings, smtp_server, replace(OPTIONS, ratelimit_per_address="1/hour")) as server:
        send(server, mail("subscribe@example.jp"))
        before = snapshot(seeded_db)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send(server, mail("subscribe@example.jp"))
    assert refused.value.smtp_code == 450
    assert snapshot(seeded_db) == before
    assert len(smtp_server.handler.to("taro@sme.example.co.jp")) == 1


def test_when_the_relay_is_down_the_sender_is_told_to_try_later(
    seeded_db: Database, settings: Settings
) -> None:
    down = replace(settings, smtp=SmtpRelay.from_url(f"smtp://127.0.0.1:{free_port()}"))
    with create_inbound(down, OPTIONS, host="127.0.0.1", port=free_port()) as server:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send(server, mail("subscribe@example.jp"))
        assert _still_answers(server)
    assert refused.value.smtp_code == 451


def test_recipients_are_parsed_case_insensitively() -> None:
    assert parse_recipient("SUBSCRIBE@EXAMPLE.JP", "example.jp") is not None
    assert parse_recipient("subscribe+jetro@example.jp", "example.jp").organization == "jetro"  # type: ignore[union-attr]
    assert parse_recipient("unsubscribe@example.jp.evil", "example.jp") is None
    assert parse_recipient("no-at-sign", "example.jp") is None


def test_the_outreach_inbound_command_serves_until_sigterm(
    env: dict[str, str], seeded_db: Database, smtp_server: SmtpServer
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "outreach", "inbound", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env, "OUTREACH_SMTP_URL": smtp_server.url},
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()  # printed once the endpoint listens
        assert f"listening on smtp://127.0.0.1:{port}" in ready
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.send_message(mail("subscribe@example.jp"))
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "stopped" in stdout
    assert len(smtp_server.handler.to("taro@sme.example.co.jp")) == 1
    assert status(seeded_db, "taro@sme.example.co.jp") == SubscriberStatus.PENDING
