"""`outreach inbound` driven by a real SMTP client (smtplib): subscribing and leaving by mail, and garbage."""

from __future__ import annotations

import base64
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
from outreach.errors import InvalidInput
from outreach.models import ConsentEvent, Subscriber, SubscriberStatus
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.inbound import InboundServer, create_inbound, parse_recipient
from subscribers.inbound_headers import decode_header_bytes, read_headers
from subscribers.links import SignedLinks
from subscribers.settings import SubscriptionSettings, load_subscription_settings
from tests.conftest import snapshot
from tests.smtp_server import SmtpServer, free_port

OPTIONS = SubscriptionSettings(
    ratelimit_per_ip="1000/minute",
    ratelimit_per_address="1000/minute",
    inbound_domain="example.jp",
    inbound_max_bytes=20_000,
    inbound_confirmations_per_peer_hour=1000,
    inbound_confirmations_per_hour=1000,
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


def send(
    server: InboundServer, message: EmailMessage, *, mail_from: str | None = None, peer: str = "127.0.0.1"
) -> dict[str, tuple[int, bytes]]:
    """Send over a connection from `peer` (any of 127/8 reaches the server); the recipients refused."""
    with smtplib.SMTP(server.host, server.port, timeout=30, source_address=(peer, 0)) as client:
        return client.send_message(message, from_addr=mail_from)


def send_raw(server: InboundServer, raw: bytes, *, to: str = "subscribe@example.jp") -> tuple[int, bytes]:
    """A message as bytes, just as they are (8-bit headers too); the reply to its DATA."""
    with smtplib.SMTP(server.host, server.port, timeout=30) as client:
        client.ehlo()
        client.mail("someone@example.org")
        client.rcpt(to)
        return client.data(raw)


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


def test_malformed_envelope_addresses_get_a_5xx_not_a_temporary_failure(inbound: InboundServer) -> None:
    """A 4xx here would have a real MTA retry a mail that can never go through."""
    lines = [
        (b"EHLO client.example.org\r\n", b"250"),
        (b"MAIL FROM:<\r\n", b"553"),  # the stdlib's address parser fails on it with an IndexError
        (b"MAIL FROM:<a@example.org>\r\n", b"250"),
        (b"RCPT TO:<=?utf-8?q?=E0=80=80?=>\r\n", b"550"),  # decodes to bytes that UTF-8 cannot carry back
        (b"RCPT TO:<subscribe+\xff@example.jp>\r\n", b"5"),
    ]
    with socket.create_connection((inbound.host, inbound.port), timeout=30) as raw:
        reader = raw.makefile("rb")
        assert reader.readline().startswith(b"220")
        for line, expected in lines:
            raw.sendall(line)
            reply = reader.readline()
            while reply[3:4] == b"-":  # the rest of a multi-line reply (EHLO's)
                reply = reader.readline()
            assert reply.startswith(expected), (line, reply)
    assert _still_answers(inbound)


def test_too_many_recipients_get_452(inbound: InboundServer) -> None:
    with smtplib.SMTP(inbound.host, inbound.port, timeout=30) as client:
        client.ehlo()
        client.mail("a@example.org")
        addresses = [
            "subscribe@example.jp",
            "SUBSCRIBE@example.jp",
            "Subscribe@EXAMPLE.JP",
            "subscribe@Example.jp",
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


# One mail, one request


@pytest.mark.parametrize(
    ("recipients", "refused", "organization"),
    [
        (["subscribe@example.jp", "subscribe+jetro@example.jp"], ["subscribe+jetro@example.jp"], None),
        (
            ["subscribe+jetro@example.jp", "SUBSCRIBE+JETRO@example.jp", "subscribe+jcci@example.jp"],
            ["subscribe+jcci@example.jp"],  # a repeat of the first, in another case, is the same request
            "jetro",
        ),
        (["subscribe+jcci@example.jp", "unsubscribe@example.jp"], ["unsubscribe@example.jp"], "jcci"),
    ],
)
def test_recipients_asking_for_another_thing_than_the_first_are_refused_and_one_confirmation_goes_out(
    inbound: InboundServer,
    seeded_db: Database,
    smtp_server: SmtpServer,
    recipients: list[str],
    refused: list[str],
    organization: str | None,
) -> None:
    replies = send(inbound, mail(", ".join(recipients)))

    assert sorted(replies) == refused
    for code, reply in replies.values():
        assert code == 550
        assert b"5.5.3" in reply
        assert b"one request per mail" in reply
    [confirmation] = smtp_server.handler.to("taro@sme.example.co.jp")
    assert "/confirm/" in text_of(confirmation.parsed())
    pending = subscriber(seeded_db, "taro@sme.example.co.jp")
    assert pending is not None
    assert (pending.organization.slug if pending.organization else None) == organization
    with seeded_db.session() as session:
        assert len(session.scalars(select(ConsentEvent)).all()) == 1


# Limits on the answers mailed


def _forged(number: int) -> EmailMessage:
    return mail("subscribe@example.jp", sender=f"victim{number}@example.org")


def _submit(client: smtplib.SMTP, message: EmailMessage) -> tuple[int, bytes]:
    """One transaction on an open connection; the reply to its DATA (a refusal raises nothing)."""
    client.mail("someone@example.org")
    client.rcpt(str(message["To"]))
    return client.data(message.as_bytes(policy=email.policy.SMTP))


def test_a_peer_forging_many_senders_gets_450_past_its_limit_and_nothing_is_sent_or_stored(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    limited = replace(OPTIONS, inbound_confirmations_per_peer_hour=5)
    with running(settings, smtp_server, limited) as server:
        with smtplib.SMTP(server.host, server.port, timeout=30) as client:
            client.ehlo()
            replies = [_submit(client, _forged(number)) for number in range(5)]
            before = snapshot(seeded_db)
            replies += [_submit(client, _forged(number)) for number in range(5, 30)]
        after = snapshot(seeded_db)
        send(server, _forged(99), peer="127.0.0.2")  # another peer has a window of its own

    assert [code for code, _ in replies] == [250] * 5 + [450] * 25
    assert b"too many requests from 127.0.0.1" in replies[-1][1]
    assert after == before
    assert smtp_server.handler.count() == 6
    assert status(seeded_db, "victim5@example.org") is None
    assert status(seeded_db, "victim99@example.org") == SubscriberStatus.PENDING


def test_past_the_limit_for_all_peers_mail_gets_451_yet_an_unsubscribe_by_token_still_works(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    reader = active(seeded_db, "reader@example.jp")
    mailto = urlsplit(SignedLinks(settings).for_subscriber(reader, "ja").unsubscribe_mailto)
    [subject] = parse_qs(mailto.query)["subject"]
    limited = replace(OPTIONS, inbound_confirmations_per_hour=3)
    with running(settings, smtp_server, limited) as server:
        send(server, _forged(1), peer="127.0.0.1")
        send(server, _forged(2), peer="127.0.0.1")
        send(server, _forged(3), peer="127.0.0.2")
        before = snapshot(seeded_db)
        refusals = []
        for number, peer in ((4, "127.0.0.2"), (5, "127.0.0.3")):
            with pytest.raises(smtplib.SMTPDataError) as refused:
                send(server, _forged(number), peer=peer)
            refusals.append(refused.value.smtp_code)
        unsubscribe_link = mail("unsubscribe@example.jp", sender="reader@example.jp", subject="stop")
        with pytest.raises(smtplib.SMTPDataError):  # mailing the link is an answer too
            send(server, unsubscribe_link, peer="127.0.0.4")
        assert snapshot(seeded_db) == before
        send(server, mail(mailto.path, sender="reader@example.jp", subject=subject), peer="127.0.0.5")

    assert refusals == [451, 451]
    assert smtp_server.handler.count() == 3
    assert status(seeded_db, "reader@example.jp") == SubscriberStatus.UNSUBSCRIBED


def test_a_token_for_an_id_no_row_can_have_is_no_token(
    inbound: InboundServer, seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    active(seeded_db)
    before = snapshot(seeded_db)
    for huge in (2**31, 2**63):  # past PostgreSQL's INTEGER, past SQLite's
        mailto = urlsplit(SignedLinks(settings).for_subscriber(huge, "ja").unsubscribe_mailto)
        [subject] = parse_qs(mailto.query)["subject"]
        send(inbound, mail(mailto.path, sender="someone@example.org", subject=subject))
    assert snapshot(seeded_db) == before
    assert smtp_server.handler.messages == []


def test_the_reply_limits_are_read_from_the_environment(settings: Settings) -> None:
    defaults = load_subscription_settings(settings, {}, env_file=None)
    assert (defaults.inbound_confirmations_per_peer_hour, defaults.inbound_confirmations_per_hour) == (
        20,
        200,
    )
    given = {
        "OUTREACH_INBOUND_CONFIRMATIONS_PER_PEER_HOUR": "5",
        "OUTREACH_INBOUND_CONFIRMATIONS_PER_HOUR": "50",
    }
    read = load_subscription_settings(settings, given, env_file=None)
    assert (read.inbound_confirmations_per_peer_hour, read.inbound_confirmations_per_hour) == (5, 50)
    for name in given:
        for bad in ("0", "-3", "2.5", "many", "1e9"):
            with pytest.raises(InvalidInput) as refused:
                load_subscription_settings(settings, {name: bad}, env_file=None)
            assert name in str(refused.value)


# Headers as Japanese mailers write them

NAME = "海外 太郎"


def _word(charset: str, data: bytes) -> bytes:
    return b"=?" + charset.encode() + b"?B?" + base64.b64encode(data) + b"?="


# (the From header's display name as sent, the name it must be stored as)
NAMES = [
    (NAME.encode("cp932"), NAME),  # raw Shift_JIS: stored as "Rc" before
    ("ソフト表示".encode("cp932"), "ソフト表示"),  # trail bytes 0x5C: a backslash, read as bytes
    (NAME.encode("utf-8"), NAME),
    (NAME.encode("iso-2022-jp"), NAME),  # raw ISO-2022-JP: its escapes broke the address itself
    ("ｶｲｶﾞｲ".encode("iso-2022-jp-ext"), "ｶｲｶﾞｲ"),  # half-width katakana, JIS X 0201
    (_word("ISO-2022-JP", NAME.encode("iso-2022-jp")), NAME),
    (_word("iso-2022-jp", b"\x1b$B-!-j9b66\x1b(B"), "①㈱高橋"),  # NEC's characters, as Windows sends them
    (_word("Shift_JIS", "①髙橋".encode("cp932")), "①髙橋"),
    (b"=?UTF-8?Q?" + b"".join(b"=%02X" % byte for byte in NAME.encode()) + b"?=", NAME),
    (_word("x-unknown", NAME.encode("utf-8")), NAME),  # a charset nobody knows: read as raw bytes are
    (b"=?utf-8?Q?Sato=2C_Taro_=40_JETRO?=", "Sato, Taro @ JETRO"),  # still one word: a name, not addresses
]


def test_names_in_raw_8bit_and_encoded_headers_are_stored_as_written(
    inbound: InboundServer, seeded_db: Database
) -> None:
    for number, (written, expected) in enumerate(NAMES):
        address = f"person{number}@example.jp"
        raw = b"From: " + written + b" <" + address.encode() + b">\r\nSubject: x\r\n\r\nbody\r\n"
        code, reply = send_raw(inbound, raw)
        assert code == 250, (number, reply)
        stored = subscriber(seeded_db, address)
        assert stored is not None, number
        assert stored.name == expected, number


def test_english_in_a_raw_iso_2022_jp_subject_makes_it_english(
    inbound: InboundServer, seeded_db: Database, smtp_server: SmtpServer
) -> None:
    subject = "購読 英語".encode("iso-2022-jp")
    code, _reply = send_raw(inbound, b"From: ann@example.com\r\nSubject: " + subject + b"\r\n\r\n")
    assert code == 250
    pending = subscriber(seeded_db, "ann@example.com")
    assert pending is not None
    assert pending.language == "en"


def test_every_jis_x_0208_character_reads_as_the_iso_2022_jp_codec_reads_it() -> None:
    """The CP932 route that takes Windows' extra characters agrees with the codec on every standard one,
    but the six that Windows maps to other code points (〜 ‖ − ¢ £ ¬)."""
    differ = []
    for first in range(0x21, 0x7F):
        for second in range(0x21, 0x7F):
            raw = b"\x1b$B" + bytes((first, second)) + b"\x1b(B"
            try:
                expected = raw.decode("iso-2022-jp")
            except UnicodeDecodeError:
                continue
            if read_headers(b"Subject: " + raw + b"\r\n\r\n")["Subject"] != expected:
                differ.append(expected)
    assert differ == []


@hypothesis_settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="iso-2022-jp", exclude_categories=("Cc",)), max_size=40))
def test_raw_iso_2022_jp_and_utf8_headers_read_back_as_written(text: str) -> None:
    flat = " ".join(text.split())  # a header's text on one line
    for encoded in (flat.encode("iso-2022-jp"), flat.encode("utf-8")):
        assert decode_header_bytes(encoded) == flat


@hypothesis_settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=500))
def test_any_bytes_read_as_headers_as_text(raw: bytes) -> None:
    """Whatever the bytes, the headers come out as text: no byte left over as an escape (U+DC80-U+DCFF)."""
    message = read_headers(raw)
    text = "".join(f"{name}: {value}" for name, value in message.items())
    assert all(not "\udc80" <= char <= "\udcff" for char in text)


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
        env={
            **os.environ,
            **env,
            "OUTREACH_SMTP_URL": smtp_server.url,
            "OUTREACH_INBOUND_CONFIRMATIONS_PER_PEER_HOUR": "1",
        },
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()  # printed once the endpoint listens
        assert f"listening on smtp://127.0.0.1:{port}" in ready
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.send_message(mail("subscribe@example.jp"))
            with pytest.raises(smtplib.SMTPDataError) as limited:
                client.send_message(mail("subscribe@example.jp", sender="hanako@sme.example.co.jp"))
        assert limited.value.smtp_code == 450
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "stopped" in stdout
    assert len(smtp_server.handler.to("taro@sme.example.co.jp")) == 1
    assert status(seeded_db, "taro@sme.example.co.jp") == SubscriberStatus.PENDING
