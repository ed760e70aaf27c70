"""One SMTP connection against a real server that misbehaves on purpose: what a send returns or raises."""

from __future__ import annotations

import asyncio

import pytest

from outreach.config import SmtpRelay, SmtpTimeouts
from outreach.smtp import ConnectionLost, SmtpConnection, SmtpReply
from tests.smtp_server import SmtpServer

MESSAGE = b"Subject: hello\r\n\r\nhello\r\n"
PATIENT = SmtpTimeouts(connect=10, command=10, data_start=10, data_block=10, data_end=10)
REFUSED, FINE = "refused@example.jp", "fine@example.jp"


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def server(request: pytest.FixtureRequest, smtp_server: SmtpServer) -> SmtpServer:
    smtp_server.handler.pipelining = request.param
    return smtp_server


async def _open(server: SmtpServer, timeouts: SmtpTimeouts = PATIENT) -> SmtpConnection:
    connection = SmtpConnection(SmtpRelay("127.0.0.1", server.port, "none"), timeouts=timeouts)
    await connection.open()
    assert connection.pipelining == server.handler.pipelining  # the test runs the mode it says it runs
    return connection


async def _send(connection: SmtpConnection, recipient: str, message: bytes = MESSAGE) -> SmtpReply:
    return await connection.send(sender="mailmag@example.jp", recipient=recipient, message=message)


def _send_one(server: SmtpServer, recipient: str, timeouts: SmtpTimeouts = PATIENT) -> SmtpReply:
    async def go() -> SmtpReply:
        connection = await _open(server, timeouts)
        try:
            return await _send(connection, recipient)
        finally:
            await connection.close()

    return asyncio.run(go())


def test_a_252_to_rcpt_is_returned_and_no_data_goes_out(server: SmtpServer) -> None:
    server.handler.rcpt_replies[REFUSED] = "252 2.1.5 Cannot VRFY user, but will accept message"

    async def go() -> tuple[SmtpReply, SmtpReply]:
        connection = await _open(server)
        cannot_verify = await _send(connection, REFUSED)
        fine = await _send(connection, FINE)  # the same connection object goes on sending
        await connection.close()
        return cannot_verify, fine

    cannot_verify, fine = asyncio.run(go())

    assert (cannot_verify.code, cannot_verify.stage) == (252, "RCPT")
    assert (fine.code, fine.stage) == (250, "end-of-data")
    assert server.handler.copies() == {FINE: 1}  # not even an empty message for the 252


def test_a_refused_recipient_is_returned_with_its_stage_and_the_connection_goes_on(
    server: SmtpServer,
) -> None:
    server.handler.rcpt_replies[REFUSED] = f"550 5.1.1 <{REFUSED}>: user unknown"

    async def go() -> tuple[SmtpReply, bool, SmtpReply]:
        connection = await _open(server)
        refused = await _send(connection, REFUSED)
        still_open = connection.is_open
        fine = await _send(connection, FINE)
        await connection.close()
        return refused, still_open, fine

    refused, still_open, fine = asyncio.run(go())

    assert (refused.code, refused.stage) == (550, "RCPT")
    assert refused.text == f"5.1.1 <{REFUSED}>: user unknown"
    assert still_open
    assert fine.code == 250
    assert server.handler.copies() == {FINE: 1}


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("250 " + "x" * 70 * 1024, "a line over 65536 bytes"),
        ("\r\n".join(["250-" + "y" * 4000] * 20 + ["250 ok"]), "over 65536 bytes"),
        ("\r\n".join(["250-line"] * 150 + ["250 ok"]), "over 100 lines"),
    ],
    ids=["long-line", "many-bytes", "many-lines"],
)
@pytest.mark.parametrize("stage", ["RCPT", "end-of-data"])
def test_an_overlong_reply_loses_the_connection_and_a_fresh_one_works(
    server: SmtpServer, reply: str, problem: str, stage: str
) -> None:
    replies = server.handler.rcpt_replies if stage == "RCPT" else server.handler.data_replies
    replies[REFUSED] = reply

    with pytest.raises(ConnectionLost, match=f"reply too long: {problem}"):
        _send_one(server, REFUSED)

    assert _send_one(server, FINE).code == 250
    assert server.handler.copies() == {FINE: 1}


def test_a_long_reply_within_the_limits_keeps_2000_characters(server: SmtpServer) -> None:
    server.handler.data_replies[REFUSED] = "550 5.7.1 " + "z" * 10_000

    reply = _send_one(server, REFUSED)

    assert (reply.code, reply.stage) == (550, "end-of-data")
    assert reply.text == "5.7.1 " + "z" * 1994


def test_the_end_of_data_reply_has_its_own_longer_timeout(server: SmtpServer) -> None:
    server.handler.delays[FINE] = [0.8]  # longer than every other timeout, shorter than data_end
    quick = SmtpTimeouts(connect=10, command=0.3, data_start=0.3, data_block=0.3, data_end=5.0)

    reply = _send_one(server, FINE, quick)

    assert reply.code == 250
    assert server.handler.copies() == {FINE: 1}


def test_an_end_of_data_reply_slower_than_its_timeout_loses_the_connection(server: SmtpServer) -> None:
    server.handler.delays[FINE] = [5.0]
    impatient = SmtpTimeouts(connect=10, command=10, data_start=10, data_block=10, data_end=0.3)

    async def go() -> SmtpConnection:
        connection = await _open(server, impatient)
        with pytest.raises(ConnectionLost, match="timed out: the reply to end-of-data"):
            await _send(connection, FINE)
        return connection

    assert not asyncio.run(go()).is_open


def test_a_large_message_goes_out_whole_in_blocks(server: SmtpServer) -> None:
    body = b"".join(b"line %06d .with a dot\r\n.leading dot\r\n" % number for number in range(10_000))
    message = b"Subject: large\r\n\r\n" + body

    async def go() -> SmtpReply:
        connection = await _open(server)
        reply = await _send(connection, FINE, message)
        await connection.close()
        return reply

    assert asyncio.run(go()).code == 250
    [received] = server.handler.to(FINE)
    assert len(message) > 4 * 2**16
    assert received.data == message
