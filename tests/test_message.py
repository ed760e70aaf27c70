"""Per-recipient messages: well-formed RFC 5322 / MIME, stamped parts, and no header injection."""

from __future__ import annotations

import base64
import email
import email.policy
import quopri
import re
from dataclasses import replace
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import cast

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from outreach.dkim import DkimSigner, signed_headers
from outreach.message import MessageFactory, Personal, clean_header_text, seven_bit
from outreach.render import Rendition
from outreach.smtp import dot_stuff
from outreach.stamp import Stamp

NOW = datetime(2024, 2, 1, 0, 30, tzinfo=UTC)
SUBJECT = "【海外安全メールマガジン 第1号】第8回本会合の開催結果"
SENDER_NAME = "中堅・中小企業海外安全対策ネットワーク事務局"
SENDER_ADDRESS = "mailmag@example.jp"
LIST_ID = "mailmag.example.jp"
HTML = (
    '<!DOCTYPE html>\n<html lang="ja"><body>\n'
    "<p>@@OUTREACH:salutation@@</p>\n"
    "<p>中堅・中小企業海外安全対策ネットワークからのお知らせです。</p>\n"
    "<p>このメールは @@OUTREACH:email@@ 宛にお送りしています。<br>\n"
    '<a href="@@OUTREACH:preferences_url@@">配信設定の変更</a> ・ '
    '<a href="@@OUTREACH:unsubscribe_url@@">配信停止の手続き</a></p>\n'
    "</body></html>\n"
)
TEXT = (
    "@@OUTREACH:salutation@@\n"
    "\n"
    "中堅・中小企業海外安全対策ネットワークからのお知らせです。\n"
    "このメールは @@OUTREACH:email@@ 宛にお送りしています。\n"
    "配信設定の変更：@@OUTREACH:preferences_url@@\n"
    "配信停止の手続き：@@OUTREACH:unsubscribe_url@@\n"
)
HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)


def _rendition(*, charset: str = "utf-8", subject: str = SUBJECT) -> Rendition:
    return Rendition(
        issue_number=1,
        organization_slug="network",
        language="ja",
        charset=charset,
        subject=subject,
        html=Stamp.compile(HTML, escape_html=True),
        text=Stamp.compile(TEXT, escape_html=False),
    )


def _factory(rendition: Rendition) -> MessageFactory:
    return MessageFactory(rendition, sender_name=SENDER_NAME, sender_address=SENDER_ADDRESS, list_id=LIST_ID)


def _personal(*, display_name: str = "山田太郎", salutation: str = "株式会社テスト 山田太郎様") -> Personal:
    return Personal(
        email="yamada@example.jp",
        display_name=display_name,
        message_id="<outreach.1.42@example.jp>",
        salutation=salutation,
        unsubscribe_url="https://mailmag.example.jp/u/tok-42?lang=ja&x=1",
        unsubscribe_mailto="mailto:unsubscribe@example.jp?subject=unsubscribe-tok-42",
        preferences_url="https://mailmag.example.jp/p/tok-42",
    )


def _values(personal: Personal) -> dict[str, str]:
    return {
        "salutation": personal.salutation,
        "email": personal.email,
        "unsubscribe_url": personal.unsubscribe_url,
        "preferences_url": personal.preferences_url,
    }


def _parse(data: bytes, policy: email.policy.Policy = email.policy.default) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(data, policy=policy))


def _decoded(data: bytes, name: str) -> str:
    """A header decoded as RFC 2047 section 6.2 says: the space between adjacent encoded words is dropped.

    (The address parser of `email.policy.default` keeps that space, so it reads a long folded display
    name back with a space in the middle; `decode_header` follows the RFC.)
    """
    raw = email.message_from_bytes(data)[name]
    return str(make_header(decode_header(raw)))


def _parts(message: EmailMessage) -> list[EmailMessage]:
    return list(message.iter_parts())


