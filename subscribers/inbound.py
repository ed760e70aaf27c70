"""The inbound mail endpoint (aiosmtpd): subscribe and unsubscribe by sending a mail to the network's domain.

- `subscribe@<domain>` or `subscribe+<org-slug>@<domain>` starts a double opt-in for the From address; a
  Subject holding the word `en` or `english` makes it English;
- one mail is one request, whatever its recipients: the first recipient decides, a repeat of it is taken
  once, and a recipient asking for something else (another organization, or unsubscribe beside subscribe)
  is refused at RCPT with 550 5.5.3, so that its sender learns to send it on its own;
- `unsubscribe@<domain>` with `unsubscribe <token>` in the Subject (List-Unsubscribe's mailto) unsubscribes
  that token's subscriber at once: the token is signed by us and was only ever sent to that subscriber, just
  like the one-click https link. Without a valid token the From address is mailed a link to its unsubscribe
  page (and nothing at all is sent to an address that is not subscribed).

Refusals: unknown mailboxes and organizations at RCPT (550 5.1.1), more than a few recipients (452 4.5.3),
oversized mail at DATA (552, aiosmtpd's data_size_limit), no usable From (550 5.6.0), too many requests for an
address or from a peer (450 4.7.1) or in all (451 4.7.1; see `inbound_limits`), a relay or database we
cannot reach (451, try later); a refused mail sends and stores nothing. An unsubscribe by token is never
limited: an opt-out is final. Headers are read as Japanese mailers write them (`inbound_headers`).

Mail to the bounce mailbox (`bounces+<token>@` or `bounces@` the VERP domain, where null senders are the
norm) is a bounce report or a complaint: it is read and applied by `subscribers.feedback`, and always
answered 250 (a forged one is logged and dropped: refusing it would only bounce a bounce).

Other automatic mail (a null sender, Auto-Submitted, Precedence bulk/list/junk, our own List-Id, mail from
ourselves) is accepted and dropped: refusing it would only send a bounce back around the loop.
"""

from __future__ import annotations

__all__ = ["Command", "InboundHandler", "InboundServer", "create_inbound", "parse_recipient"]

import email.errors
import enum
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from outreach.config import Settings
from outreach.db import Database
from outreach.errors import NotFound, RelayUnavailable
from outreach.mailer import Mailer, make_mailer
from outreach.message import clean_header_text
from subscribers.addresses import InvalidAddress, normalize_address
from subscribers.consent import ConsentSource, Origin
from subscribers.feedback import Feedback
from subscribers.inbound_headers import read_headers
from subscribers.inbound_limits import ReplyLimits
from subscribers.lifecycle import Details, Preferences
from subscribers.notices import Notices
from subscribers.ratelimit import RateLimits
from subscribers.roster import MAX_TEXT_LENGTH
from subscribers.settings import SubscriptionSettings
from subscribers.subscriptions import Subscriptions
from subscribers.tokens import InvalidToken

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 3
_HEADER_ERRORS = (email.errors.MessageError, ValueError, IndexError, TypeError, AttributeError)
_TOKEN = re.compile(r"[A-Za-z0-9_.-]{20,2000}")
_ENGLISH = {"en", "english", "英語"}
_AUTOMATIC_PRECEDENCE = {"bulk", "list", "junk"}


class Command(enum.StrEnum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True)
class Recipient:
    command: Command
    organization: str | None = None


def parse_recipient(address: str, domain: str) -> Recipient | None:
    """`subscribe@`, `subscribe+<slug>@` or `unsubscribe@` our domain (any case); None for anything else."""
    local, at, host = address.rpartition("@")
    if not at or host.lower() != domain:
        return None
    command, _, detail = local.lower().partition("+")
    if command == Command.UNSUBSCRIBE and not detail:
        return Recipient(Command.UNSUBSCRIBE)
    if command == Command.SUBSCRIBE:
        return Recipient(Command.SUBSCRIBE, detail or None)
    return None


def _echo(address: str) -> str:
    """An address as a reply may quote it: one ASCII line (a reply is sent as UTF-8, which has no room
    for the escaped bytes of an address that was not)."""
    return clean_header_text(address.encode("ascii", "backslashreplace").decode("ascii"), limit=100)


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, ""))
    except _HEADER_ERRORS:
        return ""


