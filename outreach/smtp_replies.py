"""The reading side of an SMTP connection: replies parsed as they arrive and handed out in the order the
commands went, which is the order the server answers them in, pipelined or not (RFC 2920 3.1)."""

from __future__ import annotations

__all__ = ["ConnectionLost", "Reply", "ReplyReader"]

import asyncio
import socket
from collections import deque

Reply = tuple[int, str]  # the code, and the text of all its lines

# RFC 5321 4.5.3.1.5 allows 512 octets a reply line; we tolerate far more, but a bounded amount, because a
# reader without bounds lets one broken server take the worker's memory or crash it.
READ_LIMIT = 2**16  # the longest reply line
_MAX_REPLY_LINES = 100
_MAX_REPLY_BYTES = 2**16  # all the lines of one reply together
_MAX_REPLY_TEXT = 2000  # characters of a reply kept: the text goes into the ledger
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


class ConnectionLost(ConnectionError):
    """The connection dropped, timed out or broke the protocol during a message: its fate is unknown."""


class ReplyReader(asyncio.Protocol):
    """The protocol of a connection once it is ours: `expect()` is a future for the next reply not yet
    promised to anyone; a broken reply or a drop fails every promise at once, and the connection.

    It also follows the transport's flow control, so that a writer can wait (`drain`) while the kernel's
    buffer is full. Parsing in `data_received` costs no task switch per line, as a StreamReader's did."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._socket: socket.socket | None = None
        self._buffer = bytearray()
        self._lines: list[str] = []
        self._size = 0
        self._unclaimed: deque[Reply] = deque()  # replies that came before anyone asked for them
        self._promised: deque[asyncio.Future[Reply]] = deque()
        self._failure: ConnectionLost | None = None
        self._paused = False
        self._drained: asyncio.Future[None] | None = None

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport: ours connects by TCP
        self._socket = transport.get_extra_info("socket") if _QUICKACK is not None else None

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while (end := buffer.find(b"\n", start)) >= 0:
            if end - start >= READ_LIMIT:
                self.fail(ConnectionLost(f"reply too long: a line over {READ_LIMIT} bytes"))
                return
            self._line(bytes(buffer[start : end + 1]))
            if self._failure is not None:
                return
            start = end + 1
        del buffer[:start]
        if len(buffer) >= READ_LIMIT:
            self.fail(ConnectionLost(f"reply too long: a line over {READ_LIMIT} bytes"))
            return
        self._acknowledge()

    def _acknowledge(self) -> None:
        """Acknowledge what was read now, not after the kernel's delayed-ACK timer (up to 40 ms on Linux).

        Pipelined, the server's replies to our next envelope can sit behind its Nagle algorithm until our
        ACK of its previous reply arrives, while we wait for them: one message in fifty stalled 40 ms into
        Postfix's smtp-sink, more than half the time of a send on one connection."""
        if self._socket is not None:
            try:
                self._socket.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)  # type: ignore[arg-type]
            except OSError:  # not TCP after all (a test's socket pair), or already closed
                self._socket = None

    def eof_received(self) -> bool:
        self.fail(ConnectionLost("the server closed the connection"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(ConnectionLost(str(exc) if exc else "the connection closed"))

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake_writer(None)

    # --- for the connection ----------------------------------------------------------------

    def expect(self) -> asyncio.Future[Reply]:
        """The next reply, in the order the commands were written; raises ConnectionLost when it is gone."""
        promise: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        if self._unclaimed:  # a reply that came before the drop is still read, as a stream's would be
            promise.set_result(self._unclaimed.popleft())
        elif self._failure is not None:
            raise ConnectionLost(str(self._failure))
        else:
            self._promised.append(promise)
        return promise

    async def drain(self) -> None:
        """Return once the transport takes more data."""
        if self._failure is not None:
            raise ConnectionLost(str(self._failure))
        if self._paused:
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained

    def fail(self, failure: ConnectionLost) -> None:
        """The connection is lost: every promised reply raises `failure`, the transport is closed."""
        if self._failure is None:
            self._failure = failure
        while self._promised:
            promise = self._promised.popleft()
            if not promise.done():
                promise.set_exception(ConnectionLost(str(failure)))
                promise.exception()  # no "never retrieved" warning for the replies nobody waits for now
        self._wake_writer(failure)
        if self.transport is not None:
            self.transport.abort()

    # --- parsing -------------------------------------------------------------------------------

    def _line(self, line: bytes) -> None:
        self._size += len(line)
        if self._size > _MAX_REPLY_BYTES:
            self.fail(ConnectionLost(f"reply too long: over {_MAX_REPLY_BYTES} bytes"))
            return
        code, separator = line[:3], line[3:4]
        if not code.isdigit():
            self.fail(ConnectionLost(f"malformed reply {line[:80]!r}"))
            return
        self._lines.append(line[4:].decode("utf-8", "replace").strip())
        if separator == b"-":
            if len(self._lines) >= _MAX_REPLY_LINES:
                self.fail(ConnectionLost(f"reply too long: over {_MAX_REPLY_LINES} lines"))
            return
        reply = (int(code), "\n".join(self._lines)[:_MAX_REPLY_TEXT])
        self._lines, self._size = [], 0
        while self._promised:
            promise = self._promised.popleft()
            if not promise.done():
                promise.set_result(reply)
                return
        self._unclaimed.append(reply)

    def _wake_writer(self, failure: ConnectionLost | None) -> None:
        waiter, self._drained = self._drained, None
        if waiter is None or waiter.done():
            return
        if failure is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(ConnectionLost(str(failure)))
            waiter.exception()
