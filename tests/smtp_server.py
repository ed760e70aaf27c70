"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, a free port) that records what it receives.

Its misbehaviour is set per test: a reply for RCPT or DATA to a given address (any text, even several lines
or one line longer than a client reads), a dropped connection, a slow reply; it can offer PIPELINING
(RFC 2920), which aiosmtpd reads correctly but does not announce itself.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class RecordingHandler:
    messages: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_replies: dict[str, str] = field(default_factory=dict)
    drop_on_data: dict[str, int] = field(default_factory=dict)
    delays: dict[str, list[float]] = field(default_factory=dict)
    pipelining: bool = False
    # Before answering the final dot of a message to these recipients, wait (up to 5 s) for the client's next
    # MAIL FROM: a client that pipelines across transactions (RFC 2920) has sent it; `pipelined` tells.
    await_next_mail: set[str] = field(default_factory=set)
    pipelined: dict[str, bool] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        reply = self.rcpt_replies.get(address)
        if reply is not None:
            if reply.startswith("2"):  # e.g. 252 "cannot verify, will try": a real server takes the recipient
                envelope.rcpt_tos.append(address)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipient = envelope.rcpt_tos[0]
        with self.lock:
            drops_left = self.drop_on_data.get(recipient, 0)
            if drops_left:
                self.drop_on_data[recipient] = drops_left - 1
        if drops_left:
            server.transport.close()
            return "421 4.4.2 connection dropped by the test"
        with self.lock:
            pending = self.delays.get(recipient)
            delay = pending.pop(0) if pending else 0.0
        if delay:
            await asyncio.sleep(delay)  # the server is slow to answer: the client must time out
            if server.transport is None or server.transport.is_closing():
                return "421 4.4.2 the client left before the reply"  # not recorded: it was never confirmed
        if recipient in self.await_next_mail:
            self.pipelined[recipient] = await _next_mail_buffered(server)
        reply = self.data_replies.get(recipient)
        if reply is not None:
            return reply
        with self.lock:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 2.0.0 Ok: queued"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def copies(self) -> dict[str, int]:
        """How many messages each recipient received."""
        with self.lock:
            counts: dict[str, int] = {}
            for message in self.messages:
                for address in message.rcpt_tos:
                    counts[address] = counts.get(address, 0) + 1
            return counts

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [message for message in self.messages if address in message.rcpt_tos]


async def _next_mail_buffered(server: Any, *, within: float = 5.0) -> bool:
    """Whether the client sent its next MAIL FROM before it had this message's reply: it lies unread in the
    server's stream buffer (aiosmtpd reads one command at a time). A client that waits never sends it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while b"MAIL FROM" not in bytes(server._reader._buffer):  # aiosmtpd has no public view of it
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