@dataclass(frozen=True)
class _Sender:
    address: str
    display_name: str


@dataclass(frozen=True)
class _Request:
    """What one mail asks: the one thing its recipients name, for its sender."""

    recipient: Recipient
    sender: _Sender
    subject: str


def _peer(session: Any) -> str:
    """The connecting host's address (aiosmtpd's peer is (host, port, …) for TCP)."""
    return str(session.peer[0]) if isinstance(session.peer, tuple) else str(session.peer)


def _sender(message: EmailMessage) -> _Sender | None:
    """The one mailbox in From, normalized; None when there is not exactly one usable address."""
    try:
        header = message.get("From")
        addresses: tuple[Address, ...] = header.addresses if header is not None else ()
    except _HEADER_ERRORS:
        return None
    if len(addresses) != 1:
        return None
    try:
        address = normalize_address(addresses[0].addr_spec)
    except InvalidAddress:
        return None
    name = clean_header_text(addresses[0].display_name, limit=MAX_TEXT_LENGTH)
    return _Sender(address, name.encode("utf-8", "ignore").decode("utf-8"))


class InboundHandler:
    """aiosmtpd's handler: checks each recipient at RCPT, acts on the message at DATA."""

    def __init__(
        self,
        subscriptions: Subscriptions,
        limits: RateLimits,
        replies: ReplyLimits,
        *,
        domain: str,
        list_id: str,
        own_addresses: frozenset[str],
        feedback: Feedback | None = None,
    ) -> None:
        self.subscriptions = subscriptions
        self.limits = limits
        self.replies = replies
        self.domain = domain.lower()
        self.list_id = list_id.lower()
        self.own_addresses = own_addresses
        self.feedback = feedback

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        envelope.mail_from = address  # a null sender (<>) is accepted and its message dropped at DATA
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self._to_bounces(address):
            return self._bounce_recipient(envelope, address)
        recipient = parse_recipient(address, self.domain)
        if recipient is None:
            return f"550 5.1.1 <{_echo(address)}>: no such mailbox here"
        if recipient.organization is not None and recipient.organization not in await self._slugs():
            return f"550 5.1.1 <{_echo(address)}>: no such organization"
        if envelope.rcpt_tos and parse_recipient(envelope.rcpt_tos[0], self.domain) != recipient:
            return (
                f"550 5.5.3 <{_echo(address)}>: one request per mail, and this mail asks "
                f"<{_echo(envelope.rcpt_tos[0])}> already; please send this one on its own"
            )
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def _to_bounces(self, address: str) -> bool:
        return self.feedback is not None and self.feedback.is_ours(address)

    def _bounce_recipient(self, envelope: Any, address: str) -> str:
        """Reports may name several of our bounce addresses, but nothing else beside them."""
        if envelope.rcpt_tos and not self._to_bounces(envelope.rcpt_tos[0]):
            return f"550 5.5.3 <{_echo(address)}>: a report goes to the bounce address on its own"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def _slugs(self) -> set[str]:
        return {choice.slug for choice in await self.subscriptions.organizations()}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.feedback is not None and self._to_bounces(envelope.rcpt_tos[0]):
            raw = envelope.original_content or b""
            await self.feedback.take(raw, list(envelope.rcpt_tos), note=f"via SMTP from {_peer(session)}")
            return "250 2.0.0 OK"
        message = read_headers(envelope.original_content or b"")
        automatic = self._automatic(message, envelope.mail_from)
        if automatic:
            log.info("dropped automatic mail (%s)", automatic)
            return "250 2.0.0 OK: automatic mail, ignored"
        sender = _sender(message)
        if sender is None:
            return "550 5.6.0 the message needs exactly one valid address in From"
        recipient = parse_recipient(envelope.rcpt_tos[0], self.domain)
        assert recipient is not None  # RCPT let only ours through, all asking the same
        peer = _peer(session)
        note = (
            f"via SMTP from {peer}; Message-ID {clean_header_text(_header(message, 'Message-ID'), limit=200)}"
        )
        request = _Request(recipient, sender, clean_header_text(_header(message, "Subject"), limit=2000))
        try:
            refusal = await self._act(request, Origin(ConsentSource.EMAIL, note=note), peer)
        except RelayUnavailable:
            return "451 4.4.1 cannot send the reply now; please try again later"
        return refusal or "250 2.0.0 OK"

    def _automatic(self, message: EmailMessage, mail_from: str | None) -> str | None:
        """Why a message is automatic (and must get no answer), or None for a person's mail."""
        if not mail_from or mail_from == "<>":
            return "null sender"
        auto = _header(message, "Auto-Submitted").strip().lower()
        if auto and auto != "no":
            return f"Auto-Submitted: {auto[:40]}"
        if _header(message, "Precedence").strip().lower() in _AUTOMATIC_PRECEDENCE:
            return "Precedence"
        if self.list_id and self.list_id in _header(message, "List-Id").lower():
            return "our own List-Id"
        sender = _sender(message)
        if sender is not None and sender.address in self.own_addresses:
            return "from ourselves"
        return None

    async def _act(self, request: _Request, origin: Origin, peer: str) -> str | None:
        command = request.recipient.command
        if command == Command.UNSUBSCRIBE and await self._unsubscribe_by_token(request.subject, origin):
            return None  # it mails nothing, so no limit holds an opt-out back
        refusal = await self._refusal(request.sender.address, peer)
        if refusal:
            return refusal
        if command == Command.UNSUBSCRIBE:
            await self.subscriptions.send_unsubscribe_link(request.sender.address)
            return None
        english = any(word.casefold() in _ENGLISH for word in re.split(r"[\s:,;]+", request.subject))
        preferences = Preferences(request.recipient.organization, language="en" if english else "ja")
        details = Details(request.sender.address, name=request.sender.display_name, preferences=preferences)
        await self.subscriptions.request(details, origin, auto_submitted="auto-replied")
        return None

    async def _refusal(self, address: str, peer: str) -> str | None:
        """Why no answer may be mailed now (a 4xx: try later), counting this one; None when one may."""
        if not await self.limits.allow_address(address):
            return "450 4.7.1 too many requests for this address; please try again later"
        return await self.replies.refusal(peer)

    async def _unsubscribe_by_token(self, subject: str, origin: Origin) -> bool:
        for candidate in _TOKEN.findall(subject)[:3]:
            try:
                subscriber_id = self.subscriptions.subscriber_id(candidate)
                await self.subscriptions.unsubscribe(subscriber_id, origin)
            except (InvalidToken, NotFound):
                continue
            return True
        return False

    async def handle_exception(self, error: Exception) -> str:
        """aiosmtpd's last resort: whatever went wrong unexpectedly, the sender tries again later."""
        log.error("inbound mail failed: %s: %s", type(error).__name__, error)
        return "451 4.3.0 temporary problem; please try again later"


