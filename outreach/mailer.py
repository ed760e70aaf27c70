"""Where messages go: the Mailer interface, the SMTP connection, and a local outbox folder of .eml files."""

from __future__ import annotations

__all__ = [
    "ConnectionLost",
    "DroppedBefore",
    "FileMailer",
    "Mailer",
    "Pending",
    "SmtpConnection",
    "SmtpMailer",
    "SmtpReply",
    "make_mailer",
]

import os
import re
from pathlib import Path
from typing import Protocol

from outreach.config import Settings
from outreach.smtp import ConnectionLost, DroppedBefore, Pending, SmtpConnection, SmtpReply

SmtpMailer = SmtpConnection  # the name the first version used


class Mailer(Protocol):
    """Where delivery hands messages to; `send` answers with the server's reply, whatever its code.

    `open` raises RelayUnavailable when the server cannot be reached; `send` raises ConnectionLost when the
    connection drops with the message in flight. `eight_bit`: messages may carry 8bit parts (8BITMIME).
    `begin` hands a message over and returns before its reply, which `Pending.reply()` waits for: the next
    message may go meanwhile (a bulk send's connection pipelines them); `stuffed`: no line starts with a dot.
    """

    eight_bit: bool
    pipelining: bool  # `begin` returns before the reply of the message before (RFC 2920)

    @property
    def is_open(self) -> bool: ...

    async def open(self) -> None: ...

    async def send(self, *, sender: str, recipient: str, message: bytes, label: str) -> SmtpReply: ...

    async def begin(
        self, *, sender: str, recipient: str, message: bytes, label: str, stuffed: bool = False
    ) -> Pending: ...

    async def close(self) -> None: ...

    def describe(self) -> str: ...


_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


class FileMailer:
    """Writes each message as an .eml file under the outbox folder, for running with no mail server."""

    eight_bit = True  # files carry any bytes
    is_open = True  # nothing to lose
    pipelining = False  # each file is written before `begin` returns

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return f"local outbox {self.folder}"

    async def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    async def send(self, *, sender: str, recipient: str, message: bytes, label: str) -> SmtpReply:
        parts = [_UNSAFE.sub("_", part) for part in label.split("/")]
        path = self.folder / Path(*parts[:-1]) / f"{parts[-1]}.eml"  # not with_suffix: labels end in a domain
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".eml.part")
        partial.write_bytes(message)
        os.replace(partial, path)  # a crash never leaves half a message under the final name
        return SmtpReply(250, f"written to {path}")

    async def begin(
        self, *, sender: str, recipient: str, message: bytes, label: str, stuffed: bool = False
    ) -> Pending:
        """The file is written at once: its reply is there before the next message."""
        return Pending.replied(
            await self.send(sender=sender, recipient=recipient, message=message, label=label)
        )

    async def close(self) -> None:
        return None


def make_mailer(settings: Settings) -> Mailer:
    """One connection to the main SMTP relay when OUTREACH_SMTP_URL is set, else the local outbox."""
    if settings.smtp is not None:
        return SmtpConnection(settings.smtp, timeouts=settings.delivery.timeouts)
    return FileMailer(settings.outbox_dir)
