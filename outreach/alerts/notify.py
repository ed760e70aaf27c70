"""Under OUTREACH_ALERTS=approve, a new alert issue waits as a draft: the staff who may approve it (roles with
the APPROVE permission, not disabled) get a short mail, in Japanese and English, with the link to its page in
the console. It goes through the site's relay, or the local outbox without one (as the monthly reports do).
"""

from __future__ import annotations

__all__ = ["Notice", "Notified", "approvers", "notify_approvers"]

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.alerts.models import SafetyAlert
from outreach.alerts.render import class_label, place_name
from outreach.calendar import JST, format_jst
from outreach.composer import senders
from outreach.config import Settings
from outreach.errors import RelayUnavailable
from outreach.mailer import ConnectionLost, Mailer, make_mailer
from outreach.message import clean_header_text
from outreach.network import NETWORK_SLUG
from outreach.render import Renderer
from outreach.staff.models import StaffUser
from outreach.staff.roles import Permission, allows

_TEMPLATE = "email/alert_approval"


@dataclass(frozen=True)
class Notice:
    """What the mail says of a draft alert issue: its number, subjects, link and entries (one line each)."""

    number: int
    subject_ja: str
    subject_en: str
    url: str
    lines: tuple[tuple[str, str], ...]  # (Japanese, English) per entry


@dataclass
class Notified:
    """Who was mailed, and who could not be (address -> why)."""

    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def approvers(session: Session) -> list[str]:
    """The addresses of the staff who may approve an issue now, in address order."""
    users = session.scalars(select(StaffUser).where(StaffUser.disabled.is_(False)).order_by(StaffUser.email))
    return [user.email for user in users if allows(user.role, Permission.APPROVE)]


def notice_of(number: int, entries: list[SafetyAlert], subjects: tuple[str, str], base_url: str) -> Notice:
    def line(entry: SafetyAlert, language: str) -> str:
        places = ", ".join(place_name(place, language) for place in entry.places)
        title = f" — {entry.title}" if language == "ja" and entry.title else ""
        return f"{class_label(entry, language)} / {places}{title}"

    return Notice(
        number,
        *subjects,
        f"{base_url.rstrip('/')}/admin/issues/{number}",
        tuple((line(entry, "ja"), line(entry, "en")) for entry in entries),
    )


def _message(site: Settings, notice: Notice, to: str, now: datetime) -> EmailMessage:
    renderer = Renderer(sender=senders(site))
    env = renderer.environment(NETWORK_SLUG, "ja")
    context = {"notice": notice, "composed_at": format_jst(now)}
    sender = renderer.sender["ja"]
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(display_name=clean_header_text(sender.name), addr_spec=sender.address)
    message["To"] = to
    message["Subject"] = " ".join(env.get_template(f"{_TEMPLATE}.subject.txt").render(context).split())
    message["Date"] = format_datetime(now.astimezone(JST))
    message["Message-ID"] = make_msgid(domain=site.sender_address.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(env.get_template(f"{_TEMPLATE}.txt").render(context))
    return message


async def _send(site: Settings, notice: Notice, to: list[str], now: datetime, mailer: Mailer) -> Notified:
    done = Notified()
    try:
        await mailer.open()
    except RelayUnavailable as error:
        done.failed = dict.fromkeys(to, f"the relay could not be reached: {error}")
        return done
    try:
        for address in to:
            message = _message(site, notice, address, now).as_bytes()
            label = f"alerts/approve-{notice.number}-{address}"
            try:
                reply = await mailer.send(
                    sender=site.sender_address, recipient=address, message=message, label=label
                )
            except ConnectionLost as error:
                done.failed[address] = f"the connection dropped: {error}"
                continue
            if 200 <= reply.code < 300:
                done.sent.append(address)
            else:
                done.failed[address] = f"refused: {reply}"
    finally:
        await mailer.close()
    return done


def notify_approvers(
    site: Settings,
    notice: Notice,
    to: list[str],
    *,
    now: datetime,
    mailer_factory: Callable[[Settings], Mailer] = make_mailer,
) -> Notified:
    """Mail each approver the notice; a refusal or a relay away is theirs in `failed`, never an error, as the
    draft is there to approve from the console either way. Runs its own event loop in a thread: the caller
    may be synchronous or inside a loop (the scheduler's poll job)."""
    if not to:
        return Notified()
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(asyncio.run, _send(site, notice, to, now, mailer_factory(site)))
        return future.result()
