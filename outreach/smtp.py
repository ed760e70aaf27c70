"""One SMTP connection for bulk sending: aiosmtplib opens it (TLS, STARTTLS, AUTH, EHLO), then messages that
are already encoded go out with MAIL, RCPT and DATA pipelined (RFC 2920) when the server offers it, and the
next message's commands go out right after the previous message's final dot, without waiting for its reply.

A message goes in two steps: `begin` writes it (and returns once its data is written, or with the reply that
refused it), and the returned `Pending.reply()` waits for the reply after its final dot. `send` does both.
"""

from __future__ import annotations

__all__ = [
    "END_OF_DATA",
    "ConnectionLost",
    "DroppedBefore",
    "Pending",
    "SmtpConnection",
    "SmtpReply",
    "dot_stuff",
]

import asyncio
import math
import ssl
from collections.abc import Callable
from dataclasses import astuple, dataclass
from functools import lru_cache
from typing import cast

import aiosmtplib
from aiosmtplib.email import quote_address

from outreach.config import SmtpRelay, SmtpTimeouts
from outreach.errors import RelayUnavailable
from outreach.smtp_replies import ConnectionLost, Reply, ReplyReader

END_OF_DATA = "end-of-data"  # the stage of the reply after the final dot: the only one whose 250 means sent

_BLOCK = 2**16  # message bytes written between two drains, each drain within data_block
_LOST = (TimeoutError, OSError)  # OSError: ConnectionLost too

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


class DroppedBefore(ConnectionLost):
    """The connection broke before a message's turn, with the previous message's reply: none of its data went,
    so it cannot have been delivered, and it goes on a fresh connection like a message not yet tried."""


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


