"""One SMTP connection for bulk sending: aiosmtplib opens it (TLS, STARTTLS, AUTH, EHLO), then messages that
are already encoded go out with MAIL, RCPT and DATA pipelined (RFC 2920) when the server offers it."""

from __future__ import annotations

__all__ = ["END_OF_DATA", "ConnectionLost", "SmtpConnection", "SmtpReply", "dot_stuff"]

import asyncio
import math
import ssl
from collections.abc import Callable
from dataclasses import astuple, dataclass
from functools import lru_cache

import aiosmtplib
from aiosmtplib.email import quote_address

from outreach.config import SmtpRelay, SmtpTimeouts
from outreach.errors import RelayUnavailable

END_OF_DATA = "end-of-data"  # the stage of the reply after the final dot: the only one whose 250 means sent

# RFC 5321 4.5.3.1.5 allows 512 octets a reply line; we tolerate far more, but a bounded amount, because a
# reader without bounds lets one broken server take the worker's memory or crash it.
_READ_LIMIT = 2**16  # the longest reply line
_MAX_REPLY_LINES = 100
_MAX_REPLY_BYTES = 2**16  # all the lines of one reply together
_MAX_REPLY_TEXT = 2000  # characters of a reply kept: the text goes into the ledger
_BLOCK = 2**16  # message bytes written between two drains, each drain within data_block

# What each stage of a transaction needs to go on; any other reply ends the transaction.
_GOES_ON = {"MAIL": (250,), "RCPT": (250, 251), "DATA": (354,)}


@dataclass(frozen=True)
class SmtpReply:
    """What the server answered, and to which command (`stage`).

    The stages: "MAIL", "RCPT", "DATA" (its 354) and "end-of-data" (after the final dot). A transaction
    returns the reply after the final dot, or the first reply that stopped it."""

    code: int
    text: str
    stage: str = END_OF_DATA

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


class ConnectionLost(ConnectionError):
    """The connection dropped, timed out or broke the protocol during a message: its fate is unknown."""


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


def _envelope(sender: str, recipient: str, message: bytes) -> list[tuple[str, bytes]]:
    body = b"" if message.isascii() else b" BODY=8BITMIME"
    return [
        ("MAIL", b"MAIL FROM:" + _path(sender) + body + b"\r\n"),
        ("RCPT", b"RCPT TO:" + _path(recipient) + b"\r\n"),
        ("DATA", b"DATA\r\n"),
    ]


def _goes_on(reply: SmtpReply) -> bool:
    return reply.code in _GOES_ON.get(reply.stage, ())


async def _read_reply(reader: asyncio.StreamReader) -> tuple[int, str]:
    """One reply, all its lines; a reply too long or malformed raises ConnectionLost (the stream is lost)."""
    lines: list[str] = []
    size = 0
    for _ in range(_MAX_REPLY_LINES):
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise ConnectionLost(f"reply too long: a line over {_READ_LIMIT} bytes") from None
        size += len(line)
        if size > _MAX_REPLY_BYTES:
            raise ConnectionLost(f"reply too long: over {_MAX_REPLY_BYTES} bytes")
        code, separator = line[:3], line[3:4]
        if not code.isdigit():
            raise ConnectionLost(f"malformed reply {line[:80]!r}")
        lines.append(line[4:].decode("utf-8", "replace").strip())
        if separator != b"-":
            return int(code), "\n".join(lines)[:_MAX_REPLY_TEXT]
    raise ConnectionLost(f"reply too long: over {_MAX_REPLY_LINES} lines")


