"""Mails about a person's own subscription: confirm it, you are already in, here is your unsubscribe link.

Each is a template triplet under `templates/email/` (`<kind>.subject.txt`, `.txt`, `.html`) rendered in the
person's language, built with the standard library's EmailMessage and handed to outreach's mailer.
"""

from __future__ import annotations

__all__ = ["Notice", "NoticeKind", "Notices"]

import enum
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from outreach.composer import senders
from outreach.config import Settings
from outreach.errors import RelayUnavailable
from outreach.mailer import ConnectionLost, Mailer, SmtpReply, make_mailer
from outreach.message import clean_header_text
from outreach.models import utcnow
from outreach.network import NETWORK_SLUG
from outreach.render import Renderer

_JST = ZoneInfo("Asia/Tokyo")
log = logging.getLogger(__name__)


class NoticeKind(enum.StrEnum):
    CONFIRM = "confirm"  # a confirmation link for a new subscription
    ALREADY_SUBSCRIBED = "already_subscribed"  # someone asked to subscribe an address that is active
    UNSUBSCRIBE_LINK = "unsubscribe_link"  # the address asked by mail to leave, without a valid token


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    to: str
    language: str
    values: Mapping[str, str | int] = field(default_factory=dict)
    auto_submitted: str = "auto-generated"  # RFC 3834: "auto-replied" when answering a mail


class Notices:
    """Renders notices and sends a batch of them over one mailer connection."""

    def __init__(
        self,
        settings: Settings,
        *,
        mailer_factory: Callable[[Settings], Mailer] = make_mailer,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._settings = settings
        self._renderer = Renderer(sender=senders(settings))
        self._mailer_factory = mailer_factory
        self._clock = clock
        self._domain = settings.sender_address.rpartition("@")[2]

    def compose(self, notice: Notice) -> EmailMessage:
        env = self._renderer.environment(NETWORK_SLUG, notice.language)
        sender = self._renderer.sender[notice.language]
        context = {
            **notice.values,
            "lang": notice.language,
            "email": notice.to,
            "sender": sender,
            "site_url": f"{self._settings.base_url}{'' if notice.language == 'ja' else '/en'}/",
        }
        name = f"email/{notice.kind.value}"
        subject = " ".join(env.get_template(f"{name}.subject.txt").render(context).split())
        message = EmailMessage(policy=SMTP)
        message["From"] = Address(display_name=clean_header_text(sender.name), addr_spec=sender.address)
        message["To"] = notice.to
        message["Subject"] = subject
        message["Date"] = format_datetime(self._clock().astimezone(_JST))
        message["Message-ID"] = make_msgid(domain=self._domain)
        message["Auto-Submitted"] = notice.auto_submitted
        message["X-Auto-Response-Suppress"] = "All"  # no out-of-office replies to a robot
        message.set_content(env.get_template(f"{name}.txt").render(context))
        message.add_alternative(env.get_template(f"{name}.html").render(context), subtype="html")
        return message

    async def send(self, notices: Sequence[Notice]) -> list[SmtpReply]:
        """Send each notice; a refused recipient is logged and skipped, an unreachable relay raises."""
        if not notices:
            return []
        mailer = self._mailer_factory(self._settings)
        await mailer.open()  # RelayUnavailable when it cannot connect
        replies: list[SmtpReply] = []
        try:
            for notice in notices:
                replies.append(await self._send_one(mailer, notice))
        except ConnectionLost as error:
            raise RelayUnavailable(f"the connection to the {mailer.describe()} dropped: {error}") from None
        finally:
            await mailer.close()
        return replies

    async def _send_one(self, mailer: Mailer, notice: Notice) -> SmtpReply:
        stamp = self._clock().strftime("%Y%m%dT%H%M%S%f")
        reply = await mailer.send(
            sender=self._settings.sender_address,
            recipient=notice.to,
            message=self.compose(notice).as_bytes(),
            label=f"notices/{stamp}-{notice.kind.value}-{notice.to}",
        )
        if not 200 <= reply.code < 300:
            log.warning("the relay refused a %s notice to %s: %s", notice.kind.value, notice.to, reply)
        return reply
