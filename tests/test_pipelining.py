"""Pipelining across transactions (RFC 2920) against a real server: the next message's commands go before the
previous reply, every message arrives once, and each reply, refusal or drop stays with its own message."""

from __future__ import annotations

import asyncio
import socket

import pytest

from outreach.config import SmtpRelay, SmtpTimeouts
from outreach.smtp import END_OF_DATA, ConnectionLost, DroppedBefore, Pending, SmtpConnection, SmtpReply
from outreach.smtp_replies import ReplyReader
from tests.smtp_server import SmtpServer

PATIENT = SmtpTimeouts(connect=10, command=10, data_start=10, data_block=10, data_end=10)
FIRST, SECOND, THIRD = "first@example.jp", "second@example.jp", "third@example.jp"


def _message(recipient: str) -> bytes:
    return f"Subject: for {recipient}\r\n\r\nhello\r\n.a leading dot\r\n".encode()


async def _open(server: SmtpServer) -> SmtpConnection:
    connection = SmtpConnection(SmtpRelay("127.0.0.1", server.port, "none"), timeouts=PATIENT)
    await connection.open()
    assert connection.pipelining == server.handler.pipelining
    return connection


async def _begin(connection: SmtpConnection, recipient: str) -> Pending:
    return await connection.begin(
        sender="mailmag@example.jp", recipient=recipient, message=_message(recipient)
    )


async def _outcome(pending: Pending) -> SmtpReply | str:
    """The reply, or the name of the error that took its place."""
    try:
        return await pending.reply()
    except ConnectionLost as exc:
        return type(exc).__name__


def _three_in_a_row(server: SmtpServer) -> list[SmtpReply | str]:
    """Begin three messages one after the other, and only then read their replies."""

    async def go() -> list[SmtpReply | str]:
        connection = await _open(server)
        pendings: list[Pending] = []
        outcomes: list[SmtpReply | str] = []
        for recipient in (FIRST, SECOND, THIRD):
            try:
                pendings.append(await _begin(connection, recipient))
            except ConnectionLost as exc:
                outcomes.append(f"{recipient}: {type(exc).__name__}")
        outcomes += [await _outcome(pending) for pending in pendings]
        await connection.close()
        return outcomes

    return asyncio.run(go())


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_messages_begun_back_to_back_each_arrive_once_with_their_own_reply(
    smtp_server: SmtpServer, pipelining: bool
) -> None:
    smtp_server.handler.pipelining = pipelining

    outcomes = _three_in_a_row(smtp_server)

    assert outcomes == [SmtpReply(250, "2.0.0 Ok: queued", END_OF_DATA)] * 3
    assert smtp_server.handler.copies() == {FIRST: 1, SECOND: 1, THIRD: 1}
    for recipient in (FIRST, SECOND, THIRD):
        [received] = smtp_server.handler.to(recipient)
        assert received.data == _message(recipient)  # the leading dot went stuffed and came back as it was


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_the_next_mail_goes_before_the_reply_only_where_the_server_offers_pipelining(
    smtp_server: SmtpServer, pipelining: bool
) -> None:
    handler = smtp_server.handler
    handler.pipelining = pipelining
    handler.await_next_mail = {FIRST} if pipelining else set()  # one-by-one, the server would wait in vain

    outcomes = _three_in_a_row(smtp_server)

    assert [outcome.code for outcome in outcomes if isinstance(outcome, SmtpReply)] == [250, 250, 250]
    assert handler.pipelined == ({FIRST: True} if pipelining else {})


def test_a_refused_recipient_mid_pipeline_gets_its_own_reply_and_the_others_theirs(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.handler.pipelining = True
    smtp_server.handler.rcpt_replies[SECOND] = f"550 5.1.1 <{SECOND}>: user unknown"
    smtp_server.handler.data_replies[THIRD] = "452 4.3.1 insufficient system storage"

    outcomes = _three_in_a_row(smtp_server)

    assert outcomes == [
        SmtpReply(250, "2.0.0 Ok: queued", END_OF_DATA),
        SmtpReply(550, f"5.1.1 <{SECOND}>: user unknown", "RCPT"),
        SmtpReply(452, "4.3.1 insufficient system storage", END_OF_DATA),
    ]
    assert smtp_server.handler.copies() == {FIRST: 1}


def test_a_drop_after_a_message_loses_its_reply_and_the_next_message_never_went(
    smtp_server: SmtpServer,
) -> None:
    """The server drops the connection at the first message's final dot: its fate is unknown (its reply
    raises), and the second, whose commands were already on their way, is known not to have gone."""
    smtp_server.handler.pipelining = True
    smtp_server.handler.drop_on_data[FIRST] = 1

    async def go() -> tuple[SmtpReply | str, bool]:
        connection = await _open(smtp_server)
        first = await _begin(connection, FIRST)
        with pytest.raises(DroppedBefore):
            await _begin(connection, SECOND)
        return await _outcome(first), connection.is_open

    first, still_open = asyncio.run(go())

    assert first == "ConnectionLost"
    assert not still_open
    assert smtp_server.handler.copies() == {}


def test_a_drop_during_a_message_raises_for_it_and_keeps_the_reply_of_the_one_before(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.handler.pipelining = True
    smtp_server.handler.drop_on_data[SECOND] = 1

    async def go() -> tuple[SmtpReply | str, SmtpReply | str]:
        connection = await _open(smtp_server)
        first = await _begin(connection, FIRST)
        second = await _begin(connection, SECOND)  # its data goes; the server drops at its final dot
        outcomes = await _outcome(first), await _outcome(second)
        with pytest.raises(DroppedBefore):  # the connection is gone: a third message knows it went nowhere
            await _begin(connection, THIRD)
        return outcomes

    first, second = asyncio.run(go())

    assert first == SmtpReply(250, "2.0.0 Ok: queued", END_OF_DATA)
    assert second == "ConnectionLost"
    assert smtp_server.handler.copies() == {FIRST: 1}


class _RecordingSocket:
    """Stands in for the transport's socket: the options set, and whether it fails as a closed one does."""

    def __init__(self, *, fails: bool = False) -> None:
        self.options: list[tuple[int, int, int]] = []
        self.fails = fails

    def setsockopt(self, level: int, option: int, value: int) -> None:
        if self.fails:
            raise OSError("closed")
        self.options.append((level, option, value))


class _Transport(asyncio.Transport):
    def __init__(self, sock: _RecordingSocket) -> None:
        super().__init__()
        self.sock = sock

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self.sock if name == "socket" else default


@pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is Linux's")
def test_every_read_is_acknowledged_at_once_so_the_servers_next_replies_are_not_held_by_nagle() -> None:
    sock = _RecordingSocket()
    reader = ReplyReader()
    reader.connection_made(_Transport(sock))
    reader.data_received(b"250 2.0.0 Ok: queued\r\n250 2.1.0 Ok\r\n")
    reader.data_received(b"250 2.1.5 Ok\r\n354 End data")
    assert sock.options == [(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)] * 2


@pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is Linux's")
def test_a_socket_that_refuses_the_option_is_left_alone_and_replies_are_still_read() -> None:
    sock = _RecordingSocket(fails=True)
    reader = ReplyReader()
    reader.connection_made(_Transport(sock))
    reader.data_received(b"250 Ok\r\n")
    sock.fails = False
    reader.data_received(b"354 End data\r\n")
    assert sock.options == []  # refused once: not asked again on this connection

    async def replies() -> list[tuple[int, str]]:
        return [await reader.expect(), await reader.expect()]

    assert asyncio.run(replies()) == [(250, "Ok"), (354, "End data")]