class SmtpConnection:
    """Sends whole messages over one connection: any reply is returned, a drop raises ConnectionLost."""

    def __init__(
        self,
        relay: SmtpRelay,
        *,
        timeouts: SmtpTimeouts = SmtpTimeouts(),  # noqa: B008 (frozen: one shared default is safe)
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.relay = relay
        self._timeouts = timeouts
        self._ssl_context = ssl_context
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reopen = False  # we dropped the connection on purpose; the next message opens a new one
        self._watchdog: _Watchdog | None = None
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
            timeout=self._timeouts.connect,  # aiosmtplib applies it to the greeting, STARTTLS, EHLO and AUTH
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
        self._reopen = False
        self._watchdog = _Watchdog(self._timeouts, on_expiry=self.abort)

    def _take_over(self, client: aiosmtplib.SMTP) -> None:
        """Move the open transport from aiosmtplib's protocol to a stream reader and writer of our own."""
        transport = client.transport
        assert isinstance(transport, asyncio.WriteTransport)
        assert isinstance(transport, asyncio.ReadTransport)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=_READ_LIMIT, loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        self._reader = reader
        self._writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        client.protocol = None  # aiosmtplib must no longer read from or close this transport
        client.transport = None

    async def send(self, *, sender: str, recipient: str, message: bytes, label: str = "") -> SmtpReply:
        """Send one message (CRLF line ends, not yet dot-stuffed) to one recipient.

        Returns the reply after the final dot, or the first reply that stopped the transaction (SmtpReply).
        Raises ConnectionLost on a drop, a timeout or an overlong reply; RelayUnavailable when a connection we
        closed on purpose cannot be opened again."""
        if self._reopen:
            await self.open()
        watchdog = self._watchdog
        try:
            return await self._transaction(sender, recipient, message)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:  # OSError: ConnectionLost too
            self.abort()
            if watchdog is not None and watchdog.expired is not None:
                raise ConnectionLost(f"timed out: {watchdog.expired}") from None
            raise ConnectionLost(str(exc) or type(exc).__name__) from None
        finally:
            if watchdog is not None:
                watchdog.disarm()

    async def _transaction(self, sender: str, recipient: str, message: bytes) -> SmtpReply:
        replies = await self._envelope_replies(_envelope(sender, recipient, message))
        refusal = next((reply for reply in replies if not _goes_on(reply)), None)
        if refusal is None:
            await self._write_message(message)
            return await self._reply(END_OF_DATA)
        if replies[-1].stage == "DATA" and replies[-1].code == 354:
            # The server holds an accepted recipient (a 252, say) and waits for the message: even an empty one
            # could be delivered, and the only way to take DATA back is to drop the connection (RFC 5321 3.8).
            self.abort()
            self._reopen = True
        else:
            await self._reset()
        return refusal

    async def _envelope_replies(self, commands: list[tuple[str, bytes]]) -> list[SmtpReply]:
        """MAIL, RCPT and DATA: all at once with PIPELINING, else one by one until a reply stops them."""
        if self.pipelining:
            self._write(b"".join(command for _, command in commands))
            return [await self._reply(stage) for stage, _ in commands]
        replies: list[SmtpReply] = []
        for stage, command in commands:
            self._write(command)
            replies.append(await self._reply(stage))
            if not _goes_on(replies[-1]):
                break
        return replies

    async def _write_message(self, message: bytes) -> None:
        """The message, dot-stuffed and ended by a dot, in blocks that must each drain within data_block."""
        data = memoryview(dot_stuff(message) + (b"" if message.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        for start in range(0, len(data), _BLOCK):
            writer = self._write(data[start : start + _BLOCK])
            self._wait(self._timeouts.data_block, "the message to be taken")
            await writer.drain()

    def _write(self, data: bytes | memoryview) -> asyncio.StreamWriter:
        if self._writer is None:
            raise ConnectionLost("not connected")
        self._writer.write(data)
        return self._writer

    def _timeout(self, stage: str) -> float:
        """RFC 5321 4.5.3.2: each reply has its own wait; the longest is for the end of data."""
        if stage == "DATA":
            return self._timeouts.data_start
        if stage == END_OF_DATA:
            return self._timeouts.data_end
        return self._timeouts.command

    def _wait(self, seconds: float, what: str) -> None:
        """Start the clock of the next wait of this message."""
        if self._watchdog is None:
            raise ConnectionLost("not connected")
        self._watchdog.arm(seconds, what)

    async def _reply(self, stage: str, *, within: float | None = None) -> SmtpReply:
        assert self._reader is not None
        assert self._writer is not None
        self._wait(within or self._timeout(stage), f"the reply to {stage}")
        await self._writer.drain()
        code, text = await _read_reply(self._reader)
        return SmtpReply(code, text, stage)

    async def _reset(self) -> None:
        self._write(b"RSET\r\n")
        reply = await self._reply("RSET")
        if reply.code != 250:
            raise ConnectionLost(f"RSET answered {reply}")

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.transport.abort()
        self._reader = self._writer = None
        if self._watchdog is not None:
            self._watchdog.stop()

    async def close(self) -> None:
        self._reopen = False
        if self._writer is None:
            return
        try:
            self._write(b"QUIT\r\n")
            await self._reply("QUIT", within=5)  # a goodbye: not worth the whole command timeout
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if self._writer is not None:
                self._writer.close()
            self._reader = self._writer = None
            if self._watchdog is not None:
                self._watchdog.stop()
                self._watchdog = None


class _Watchdog:
    """The timeouts of a connection without a timer per wait: each wait sets a deadline, a number, and one
    task per connection looks at it a few times a second (a timer per reply cost more than the reply)."""

    def __init__(self, timeouts: SmtpTimeouts, *, on_expiry: Callable[[], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._tick = min(1.0, min(astuple(timeouts)) / 4)
        self._deadline = math.inf
        self._what = ""
        self.expired: str | None = None  # what we were waiting for when time ran out
        self._task = self._loop.create_task(self._watch(on_expiry))

    def arm(self, seconds: float, what: str) -> None:
        self._deadline = self._loop.time() + seconds
        self._what = what

    def disarm(self) -> None:
        self._deadline = math.inf

    def stop(self) -> None:
        self._task.cancel()

    async def _watch(self, on_expiry: Callable[[], None]) -> None:
        while self._loop.time() <= self._deadline:
            await asyncio.sleep(self._tick)
        self.expired = self._what
        on_expiry()
