"""Fuzz the inbound mail endpoint over real SMTP: hostile envelopes, headers and bodies, raw 8-bit too.

Every command gets a reply; none is aiosmtpd's last resort (451 4.3.0, an exception we did not expect); the
endpoint answers the next connection; a mail refused with a 4xx or 5xx changed nothing; and each mail the
endpoint sends back carries only the headers of our notices, to one recipient.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from outreach.config import Settings, SmtpRelay
from outreach.db import Database
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.inbound import InboundServer, create_inbound
from subscribers.links import SignedLinks
from subscribers.settings import SubscriptionSettings
from tests.conftest import snapshot
from tests.fuzz.inputs import line_breaks, nasty_text, raw_bytes
from tests.fuzz.replies import check_replies
from tests.smtp_server import SmtpServer, free_port

# No limit should refuse a fuzz run of 10,000 mails: the limits have tests of their own.
OPTIONS = SubscriptionSettings(
    ratelimit_per_ip="1000000/minute",
    ratelimit_per_address="1000000/minute",
    inbound_domain="example.jp",
    inbound_max_bytes=20_000,
    inbound_confirmations_per_peer_hour=100_000,
    inbound_confirmations_per_hour=1_000_000,
)
UNEXPECTED = b" 4.3.0 "  # aiosmtpd's handle_exception: something raised that nobody caught
NETWORK = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class SmtpClient:
    """A raw SMTP client: it sends any bytes, bare CR and LF too, and reads each (multi-line) reply."""

    def __init__(self, host: str, port: int) -> None:
        self._socket = socket.create_connection((host, port), timeout=30)
        self._reader = self._socket.makefile("rb")
        self.greeting = self.reply()

    def reply(self) -> tuple[int, bytes]:
        lines: list[bytes] = []
        while True:
            line = self._reader.readline()
            assert line, f"the endpoint closed the connection after {lines}"
            lines.append(line)
            if line[3:4] != b"-":
                break
        code = lines[-1][:3]
        assert code.isdigit(), lines
        return int(code), b"".join(lines)

    def command(self, line: bytes) -> tuple[int, bytes]:
        self._socket.sendall(line + b"\r\n")
        return self.reply()

    def data(self, raw: bytes) -> tuple[int, bytes]:
        """Send a message after a 354; lines starting with a dot are doubled, as RFC 5321 4.5.2 asks."""
        code, text = self.command(b"DATA")
        if code != 354:
            return code, text
        stuffed = b"\n".join(b"." + line if line.startswith(b".") else line for line in raw.split(b"\n"))
        self._socket.sendall(stuffed + (b"" if stuffed.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        return self.reply()

    def close(self) -> None:
        self._reader.close()
        self._socket.close()


@dataclass
class Endpoint:
    server: InboundServer
    db: Database
    smtp: SmtpServer
    unsubscribe_token: str
    mails_seen: int = 0

    def session(
        self, commands: list[bytes], message: bytes | None = None, *, unexpected_ok: bool = False
    ) -> list[tuple[int, bytes]]:
        """One connection: the commands, then DATA with the message; check what each must be."""
        before = snapshot(self.db)
        client = SmtpClient(self.server.host, self.server.port)
        try:
            assert client.greeting[0] == 220
            replies = [client.command(command) for command in commands]
            if message is not None:
                replies.append(client.data(message))
            replies.append(client.command(b"QUIT"))
        finally:
            client.close()
        event(
            f"DATA {replies[-2][0]}"
            if message is not None
            else "replies " + " ".join(sorted({f"{code // 100}xx" for code, _ in replies}))
        )
        for code, text in replies:
            assert 200 <= code < 600, text
            assert unexpected_ok or UNEXPECTED not in text, f"an unexpected exception: {text!r}"
        if message is not None and replies[-2][0] != 250:
            assert snapshot(self.db) == before, f"refused with {replies[-2]!r}, yet the database changed"
        self.mails_seen = check_replies(self.smtp, seen=self.mails_seen)
        assert self.answers(), "the endpoint no longer answers"
        return replies

    def answers(self) -> bool:
        client = SmtpClient(self.server.host, self.server.port)
        try:
            return client.greeting[0] == 220 and client.command(b"NOOP")[0] == 250
        finally:
            client.close()


@pytest.fixture
def endpoint(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Iterator[Endpoint]:
    with seeded_db.session() as session:
        member = add_subscriber(
            session, "member@example.jp", language="en", organization=organization_or_none(session, "jcci")
        )
        member_id = member.id
    relayed = replace(settings, smtp=SmtpRelay.from_url(smtp_server.url))
    token = SignedLinks(relayed).for_subscriber(member_id, "en").unsubscribe_url.rsplit("/", 1)[1]
    with create_inbound(relayed, OPTIONS, host="127.0.0.1", port=free_port()) as server:
        yield Endpoint(server, seeded_db, smtp_server, token)


def encoded_word(text: str, charset: str) -> bytes:
    """An RFC 2047 word; text its charset cannot carry (or an unknown charset) goes in as UTF-8 bytes."""
    try:
        data = text.encode(charset)
    except (LookupError, UnicodeEncodeError):
        data = text.encode("utf-8")
    return b"=?" + charset.encode() + b"?B?" + base64.b64encode(data) + b"?="


@st.composite
def header_text(draw: st.DrawFn) -> bytes:
    """A header value as Japanese mailers and attackers write it: UTF-8, raw CP932, JIS, encoded words."""
    text = draw(nasty_text(max_size=80))
    how = draw(st.sampled_from(["utf-8", "cp932", "iso-2022-jp", "word", "raw"]))
    if how == "word":
        return encoded_word(text, draw(st.sampled_from(["utf-8", "shift_jis", "iso-2022-jp", "x-unknown"])))
    if how == "raw":
        return draw(raw_bytes(max_size=80))
    return text.encode(how, "replace")


usable_addresses = st.one_of(
    st.sampled_from(["taro@sme.example.co.jp", "member@example.jp", "mailmag@example.jp"]), st.emails()
)
addresses = st.one_of(usable_addresses, st.sampled_from(["<>", ""]), nasty_text(max_size=60))


@st.composite
def from_header(draw: st.DrawFn) -> bytes:
    address = draw(st.one_of(usable_addresses, addresses)).encode("utf-8")
    shapes = ["name <address>", "name <address>", "address", "address (comment)", "list", "raw"]
    shape = draw(st.sampled_from(shapes))
    if shape == "raw":
        return draw(header_text())
    if shape == "address":
        return address
    name = draw(header_text())
    if shape == "address (comment)":
        return address + b" (" + name + b")"
    if shape == "list":
        return b", ".join([address, *draw(st.lists(addresses.map(str.encode), min_size=1, max_size=2))])
    return b'"' + name + b'" <' + address + b">" if draw(st.booleans()) else name + b" <" + address + b">"


@st.composite
def subjects(draw: st.DrawFn, endpoint: Endpoint) -> bytes:
    token = draw(
        st.sampled_from([endpoint.unsubscribe_token, endpoint.unsubscribe_token[:-2] + "xx", "A" * 30])
    )
    word = draw(st.sampled_from(["unsubscribe", "subscribe", "english", "en", "英語", ""]))
    plain = f"{word} {token}" if word == "unsubscribe" else word
    return draw(st.one_of(st.just(plain.encode()), header_text()))


header_names = st.one_of(
    st.sampled_from(
        [
            "From",
            "FROM",
            "Subject",
            "To",
            "Cc",
            "Bcc",
            "Reply-To",
            "Sender",
            "Message-ID",
            "Date",
            "Auto-Submitted",
            "Precedence",
            "List-Id",
            "MIME-Version",
            "Content-Type",
            "Content-Transfer-Encoding",
            "Return-Path",
        ]
    ),
    st.text(st.characters(codec="ascii", exclude_characters=":\r\n"), max_size=20),
)


@st.composite
def messages(draw: st.DrawFn, endpoint: Endpoint) -> bytes:
    """A message whose headers are each kept, broken, repeated or folded, then a body of any bytes."""
    headers: list[tuple[bytes, bytes]] = []
    if draw(st.integers(min_value=0, max_value=7)):  # mostly one From: a mail that gets as far as it can
        headers.append((b"From", draw(from_header())))
    if draw(st.booleans()):
        headers.append((b"Subject", draw(subjects(endpoint))))
    for extra in draw(st.lists(header_names, max_size=6)):
        value = draw(from_header() if extra.lower() in ("from", "sender", "reply-to") else header_text())
        headers.append((extra.encode("ascii"), value))
    headers = draw(st.permutations(headers))
    lines: list[bytes] = []
    for name, value in headers:
        fold = draw(st.sampled_from([b"", b"\r\n ", b"\r\n\t", draw(line_breaks()).encode("utf-8")]))
        lines.append(name + b":" + draw(st.sampled_from([b" ", b"", b"  "])) + fold + value)
    body = draw(st.one_of(st.just(b""), raw_bytes(max_size=600)))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# One of ours first, then maybe others (refused at RCPT); the envelope tests send any bytes as an address.
ours = [
    "subscribe@example.jp",
    "Subscribe+JETRO@Example.JP",
    "subscribe+jcci@example.jp",
    "unsubscribe@example.jp",
]
recipients = st.tuples(
    st.sampled_from(ours),
    st.lists(st.sampled_from([*ours, "subscribe+nosuch@example.jp", "info@example.jp"]), max_size=3),
).map(lambda drawn: [drawn[0], *drawn[1]])


def envelope(mail_from: str, to: list[str]) -> list[bytes]:
    commands = [b"EHLO fuzz.example.org", b"MAIL FROM:<" + mail_from.encode("utf-8") + b">"]
    return commands + [b"RCPT TO:<" + address.encode("utf-8") + b">" for address in to]


def single_line(raw: bytes) -> bytes:
    """Raw bytes as one command line: a bare LF would end it early."""
    return raw.replace(b"\n", b" ")


@NETWORK
@given(data=st.data(), mail_from=st.sampled_from(["taro@sme.example.co.jp", "x@example.org"]), to=recipients)
def test_any_headers_and_body(endpoint: Endpoint, data: st.DataObject, mail_from: str, to: list[str]) -> None:
    commands = [single_line(command) for command in envelope(mail_from, to)]
    endpoint.session(commands, data.draw(messages(endpoint)))


@NETWORK
@given(raw=raw_bytes(max_size=4000), to=recipients)
def test_any_bytes_as_a_message(endpoint: Endpoint, raw: bytes, to: list[str]) -> None:
    commands = [single_line(command) for command in envelope("fuzz@example.org", to)]
    endpoint.session(commands, raw)


commands = st.lists(
    st.one_of(
        st.sampled_from(
            [
                b"EHLO fuzz.example.org",
                b"HELO x",
                b"MAIL FROM:<a@example.org>",
                b"MAIL FROM:<>",
                b"RCPT TO:<subscribe@example.jp>",
                b"RSET",
                b"NOOP",
                b"VRFY subscribe@example.jp",
                b"STARTTLS",
                b"AUTH PLAIN",
                b"HELP",
            ]
        ),
        st.tuples(
            st.sampled_from([b"MAIL FROM:", b"RCPT TO:", b"EHLO ", b"HELO ", b"VRFY ", b"", b"MAIL FROM:<"]),
            st.one_of(raw_bytes(max_size=300), addresses.map(str.encode)),
            st.sampled_from([b"", b">", b"> SIZE=99999999999999999999", b"> SMTPUTF8", b"> BODY=8BITMIME"]),
        ).map(b"".join),
    ).map(single_line),
    max_size=8,
)


def session_of(lines: list[bytes]) -> list[bytes]:
    """A greeting first, so that the commands reach the handler; DATA and BDAT are the other targets'."""
    return [
        b"EHLO fuzz.example.org",
        *(line for line in lines if not line.strip().upper().startswith((b"DATA", b"BDAT"))),
    ]


@NETWORK
@given(lines=commands)
def test_any_envelope_commands_get_a_reply(endpoint: Endpoint, lines: list[bytes]) -> None:
    endpoint.session(session_of(lines), unexpected_ok=True)


@NETWORK
@given(lines=commands)
@example(lines=[b"MAIL FROM:<"])  # once an IndexError in the stdlib's address parser
@example(lines=[b"MAIL FROM:<a@example.org>", b"RCPT TO:<=?utf-8?q?=E0=80=80?=>"])  # once lone surrogates
def test_no_envelope_command_meets_an_unexpected_exception(endpoint: Endpoint, lines: list[bytes]) -> None:
    endpoint.session(session_of(lines))
