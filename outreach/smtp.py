"""One SMTP connection for bulk sending: aiosmtplib opens it (TLS, STARTTLS, AUTH, EHLO), then messages that
are already encoded go out with MAIL, RCPT and DATA pipelined (RFC 2920) when the server offers it."""

from __future__ import annotations

__all__ = ["ConnectionLost", "SmtpConnection", "SmtpReply", "dot_stuff"]

import asyncio
import ssl
from dataclasses import dataclass
from functools import lru_cache

import aiosmtplib
from aiosmtplib.email import quote_address

from outreach.config import SmtpRelay
from outreach.errors import RelayUnavailable

_MAX_REPLY_LINES = 100


@dataclass(frozen=True)
class SmtpReply:
    """What the server answered to the last command of a message (DATA, or the one that refused it)."""

    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


class ConnectionLost(ConnectionError):
    """The connection dropped or timed out in the middle of a message: its fate is unknown."""


@lru_cache(maxsize=64)
def _checked_path(address: str) -> bytes:
    return quote_address(address).encode("ascii")


def _path(address: str) -> bytes:
    """`<address>` for MAIL FROM and RCPT TO; addresses were validated when they were stored."""
    if address.isascii() and address.isprintable() and not any(char in address for char in ' <>"()\\,;:'):
        return b"<" + address.encode("ascii") + b">"
    return _checked_path(address)


def dot_stuff(message: bytes) -> bytes:
    """Double a leading dot on any line (RFC 5321 4.5.2); base64 bodies and our headers never have one."""
    if message.startswith(b"."):
        message = b"." + message
    if b"\n." in message:
        message = message.replace(b"\n.", b"\n..")
    return message


class SmtpConnection:
    """Sends whole messages over one connection: any reply is returned, a drop raises ConnectionLost."""

    def __init__(
        self, relay: SmtpRelay, *, timeout: float = 60.0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.relay = relay
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.pipelining = False
        self.eight_bit = False
        self.max_size: int | None = None

    def describe(self) -> str:
        return f"SMTP relay {self.relay}"

    @property
    def is_open(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def open(self) -> None:
        relay = self.relay
        context = self._ssl_context or (ssl.create_default_context() if relay.security != "none" else None)
        client = aiosmtplib.SMTP(
            hostname=relay.host,
            port=relay.port,
            use_tls=relay.security == "tls",
            start_tls=relay.security == "starttls",
            timeout=self._timeout,
            tls_context=context,
        )
        try:
            await client.connect(
                username=relay.username,
                password=relay.password.reveal() if relay.password else None,
            )
            await client.ehlo()
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise RelayUnavailable(f"cannot connect to the {self.describe()}: {exc}") from None
        self.pipelining = client.supports_extension("pipelining")
        self.eight_bit = client.supports_extension("8bitmime")
        size = client.esmtp_extensions.get("size", "")
        self.max_size = int(size) if size.isdigit() and int(size) > 0 else None
        self._take_over(client)

    def _take_over(self, client: aiosmtplib.SMTP) -> None:
        """Move the open transport from aiosmtplib's protocol to a stream reader and writer of our own."""
        transport = client.transport
        assert isinstance(transport, asyncio.WriteTransport)
        assert isinstance(transport, asyncio.ReadTransport)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**16, loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        self._reader = reader
        self._writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        client.protocol = None  # aiosmtplib must no longer read from or close this transport
        client.transport = None

    async def send(self, *, sender: str, recipient: str, message: bytes, label: str = "") -> SmtpReply:
        """Send one message (CRLF line ends, not yet dot-stuffed) to one recipient."""
        try:
            return await asyncio.wait_for(self._transaction(sender, recipient, message), self._timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ConnectionError) as exc:
            self.abort()
            raise ConnectionLost(str(exc) or type(exc).__name__) from None

    async def _transaction(self, sender: str, recipient: str, message: bytes) -> SmtpReply:
        body = b"" if message.isascii() else b" BODY=8BITMIME"
        envelope = [
            b"MAIL FROM:" + _path(sender) + body + b"\r\n",
            b"RCPT TO:" + _path(recipient) + b"\r\n",
            b"DATA\r\n",
        ]
        if self.pipelining:
            self._write(b"".join(envelope))
            replies = [await self._reply() for _ in envelope]
        else:
            replies = []
            for command in envelope:
                self._write(command)
                replies.append(await self._reply())
                if replies[-1].code >= 400:
                    break
        refusal = next((reply for reply in replies if reply.code not in (250, 251, 354)), None)
        if refusal is not None:
            if (
                replies[-1].code == 354
            ):  # a server that still opened DATA gets an empty message it must refuse
                self._write(b".\r\n")
                await self._reply()
            await self._reset()
            return refusal
        self._write(dot_stuff(message) + (b"" if message.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        return await self._reply()

    def _write(self, data: bytes) -> None:
        if self._writer is None:
            raise ConnectionLost("not connected")
        self._writer.write(data)

    async def _reply(self) -> SmtpReply:
        assert self._reader is not None
        assert self._writer is not None
        await self._writer.drain()
        lines: list[str] = []
        code = 0
        for _ in range(_MAX_REPLY_LINES):
            line = await self._reader.readuntil(b"\n")
            code_text, separator, text = line[:3], line[3:4], line[4:]
            if not code_text.isdigit():
                raise ConnectionLost(f"malformed reply {line[:80]!r}")
            code = int(code_text)
            lines.append(text.decode("utf-8", "replace").strip())
            if separator != b"-":
                return SmtpReply(code, "\n".join(lines))
        raise ConnectionLost("reply too long")

    async def _reset(self) -> None:
        self._write(b"RSET\r\n")
        reply = await self._reply()
        if reply.code != 250:
            raise ConnectionLost(f"RSET answered {reply}")

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.transport.abort()
        self._reader = self._writer = None

    async def close(self) -> None:
        if self._writer is None:
            return
        try:
            self._write(b"QUIT\r\n")
            await asyncio.wait_for(self._reply(), 5)
        except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if self._writer is not None:
                self._writer.close()
            self._reader = self._writer = None
