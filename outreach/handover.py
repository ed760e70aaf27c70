"""A message handed over on one of a worker's connections, until its reply is read: after the next message
went out, where the connection pipelines (RFC 2920). A drop before the reply leaves its fate unknown: it goes
once more on a fresh connection, and a second drop leaves it unknown."""

from __future__ import annotations

__all__ = ["Sending"]

import logging
from dataclasses import dataclass, field

from outreach.composer import Built
from outreach.mailer import ConnectionLost, Mailer, Pending, SmtpReply
from outreach.outbox import Claimed

log = logging.getLogger("outreach.worker")
_TRIES = 2  # a message goes at most twice in a run: a second drop may be the message's own fault


@dataclass
class Sending:
    """A row's message on `mailer`; `pending` its reply to come (None: the connection dropped as it went).
    `tries` has each attempt's reply, None for a drop."""

    row: Claimed
    built: Built
    mailer: Mailer
    pending: Pending | None = None
    tries: list[SmtpReply | None] = field(default_factory=list)

    @property
    def lost(self) -> bool:
        """Its connection dropped before the reply came: the next message must not go on it."""
        return self.pending is not None and self.pending.lost

    async def reply(self) -> SmtpReply | None:
        """The reply; after a dropped connection, reconnect and send once more (a message not yet tried:
        twice). None: it dropped again. Raises RelayUnavailable when no relay takes the connection back."""
        if self.pending is not None:
            try:
                reply = await self.pending.reply()
            except ConnectionLost as exc:
                self._dropped(exc)
            else:
                self.tries.append(reply)
                return reply
        built = self.built
        while len(self.tries) < _TRIES:
            await _reconnect(self.mailer)
            try:
                reply = await self.mailer.send(
                    sender=built.envelope_sender,
                    recipient=self.row.email,
                    message=built.message,
                    label=built.label,
                )
            except ConnectionLost as exc:
                self._dropped(exc)
                continue
            self.tries.append(reply)
            return reply
        await _reconnect(self.mailer)  # for the next message; RelayUnavailable says no relay takes it
        return None

    def _dropped(self, exc: ConnectionLost) -> None:
        log.warning("connection lost while sending to %s: %s", self.row.email, exc)
        self.tries.append(None)


async def _reconnect(mailer: Mailer) -> None:
    """A fresh connection, unless one is open: another message's retry may have opened it already."""
    if not mailer.is_open:
        await mailer.close()
        await mailer.open()