class _Smtp(SMTP):
    """aiosmtpd's server, with a malformed address answered as one (553) in every form."""

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        try:
            return super()._getaddr(arg)
        except IndexError:  # the stdlib's parser on a lone "<" (aiosmtpd catches only HeaderParseError)
            return None, None


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Smtp(self.handler, **self.SMTP_kwargs)


class InboundServer:
    """The handler served by aiosmtpd on host:port in a thread of its own; use it as a context manager."""

    def __init__(self, handler: InboundHandler, *, host: str, port: int, max_bytes: int) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self._controller = _Controller(
            handler,
            hostname=host,
            port=port,
            server_hostname=handler.domain,
            ident="outreach inbound",
            data_size_limit=max_bytes,
            timeout=60,
        )

    def start(self) -> None:
        """Listen; OSError when the address cannot be bound."""
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> InboundServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def create_inbound(
    settings: Settings,
    options: SubscriptionSettings,
    *,
    host: str,
    port: int,
    mailer_factory: Callable[[Settings], Mailer] = make_mailer,
) -> InboundServer:
    """Wire the endpoint: the database, the subscriptions with their mails, the rate and reply limits."""
    db = Database(settings.database_url.reveal())
    subscriptions = Subscriptions(
        db, settings, options, notices=Notices(settings, mailer_factory=mailer_factory)
    )
    own = frozenset({settings.sender_address.lower(), options.subscribe_address, options.unsubscribe_address})
    handler = InboundHandler(
        subscriptions,
        RateLimits(options),
        ReplyLimits(options),
        domain=options.inbound_domain,
        list_id=settings.list_id,
        own_addresses=own,
        feedback=Feedback(db, settings),
    )
    return InboundServer(handler, host=host, port=port, max_bytes=options.inbound_max_bytes)