def _assert_lines_are_crlf_and_short(data: bytes) -> None:
    assert data.endswith(b"\r\n")
    lines = data[:-2].split(b"\r\n")
    for line in lines:
        assert len(line) <= 998
        assert b"\r" not in line
        assert b"\n" not in line


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_multipart_alternative_text_then_html(charset: str) -> None:
    personal = _personal()
    message = _parse(_factory(_rendition(charset=charset)).build(personal, now=NOW))
    assert message.get_content_type() == "multipart/alternative"
    parts = _parts(message)
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    values = _values(personal)
    expected_text = Stamp.compile(TEXT, escape_html=False).fill(values)
    expected_html = Stamp.compile(HTML, escape_html=True).fill(values)
    plain, markup = (str(part.get_content()).replace("\r\n", "\n") for part in parts)
    assert plain == expected_text
    assert markup == expected_html
    assert "株式会社テスト 山田太郎様" in plain
    assert "https://mailmag.example.jp/u/tok-42?lang=ja&amp;x=1" in markup
    for part in parts:
        assert part.get_content_charset() == charset


def test_headers_are_present_once_and_well_formed() -> None:
    personal = _personal()
    data = _factory(_rendition()).build(personal, now=NOW)
    message = _parse(data)
    for name in HEADERS:
        assert len(message.get_all(name) or []) == 1, name
    assert message["MIME-Version"] == "1.0"
    sender = message["From"].addresses
    assert len(sender) == 1
    assert sender[0].addr_spec == SENDER_ADDRESS
    assert _decoded(data, "From") == f"{SENDER_NAME} <{SENDER_ADDRESS}>"
    recipient = message["To"].addresses
    assert len(recipient) == 1
    assert (recipient[0].display_name, recipient[0].addr_spec) == ("山田太郎", "yamada@example.jp")
    assert message["Subject"] == SUBJECT
    assert message["Date"].datetime == NOW
    assert message["Date"].datetime.utcoffset().total_seconds() == 9 * 3600  # written in JST
    assert message["Message-ID"] == "<outreach.1.42@example.jp>"
    assert message["List-Id"] == f"<{LIST_ID}>"
    assert message["List-Unsubscribe"] == (
        "<https://mailmag.example.jp/u/tok-42?lang=ja&x=1>, "
        "<mailto:unsubscribe@example.jp?subject=unsubscribe-tok-42>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_strict_parse_finds_no_defects(charset: str) -> None:
    data = _factory(_rendition(charset=charset)).build(_personal(), now=NOW)
    message = _parse(data, email.policy.strict)  # raises on a defect found while parsing
    assert message.defects == []
    for name in message:
        assert message[name].defects == (), name
    parts = _parts(message)
    assert len(parts) == 2
    for part in parts:
        assert part.defects == []
        for name in part:
            assert part[name].defects == (), name
    assert message["Subject"] == SUBJECT


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_every_line_ends_with_crlf_and_fits_998_octets(charset: str) -> None:
    long_subject = "海外安全" * 45
    long_salutation = "株式会社" * 400  # a single 1,600-character line in the body
    data = _factory(_rendition(charset=charset, subject=long_subject)).build(
        _personal(display_name="山田" * 100, salutation=long_salutation), now=NOW
    )
    _assert_lines_are_crlf_and_short(data)
    message = _parse(data, email.policy.strict)
    assert message["Subject"] == long_subject
    assert long_salutation in str(_parts(message)[0].get_content())


def test_iso_2022_jp_parts_and_subject_decode_back() -> None:
    personal = _personal()
    data = _factory(_rendition(charset="iso-2022-jp")).build(personal, now=NOW)
    assert data.isascii()  # ISO-2022-JP is a 7-bit encoding
    message = _parse(data)
    assert message["Subject"] == SUBJECT
    assert _decoded(data, "From") == f"{SENDER_NAME} <{SENDER_ADDRESS}>"
    assert _decoded(data, "To") == "山田太郎 <yamada@example.jp>"
    assert "=?iso-2022-jp?" in data.decode("ascii").split("\r\n\r\n", 1)[0].lower()
    for part in _parts(message):
        assert part.get_content_charset() == "iso-2022-jp"
        assert part["Content-Transfer-Encoding"] == "7bit"
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        decoded = payload.decode("iso-2022-jp")
        assert "中堅・中小企業海外安全対策ネットワークからのお知らせです。" in decoded
        assert "株式会社テスト 山田太郎様" in decoded


def test_utf8_parts_decode_back() -> None:
    data = _factory(_rendition()).build(_personal(), now=NOW)
    for part in _parts(_parse(data)):
        assert part.get_content_charset() == "utf-8"
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        assert "株式会社テスト 山田太郎様" in payload.decode("utf-8")


def test_an_ascii_display_name_is_quoted() -> None:
    data = _factory(_rendition()).build(_personal(display_name='Taro "T" Yamada, Sales\\'), now=NOW)
    recipient = _parse(data, email.policy.strict)["To"].addresses
    assert len(recipient) == 1
    assert recipient[0].display_name == 'Taro "T" Yamada, Sales\\'
    assert recipient[0].addr_spec == "yamada@example.jp"


def test_an_empty_display_name_leaves_the_bare_address() -> None:
    data = _factory(_rendition()).build(_personal(display_name=" \r\n "), now=NOW)
    message = _parse(data)
    assert message["To"] == "yamada@example.jp"


@pytest.mark.parametrize(
    "address", ["a@example.jp\r\nBcc: evil@example.jp", "a b@example.jp", "<a@example.jp>"]
)
def test_an_unsafe_recipient_address_is_refused(address: str) -> None:
    personal = Personal(
        email=address,
        display_name="",
        message_id="<1@example.jp>",
        salutation="",
        unsubscribe_url="https://example.jp/u",
        unsubscribe_mailto="mailto:u@example.jp",
        preferences_url="https://example.jp/p",
    )
    with pytest.raises(ValueError, match="unsafe address"):
        _factory(_rendition()).build(personal, now=NOW)


def test_clean_header_text_flattens_control_characters() -> None:
    assert clean_header_text("a\r\nBcc: b\x00c\x0bd\u2028e\u2029f\x85g\th") == "a Bcc: b c d e f g h"
    assert clean_header_text("  many   spaces  ") == "many spaces"
    assert clean_header_text("x" * 300) == "x" * 200
    assert clean_header_text("x" * 300, limit=250) == "x" * 250


HEADER_LIKE = [
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\x0b",
    "\x0c",
    "\x85",
    "\u2028",
    "\u2029",
    ":",
    '"',
    "\\",
    "<",
    ">",
    ",",
    ";",
    "@",
    "x\r\nBcc: evil@example.jp",
    "\r\nTo: other@example.jp",
    "\nSubject: hijacked",
    "\r\n\r\n<html>injected body",
    "Bcc: evil@example.jp",
    "\r\n X-Folded: continuation",
    "山田",
    "髙橋",
]
header_text = st.lists(st.one_of(st.text(), st.sampled_from(HEADER_LIKE)), max_size=8).map("".join)
CLEAN_HEADER_NAMES = sorted(
    name.lower() for name in _parse(_factory(_rendition()).build(_personal(), now=NOW))
)


@settings(max_examples=200, deadline=None)
@given(display_name=header_text, salutation=header_text, subject=header_text)
@example(
    display_name="x\r\nBcc: evil@example.jp", salutation="x\r\nBcc: evil@example.jp", subject="x\r\nBcc: e"
)
@example(display_name="\r\n\r\nbody", salutation="\r\n\r\n", subject="\n\nTo: other@example.jp")
@example(display_name="a\u2028Bcc: e@example.jp", salutation="\x00", subject="b\x0bCc: e@example.jp")
def test_personal_text_never_changes_the_headers(display_name: str, salutation: str, subject: str) -> None:
    personal = _personal(display_name=display_name, salutation=salutation)
    data = _factory(_rendition(subject=subject)).build(personal, now=NOW)
    _assert_lines_are_crlf_and_short(data)
    head = data.split(b"\r\n\r\n", 1)[0]
    assert all(32 <= byte < 127 for byte in head.replace(b"\r\n ", b"").replace(b"\r\n", b"")), head
    message = _parse(data)
    assert sorted(name.lower() for name in message) == CLEAN_HEADER_NAMES
    assert message.get_all("Bcc") is None
    for name, value in message.items():
        assert "\r" not in str(value), name
        assert "\n" not in str(value), name
    recipient = message["To"].addresses
    assert len(recipient) == 1
    assert recipient[0].addr_spec == "yamada@example.jp"
    parts = _parts(message)
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    lines = salutation.replace("\r\n", "\n").replace("\r", "\n")  # a lone CR becomes a line break
    assert lines in str(parts[0].get_content()).replace("\r\n", "\n")


def test_an_encoded_word_lookalike_in_the_display_name_stays_literal() -> None:
    lookalike = "=?utf-8?q?x=0D=0ABcc:_evil@example.jp?="
    data = _factory(_rendition()).build(_personal(display_name=lookalike), now=NOW)
    recipient = _parse(data)[
        "To"
    ].addresses  # raises ValueError today: "address parts cannot contain CR or LF"
    assert recipient[0].display_name == lookalike
    assert recipient[0].addr_spec == "yamada@example.jp"


def test_an_encoded_word_lookalike_in_the_subject_stays_literal() -> None:
    lookalike = "=?utf-8?q?a=0D=0ABcc:_evil@example.jp?="
    data = _factory(_rendition(subject=lookalike)).build(_personal(), now=NOW)
    subject = str(_parse(data)["Subject"])
    assert "\r" not in subject
    assert "\n" not in subject
    assert subject == lookalike


def test_iso_2022_jp_display_name_outside_the_charset_does_not_stop_the_send() -> None:
    data = _factory(_rendition(charset="iso-2022-jp")).build(
        _personal(display_name="髙橋一郎", salutation="株式会社テスト 高橋様"), now=NOW
    )
    recipient = _parse(data)["To"].addresses
    assert recipient[0].addr_spec == "yamada@example.jp"
    assert recipient[0].display_name == "髙橋一郎"


def test_iso_2022_jp_salutation_outside_the_charset_does_not_stop_the_send() -> None:
    data = _factory(_rendition(charset="iso-2022-jp")).build(
        _personal(display_name="高橋一郎", salutation="株式会社テスト 髙橋一郎様"), now=NOW
    )
    plain = _parts(_parse(data))[0].get_content()
    assert "髙橋一郎様" in str(plain)


def test_iso_2022_jp_body_has_no_bare_cr() -> None:
    data = _factory(_rendition(charset="iso-2022-jp")).build(_personal(salutation="山田\r様"), now=NOW)
    _assert_lines_are_crlf_and_short(data)


def test_eight_bit_parts_go_as_they_are_when_the_server_allows_it() -> None:
    personal = _personal()
    data = _factory(_rendition()).build(personal, now=NOW, eight_bit=True)

    _assert_lines_are_crlf_and_short(data)
    message = _parse(data)
    parts = list(message.iter_parts())
    assert [part["Content-Transfer-Encoding"] for part in parts] == ["8bit", "8bit"]
    assert "株式会社テスト 山田太郎様" in parts[0].get_content()
    assert "株式会社テスト 山田太郎様" in parts[1].get_content()
    assert "株式会社テスト 山田太郎様".encode() in data  # no transfer encoding at all


def test_a_line_too_long_for_8bit_sends_that_part_as_base64() -> None:
    long_salutation = "様" * 400  # 1,200 octets in UTF-8 on the salutation's line
    data = _factory(_rendition()).build(_personal(salutation=long_salutation), now=NOW, eight_bit=True)

    _assert_lines_are_crlf_and_short(data)
    parts = list(_parse(data).iter_parts())
    assert [part["Content-Transfer-Encoding"] for part in parts] == ["base64", "base64"]
    assert long_salutation in parts[0].get_content()


_PIECES = st.text(alphabet=st.sampled_from([*"ab.\r\n <>&\"'日様", "\u3000"]), max_size=20)
_HOLES = st.sampled_from([f"@@OUTREACH:{name}@@" for name in ("salutation", "email", "preferences_url")])
_STAMPS = st.lists(st.one_of(_PIECES, _HOLES), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_STAMPS, html=_STAMPS, salutation=_PIECES, path=_PIECES)
@example(text="@@OUTREACH:salutation@@\n", html="x\r@@OUTREACH:salutation@@", salutation=".\n", path="")
def test_an_8bit_message_carries_each_part_filled_and_knows_when_it_needs_no_stuffing(
    text: str, html: str, salutation: str, path: str
) -> None:
    """The 8bit parts are filled from bytes encoded once per rendition (or, for a value with a line break,
    the whole text as before): each reads back as its stamp filled; `stuffed` is never wrong."""
    rendition = replace(
        _rendition(),
        text=Stamp.compile(text, escape_html=False),
        html=Stamp.compile(html, escape_html=True),
    )
    personal = replace(_personal(salutation=salutation), preferences_url=f"https://mailmag.example.jp/{path}")

    data, stuffed = _factory(rendition).build_marked(personal, now=NOW, eight_bit=True)

    _assert_lines_are_crlf_and_short(data)
    values = _values(personal)
    for part, stamp in zip(_parse(data).iter_parts(), (rendition.text, rendition.html), strict=True):
        assert part["Content-Transfer-Encoding"] == "8bit"
        # The CRLF before a boundary is the boundary's (RFC 2046 5.1.1): the part's text ends before it.
        expected = stamp.fill(values).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
        assert part.get_payload(decode=True) == expected.encode()
    if stuffed:
        assert dot_stuff(data) == data


def test_iso_2022_jp_never_goes_8bit() -> None:
    data = _factory(_rendition(charset="iso-2022-jp")).build(_personal(), now=NOW, eight_bit=True)

    assert data.isascii()
    assert [part["Content-Transfer-Encoding"] for part in _parse(data).iter_parts()] == ["7bit", "7bit"]


# DKIM that survives relays and breaks on tampering (issue 13, item 2).

DOMAIN_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_PEM = DOMAIN_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
)
KEY_RECORD = b"v=DKIM1; k=rsa; p=" + base64.b64encode(
    DOMAIN_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
)


