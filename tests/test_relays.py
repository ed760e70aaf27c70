"""Relays as they are run for real: STARTTLS and implicit TLS with AUTH, and DKIM-signed messages."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dkim
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from outreach.config import Secret, SmtpRelay, SmtpTimeouts
from outreach.dkim import DkimSigner
from outreach.errors import RelayUnavailable
from outreach.smtp import SmtpConnection
from tests.smtp_server import free_port

MESSAGE = b"From: mailmag@example.jp\r\nTo: sme@example.jp\r\nSubject: tls\r\n\r\nhello\r\n"


@dataclass
class _SecureHandler:
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.seen.append({"tls": encrypted, "login": session.auth_data, "data": envelope.content})
        return "250 2.0.0 Ok"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    good = auth_data.login == b"outreach" and auth_data.password == b"p@ss word"
    return AuthResult(success=good, handled=False, auth_data=auth_data.login if good else None)


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


def _contexts(authority: trustme.CA) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server)
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return server, client


@pytest.fixture(params=["starttls", "tls"])
def secure_server(
    request: pytest.FixtureRequest, authority: trustme.CA
) -> Iterator[tuple[str, int, Any, Any]]:
    server_context, client_context = _contexts(authority)
    handler = _SecureHandler()
    port = free_port()
    # With implicit TLS the session is encrypted, but aiosmtpd's auth_require_tls only counts STARTTLS.
    options: dict[str, Any] = {
        "authenticator": _authenticate,
        "auth_require_tls": request.param == "starttls",
    }
    if request.param == "starttls":
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            tls_context=server_context,
            require_starttls=True,
            **options,
        )
    else:
        controller = Controller(
            handler, hostname="127.0.0.1", port=port, ssl_context=server_context, server_hostname="localhost",
            **options,
        )  # fmt: skip
    controller.start()
    yield request.param, port, handler, client_context
    controller.stop()


def _send(relay: SmtpRelay, context: ssl.SSLContext) -> int:
    async def go() -> int:
        connection = SmtpConnection(relay, ssl_context=context, timeouts=SmtpTimeouts(10, 10, 10, 10, 10))
        await connection.open()
        reply = await connection.send(
            sender="mailmag@example.jp", recipient="sme@example.jp", message=MESSAGE
        )
        await connection.close()
        return reply.code

    return asyncio.run(go())


def test_tls_and_auth_from_the_relay_url(secure_server: tuple[str, int, Any, Any]) -> None:
    security, port, handler, context = secure_server
    scheme = "smtp+starttls" if security == "starttls" else "smtps"
    relay = SmtpRelay.from_url(f"{scheme}://outreach:p%40ss%20word@localhost:{port}")

    assert _send(relay, context) == 250

    [seen] = handler.seen
    assert seen["tls"] is True
    assert seen["login"] == b"outreach"
    assert seen["data"] == MESSAGE


def test_a_wrong_password_or_an_untrusted_certificate_is_a_clear_refusal(
    secure_server: tuple[str, int, Any, Any],
) -> None:
    security, port, handler, context = secure_server
    wrong = SmtpRelay("localhost", port, security, "outreach", Secret("nope"))
    with pytest.raises(RelayUnavailable, match="cannot connect") as refused:
        _send(wrong, context)
    assert "nope" not in str(refused.value)

    right = SmtpRelay("localhost", port, security, "outreach", Secret("p@ss word"))
    with pytest.raises(RelayUnavailable, match="cannot connect"):
        _send(right, ssl.create_default_context())  # the system's CAs do not know the test CA
    assert handler.seen == []


def test_dkim_signatures_verify_and_cover_one_click_unsubscribe(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    message = (
        b"From: mailmag@example.jp\r\nTo: sme@example.jp\r\nSubject: dkim\r\n"
        b"Date: Tue, 1 Dec 2026 10:00:00 +0900\r\n"
        b"Message-ID: <m@example.jp>\r\nList-Unsubscribe: <https://mailmag.example.jp/unsubscribe/t>\r\n"
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n"
    )

    signed = DkimSigner(selector="mail", domain="example.jp", private_key=pem).sign(message)

    assert signed.endswith(message)
    assert dkim.verify(
        signed, dnsfunc=lambda name, timeout=5: record if name == b"mail._domainkey.example.jp." else None
    )
    header = signed[: signed.index(b"From:")].replace(b"\r\n", b"").lower()
    assert b"list-unsubscribe-post" in header
    assert not dkim.verify(signed.replace(b"hello", b"HELLO"), dnsfunc=lambda name, timeout=5: record)
