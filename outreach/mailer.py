"""Hands messages to a mail server (aiosmtplib, one reused connection) or writes them to a local outbox."""

from __future__ import annotations

__all__ = ["ConnectionLost", "FileMailer", "Mailer", "SmtpMailer", "SmtpReply", "make_mailer"]

import os
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiosmtplib

from outreach.config import Settings, SmtpRelay
from outreach.errors import RelayUnavailable


@dataclass(frozen=True)
class SmtpReply:
    """What the server answered to the last command of a message (DATA, or the one that refused it)."""

    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


class ConnectionLost(ConnectionError):
    """The connection dropped or timed out in the middle of a message: its fate is unknown."""


class Mailer(Protocol):
    """Where delivery hands messages to; `send` answers with the server's reply, whatever its code."""

    async def open(self) -> None: ...

    async def send(self, *, sender: str, recipient: str, message: bytes, label: str) -> SmtpReply: ...

    async def close(self) -> None: ...

    def describe(self) -> str: ...


_REFUSALS = (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)
_DROPS = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, ConnectionError, OSError)


class SmtpMailer:
    """One SMTP connection, reused for many messages; MAIL, RCPT and DATA are sent one by one."""

    def __init__(self, relay: SmtpRelay, *, timeout: float = 60.0) -> None:
        self.relay = relay
        self._timeout = timeout
        self._smtp: aiosmtplib.SMTP | None = None

    def describe(self) -> str:
        return f"SMTP relay {self.relay}"

    async def open(self) -> None:
        relay = self.relay
        smtp = aiosmtplib.SMTP(
            hostname=relay.host,
            port=relay.port,
            use_tls=relay.security == "tls",
            start_tls=relay.security == "starttls",
            timeout=self._timeout,
            tls_context=ssl.create_default_context() if relay.security != "none" else None,
        )
        try:
            await smtp.connect(
                username=relay.username,
                password=relay.password.reveal() if relay.password else None,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RelayUnavailable(f"cannot connect to the {self.describe()}: {exc}") from None
        self._smtp = smtp

    async def send(self, *, sender: str, recipient: str, message: bytes, label: str) -> SmtpReply:
        if self._smtp is None or not self._smtp.is_connected:
            raise ConnectionLost("not connected")
        smtp = self._smtp
        try:
            await smtp.mail(sender)
            await smtp.rcpt(recipient)
            response = await smtp.data(message)
        except _REFUSALS as exc:
            await self._reset()
            return SmtpReply(exc.code, exc.message)
        except _DROPS as exc:
            self._drop()
            raise ConnectionLost(str(exc) or type(exc).__name__) from None
        return SmtpReply(response.code, response.message)

    async def _reset(self) -> None:
        """RSET after a refusal; a server that hangs up after a 421 is reconnected on the next message."""
        assert self._smtp is not None
        try:
            await self._smtp.rset()
        except (*_DROPS, aiosmtplib.SMTPResponseException):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
        self._smtp = None

    async def close(self) -> None:
        if self._smtp is None:
            return
        try:
            await self._smtp.quit()
        except (*_DROPS, aiosmtplib.SMTPResponseException):
            self._smtp.close()
        self._smtp = None


_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


class FileMailer:
    """Writes each message as an .eml file under the outbox folder, for running with no mail server."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return f"local outbox {self.folder}"

    async def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    async def send(self, *, sender: str, recipient: str, message: bytes, label: str) -> SmtpReply:
        path = self.folder / Path(*[_UNSAFE.sub("_", part) for part in label.split("/")]).with_suffix(".eml")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".eml.part")
        partial.write_bytes(message)
        os.replace(partial, path)  # a crash never leaves half a message under the final name
        return SmtpReply(250, f"written to {path}")

    async def close(self) -> None:
        return None


def make_mailer(settings: Settings) -> Mailer:
    """The SMTP relay when OUTREACH_SMTP_URL is set, else the local outbox."""
    if settings.smtp is not None:
        return SmtpMailer(settings.smtp)
    return FileMailer(settings.outbox_dir)