def _dns(name: bytes, timeout: int = 5) -> bytes | None:
    return KEY_RECORD if name == b"mail._domainkey.example.jp." else None


def _verifies(message: bytes) -> bool:
    return bool(dkim.verify(message, dnsfunc=_dns))


def _relay_without_8bitmime(message: bytes) -> bytes:
    """What a relay does for a next hop without 8BITMIME (RFC 6152): each 8bit part becomes quoted-printable.

    It works on the bytes, as a relay does, and leaves a 7bit, quoted-printable or base64 part alone.
    """
    head, _, body = message.partition(b"\r\n\r\n")
    boundary = b"--" + re.search(rb'boundary="([^"]+)"', head).group(1)  # type: ignore[union-attr]
    chunks = body.split(boundary)
    for index, chunk in enumerate(chunks):
        part_head, blank, part_body = chunk.partition(b"\r\n\r\n")
        if blank and part_head.endswith(b"Content-Transfer-Encoding: 8bit"):
            encoded = quopri.encodestring(part_body[:-2].replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
            chunks[index] = part_head[: -len(b"8bit")] + b"quoted-printable" + blank + encoded + b"\r\n"
    return head + b"\r\n\r\n" + boundary.join(chunks)


def _signed(*, eight_bit: bool) -> bytes:
    message = _factory(_rendition()).build(_personal(), now=NOW, eight_bit=eight_bit)
    return DkimSigner(selector="mail", domain="example.jp", private_key=KEY_PEM).sign(message)


def test_a_signed_message_has_only_7bit_parts_and_survives_a_relay_without_8bitmime() -> None:
    signed = _signed(eight_bit=True)  # the server offered 8BITMIME, but DKIM is on

    assert signed.isascii()
    parts = list(_parse(signed).iter_parts())
    assert [part["Content-Transfer-Encoding"] for part in parts] == ["base64", "base64"]
    assert "株式会社テスト 山田太郎様" in parts[0].get_content()
    assert _relay_without_8bitmime(signed) == signed  # nothing left for the relay to rewrite
    assert _verifies(_relay_without_8bitmime(signed))


def test_an_8bit_body_signed_as_it_was_breaks_at_such_a_relay() -> None:
    """Why: the same message signed with its 8bit parts (what outreach did before) fails after the hop."""
    message = _factory(_rendition()).build(_personal(), now=NOW, eight_bit=True)
    signature = dkim.sign(message, b"mail", b"example.jp", KEY_PEM, canonicalize=(b"relaxed", b"relaxed"))
    assert _verifies(signature + message)
    assert not _verifies(_relay_without_8bitmime(signature + message))


def test_seven_bit_makes_what_build_makes_without_8bitmime() -> None:
    personal = _personal(salutation="山田様\n------\n--")  # lines that look like a boundary's start
    factory = _factory(_rendition())
    eight = factory.build(personal, now=NOW, eight_bit=True)
    seven = factory.build(personal, now=NOW, eight_bit=False)
    assert seven_bit(eight) == seven
    assert seven_bit(seven) is seven


@pytest.mark.parametrize(
    "added",
    [
        b"Reply-To: attacker@example.com\r\n",
        b"Cc: someone@example.com\r\n",
        b"Subject: =?utf-8?b?5Y+j5bqn55Wq5Y+3?=\r\n",
        b"From: other@example.com\r\n",
        b"List-Unsubscribe: <https://attacker.example.com/u>\r\n",
        b"Message-ID: <second@example.com>\r\n",
    ],
)
def test_a_header_added_after_signing_breaks_the_signature(added: bytes) -> None:
    signed = _signed(eight_bit=False)
    assert _verifies(signed)
    head, _, body = signed.partition(b"\r\n\r\n")
    assert not _verifies(head + b"\r\n" + added.rstrip(b"\r\n") + b"\r\n\r\n" + body)
    assert not _verifies(added + signed)


def test_the_trusted_headers_are_signed_once_more_than_they_appear() -> None:
    message = _factory(_rendition()).build(_personal(), now=NOW)
    names = signed_headers(message)
    for name in (b"from", b"to", b"subject", b"date", b"message-id", b"list-id", b"list-unsubscribe"):
        assert names.count(name) == 2, name
    for name in (b"reply-to", b"cc", b"list-help", b"list-post"):
        assert names.count(name) == 1, name  # absent: signed as absent
    signed = _signed(eight_bit=False)
    tag = re.search(rb"\bh=([^;]+);", signed.replace(b"\r\n", b"").replace(b" ", b""))
    assert tag is not None
    assert tag.group(1).split(b":") == names


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_the_list_id_has_a_descriptive_name_and_the_feedback_id_names_the_send(charset: str) -> None:
    factory = MessageFactory(
        _rendition(charset=charset),
        sender_name=SENDER_NAME,
        sender_address=SENDER_ADDRESS,
        list_id=LIST_ID,
        list_name="中堅・中小企業海外安全対策ネットワーク メールマガジン",
        feedback_id="issue2:jetro:ja:outreach",
    )
    data = factory.build(_personal(), now=NOW)
    message = _parse(data, email.policy.strict)
    assert message.defects == []
    assert str(message["List-Id"]) == f"中堅・中小企業海外安全対策ネットワーク メールマガジン <{LIST_ID}>"
    assert message["Feedback-ID"] == "issue2:jetro:ja:outreach"
    assert data.isascii()  # the name travels as encoded words