class Pending:
    """A message on its way: `reply()` is the reply after its final dot, or the one that refused it.
    Raises ConnectionLost when the connection dropped before that reply came."""

    def __init__(self, connection: SmtpConnection | None, outcome: asyncio.Future[Reply] | SmtpReply) -> None:
        self._connection = connection
        self._outcome = outcome

    @classmethod
    def replied(cls, reply: SmtpReply) -> Pending:
        return cls(None, reply)

    @property
    def lost(self) -> bool:
        """The connection broke before the reply came."""
        outcome = self._outcome
        return not isinstance(outcome, SmtpReply) and outcome.done() and outcome.exception() is not None

    async def reply(self) -> SmtpReply:
        if isinstance(self._outcome, SmtpReply):
            return self._outcome
        assert self._connection is not None
        return await self._connection.final_reply(self._outcome)


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
        self._replies: ReplyReader | None = None
        self._unanswered: asyncio.Future[Reply] | None = None  # the last message's reply, not yet read
        self._reopen = False  # we dropped the connection on purpose; the next message opens a new one
        self._watchdog: _Watchdog | None = None
        self.pipelining = False
        self.eight_bit = False
        self.max_size: int | None = None

    def describe(self) -> str:
        return f"SMTP relay {self.relay}"

    @property
    def is_open(self) -> bool:
        transport = self._replies.transport if self._replies is not None else None
        return transport is not None and not transport.is_closing()

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
        """Move the open transport from aiosmtplib's protocol to a reply reader of our own."""
        transport = cast(asyncio.Transport, client.transport)  # uvloop's is no asyncio.Transport subclass
        replies = ReplyReader()
        transport.set_protocol(replies)
        replies.connection_made(transport)
        self._replies, self._unanswered = replies, None
        client.protocol = None  # aiosmtplib must no longer read from or close this transport
        client.transport = None

    async def send(
        self, *, sender: str, recipient: str, message: bytes, label: str = "", stuffed: bool = False
    ) -> SmtpReply:
        """Send one message (CRLF line ends, not yet dot-stuffed) to one recipient.

        Returns the reply after the final dot, or the first reply that stopped the transaction (SmtpReply).
        Raises ConnectionLost on a drop, a timeout or an overlong reply; RelayUnavailable when a connection we
        closed on purpose cannot be opened again."""
        pending = await self.begin(sender=sender, recipient=recipient, message=message, stuffed=stuffed)
        return await pending.reply()

    async def begin(
        self, *, sender: str, recipient: str, message: bytes, label: str = "", stuffed: bool = False
    ) -> Pending:
        """Write one message, and return once it is written (or refused before its data).

        With PIPELINING the envelope follows the previous message's data at once: replies come in order,
        so the previous message's reply has come (or its connection broke) when this returns. `stuffed`: no
        line of `message` starts with a dot (its builder knows), so it need not be searched for one."""
        if self._reopen:
            await self.open()
        if not self.is_open:  # it broke or closed since the last message: nothing of this one goes
            raise DroppedBefore("not connected")
        replies = self._replies
        try:
            return await self._transaction(sender, recipient, message, stuffed=stuffed)
        except _LOST as exc:
            if self._replies is replies:
                self.abort()
            lost = DroppedBefore if isinstance(exc, DroppedBefore) else ConnectionLost
            raise lost(self._why(exc)) from None
        finally:
            if self._watchdog is not None:
                self._watchdog.disarm()

    async def final_reply(self, promise: asyncio.Future[Reply]) -> SmtpReply:
        """The reply after a message's final dot (Pending.reply)."""
        replies = self._replies
        try:
            code, text = await self._await(promise, END_OF_DATA)
        except _LOST as exc:
            if self._replies is replies:  # this connection, not a newer one opened since
                self.abort()
            raise ConnectionLost(self._why(exc)) from None
        finally:
            if self._watchdog is not None:
                self._watchdog.disarm()
        return SmtpReply(code, text, END_OF_DATA)

    def _why(self, exc: BaseException) -> str:
        if self._watchdog is not None and self._watchdog.expired is not None:
            return f"timed out: {self._watchdog.expired}"
        return str(exc) or type(exc).__name__

    async def _transaction(self, sender: str, recipient: str, message: bytes, *, stuffed: bool) -> Pending:
        replies = await self._envelope_replies(_envelope(sender, recipient, message))
        refusal = next((reply for reply in replies if not _goes_on(reply)), None)
        if refusal is None:
            await self._write_message(message, stuffed=stuffed)
            self._unanswered = self._reader().expect()
            return Pending(self, self._unanswered)
        if replies[-1].stage == "DATA" and replies[-1].code == 354:
            # The server holds an accepted recipient (a 252, say) and waits for the message: even an empty one
            # could be delivered, and the only way to take DATA back is to drop the connection (RFC 5321 3.8).
            self.abort()
            self._reopen = True
        else:
            await self._reset()
        return Pending.replied(refusal)

    async def _envelope_replies(self, commands: list[tuple[str, bytes]]) -> list[SmtpReply]:
        """MAIL, RCPT and DATA: all at once with PIPELINING, else one by one until a reply stops them."""
        unanswered, self._unanswered = self._unanswered, None
        if self.pipelining:
            self._write(b"".join(command for _, command in commands))
            promises = [self._reader().expect() for _ in commands]
            if unanswered is not None:  # the previous message's reply comes first: its own, longer wait
                await self._settled(unanswered)
            return [
                await self._reply(stage, promise)
                for (stage, _), promise in zip(commands, promises, strict=True)
            ]
        if unanswered is not None:  # no pipelining: no command before the previous reply is in
            await self._settled(unanswered)
        replies: list[SmtpReply] = []
        for stage, command in commands:
            self._write(command)
            replies.append(await self._reply(stage, self._reader().expect()))
            if not _goes_on(replies[-1]):
                break
        return replies

    async def _settled(self, promise: asyncio.Future[Reply]) -> None:
        """Wait for the previous message's reply, which stays in its promise for its Pending."""
        try:
            await self._await(promise, END_OF_DATA)
        except ConnectionLost as exc:
            raise DroppedBefore(str(exc)) from None

    async def _write_message(self, message: bytes, *, stuffed: bool) -> None:
        """The message, dot-stuffed and ended by a dot, in blocks that must each drain within data_block."""
        ending = b".\r\n" if message.endswith(b"\r\n") else b"\r\n.\r\n"
        data = (message if stuffed else dot_stuff(message)) + ending
        if len(data) <= _BLOCK:  # most messages: one write, one drain (which rarely has to wait)
            self._write(data)
            self._wait(self._timeouts.data_block, "the message to be taken")
            await self._reader().drain()
            return
        view = memoryview(data)
        for start in range(0, len(view), _BLOCK):
            self._write(view[start : start + _BLOCK])
            self._wait(self._timeouts.data_block, "the message to be taken")
            await self._reader().drain()

    def _reader(self) -> ReplyReader:
        if self._replies is None:
            raise ConnectionLost("not connected")
        return self._replies

    def _write(self, data: bytes | memoryview) -> None:
        transport = self._reader().transport
        if transport is None or transport.is_closing():
            raise ConnectionLost("not connected")
        transport.write(data)

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

    async def _await(
        self, promise: asyncio.Future[Reply], stage: str, *, within: float | None = None
    ) -> Reply:
        if not promise.done():
            self._wait(within or self._timeout(stage), f"the reply to {stage}")
        return await promise

    async def _reply(
        self, stage: str, promise: asyncio.Future[Reply], *, within: float | None = None
    ) -> SmtpReply:
        code, text = await self._await(promise, stage, within=within)
        return SmtpReply(code, text, stage)

    async def _reset(self) -> None:
        self._write(b"RSET\r\n")
        reply = await self._reply("RSET", self._reader().expect())
        if reply.code != 250:
            raise ConnectionLost(f"RSET answered {reply}")

    def abort(self) -> None:
        if self._replies is not None:
            self._replies.fail(ConnectionLost("the connection was closed"))
        self._replies = self._unanswered = None
        if self._watchdog is not None:
            self._watchdog.stop()

    async def close(self) -> None:
        self._reopen = False
        if self._replies is None:
            return
        try:
            self._write(b"QUIT\r\n")
            await self._reply("QUIT", self._reader().expect(), within=5)  # a goodbye: not the whole timeout
        except _LOST:
            pass
        finally:
            if self._replies is not None and self._replies.transport is not None:
                self._replies.transport.close()
            self._replies = self._unanswered = None
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
