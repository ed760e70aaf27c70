"""The forward kit: an organization's rendition of an issue that went out, for the organization to send
with its own tools, as a ready-to-send .eml, a standalone HTML page and plain text.

A kit carries nobody's personal parts: no signed link (`subscribers.links`), no address, no List-Unsubscribe,
no VERP sender. Where a rendition has a reader's links, the kit has the network's public pages
(`PublicPages`: the subscribe page and the unsubscribe help page); where it greets a reader, a greeting for
anyone. Kits exist for the issues that are going out or have gone out (`KIT_STATUSES`): a draft may still
change, a paused send may have been stopped for a reason. Its downloads and the forwarding an organization
reports are `outreach.members.forwarding`'s.
"""

from __future__ import annotations

__all__ = [
    "FORMATS",
    "KIT_STATUSES",
    "KitFile",
    "KitSender",
    "PublicPages",
    "build_file",
    "eml",
    "generic_values",
    "kit_issue",
    "kit_organization",
    "kit_sender",
    "plain_text",
    "standalone_html",
]

from dataclasses import dataclass
from datetime import datetime
from email import encoders
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import format_datetime, formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import digest, issue_charsets, jis
from outreach.calendar import JST
from outreach.errors import InvalidInput, NotFound
from outreach.i18n import LANGUAGES
from outreach.issues import get_issue
from outreach.links import PersonalLinks, SubscriberLinks
from outreach.members.models import KitFormat, OrganizationProfile
from outreach.message import clean_header_text
from outreach.models import Issue, IssueStatus, Organization
from outreach.render import Renderer, Rendition, Sender, fits_charset

KIT_STATUSES = (IssueStatus.SENDING, IssueStatus.SENT)
# A file's extension, as its name and the URL give it, and the format it is.
FORMATS = {"eml": KitFormat.EML, "html": KitFormat.HTML, "txt": KitFormat.TEXT}
_MEDIA_TYPES = {
    KitFormat.EML: "message/rfc822",
    KitFormat.HTML: "text/html; charset=utf-8",
    KitFormat.TEXT: "text/plain; charset=utf-8",
}
# What stands in a kit where a rendition has a reader's personal parts (outreach.stamp.PERSONAL_FIELDS):
# the greeting and "this email was sent to …" read for whoever the organization sends it to.
_GENERIC = {
    "ja": {"salutation": "ご担当者様", "email": "ご登録の皆様"},
    "en": {"salutation": "Dear reader,", "email": "our registered readers"},
}


class PublicPages:
    """The network's public pages where a rendition has a subscriber's signed links (a PersonalLinks): the
    unsubscribe help page for "unsubscribe", the subscribe page for "change your preferences" (a reader of
    a forwarded copy is no subscriber of ours: the page lets them become one)."""

    def __init__(self, base_url: str, unsubscribe_address: str) -> None:
        self._base = base_url.rstrip("/")
        self._address = unsubscribe_address

    def for_subscriber(self, subscriber_id: int, language: str) -> SubscriberLinks:
        prefix = "" if language == "ja" else f"/{language}"
        return SubscriberLinks(
            unsubscribe_url=f"{self._base}{prefix}/unsubscribe",
            unsubscribe_mailto=f"mailto:{self._address}",
            preferences_url=f"{self._base}{prefix}/",
        )


def generic_values(language: str, links: PersonalLinks) -> dict[str, str]:
    """What fills a rendition's personal holes in a kit: `links` gives pages that are nobody's own."""
    pages = links.for_subscriber(0, language)
    return {
        **_GENERIC[language],
        "unsubscribe_url": pages.unsubscribe_url,
        "preferences_url": pages.preferences_url,
    }


@dataclass(frozen=True)
class KitSender:
    """Who the .eml says it is from: the organization when its profile names an address, else the network."""

    name: str
    address: str
    reply_to: str = ""


_UNSAFE = frozenset('<>"(),;:\\[] \t\r\n')


def _address(given: str) -> str:
    """An address as a header can carry it; "" for one that is not (the profile's page checks them)."""
    address = given.strip()
    local, at, domain = address.rpartition("@")
    safe = address.isascii() and not _UNSAFE.intersection(address)
    return address if safe and at and local and "." in domain else ""


def kit_sender(
    profile: OrganizationProfile | None, organization: Organization, language: str, network: Sender
) -> KitSender:
    """The profile's From (its name in the language, else the organization's name in it) and Reply-To; the
    network's sender when the profile names no From address."""
    reply_to = _address(profile.kit_reply_to) if profile is not None else ""
    address = _address(profile.kit_from_address) if profile is not None else ""
    if profile is None or not address:
        return KitSender(network.name, network.address, reply_to)
    ja = language == "ja"
    own = (profile.kit_from_name_ja if ja else profile.kit_from_name_en).strip()
    name = own or (organization.name_ja if ja else organization.name_en)
    return KitSender(name, address, reply_to)


# Building the files


def _header_charset(value: str, charset: str) -> tuple[str, str]:
    """The value with the charset's substitutions, and the charset that carries it: ASCII stays as it is,
    and what the charset cannot carry goes in UTF-8 (as a name with 髙 does, see outreach.message)."""
    value, _ = jis.substitute(clean_header_text(value), charset)
    if value.isascii():
        return value, "us-ascii"
    return value, charset if fits_charset(value, charset) else "utf-8"


def _mailbox(name: str, address: str, charset: str) -> str:
    name, carrier = _header_charset(name, charset)
    return formataddr((name, address), charset=carrier)


def _part(content: str, subtype: str, charset: str) -> MIMENonMultipart:
    """A text part: ISO-2022-JP as 7bit while every line fits in 998 octets, as Japanese mail clients expect;
    anything else as base64."""
    part = MIMENonMultipart("text", subtype, charset=charset)
    del part["MIME-Version"]
    encoded = content.encode(charset)
    if encoded.isascii() and all(len(line) <= 998 for line in encoded.splitlines()):
        part.set_payload(encoded.decode("ascii"))
        part["Content-Transfer-Encoding"] = "7bit"
    else:
        part.set_payload(encoded)
        encoders.encode_base64(part)
    return part


def eml(rendition: Rendition, values: dict[str, str], sender: KitSender, *, now: datetime) -> bytes:
    """The rendition as a message to open and send: no To (the organization adds its own readers), no list
    headers. `X-Unsent: 1` makes Outlook open it as a new message ready to address."""
    charset = rendition.charset
    message = MIMEMultipart("alternative")
    message["From"] = _mailbox(sender.name, sender.address, charset)
    if sender.reply_to:
        message["Reply-To"] = sender.reply_to
    subject, carrier = _header_charset(rendition.subject, charset)
    # compat32 folds a Header object into encoded words of its charset, as Japanese mail has them.
    message["Subject"] = Header(subject, carrier)  # type: ignore[assignment]
    message["Date"] = format_datetime(now.astimezone(JST))
    message["Message-ID"] = make_msgid(domain=sender.address.rpartition("@")[2] or None)
    message["X-Unsent"] = "1"
    message.attach(_part(rendition.text.fill(values), "plain", charset))
    message.attach(_part(rendition.html.fill(values), "html", charset))
    return message.as_bytes(policy=compat32.clone(linesep="\r\n"))


def standalone_html(rendition: Rendition, values: dict[str, str]) -> bytes:
    """The rendition's HTML document (its CSS inlined, as sent) as a UTF-8 file: what a mail tool takes."""
    html = rendition.html.fill(values)
    if rendition.charset != "utf-8":  # the document says what it is in
        html = html.replace(f"charset={rendition.charset}", "charset=utf-8", 1)
    return html.encode("utf-8")


def plain_text(rendition: Rendition, values: dict[str, str]) -> bytes:
    """The rendition's plain-text part as a UTF-8 file (the charset's substitutions made, as sent)."""
    return rendition.text.fill(values).encode("utf-8")


@dataclass(frozen=True)
class KitFile:
    filename: str
    media_type: str
    content: bytes


def kit_issue(session: Session, number: int) -> Issue:
    """Issue No. `number` when it has a kit; NotFound for one that does not exist or has not gone out."""
    issue = get_issue(session, number)
    if issue.status not in KIT_STATUSES:
        raise NotFound(f"issue No. {number} has not gone out: it has no forward kit")
    return issue


def kit_organization(session: Session, slug: str) -> Organization:
    found = session.scalar(select(Organization).where(Organization.slug == slug))
    if found is None:
        raise NotFound(f"there is no organization {slug!r}")
    return found


def _render(
    session: Session,
    renderer: Renderer,
    issue: Issue,
    organization: Organization,
    language: str,
    profile: OrganizationProfile | None,
) -> Rendition:
    """The organization's rendition (its profile's greeting, contact and footer) in its charset, as its
    companies got it; in the issue's own where that one cannot carry it, as the composer does."""
    carried = digest.carried_before(session, issue)
    charset = organization.charset or issue.charset
    with session.no_autoflush:  # the issue is lent another charset: nothing may flush it meanwhile
        if charset != issue.charset:
            try:
                with issue_charsets.in_charset(issue, charset):
                    return renderer.render(issue, organization, language, carried=carried, profile=profile)
            except InvalidInput:
                pass
        return renderer.render(issue, organization, language, carried=carried, profile=profile)


def build_file(
    session: Session,
    *,
    renderer: Renderer,
    links: PersonalLinks,
    number: int,
    slug: str,
    language: str,
    kit_format: KitFormat,
    now: datetime,
) -> KitFile:
    """One file of the kit of issue No. `number` for the organization; NotFound for an issue that has not
    gone out, InvalidInput for a rendition that cannot be made."""
    if language not in LANGUAGES:
        raise NotFound(f"there is no {language!r} rendition")
    issue = kit_issue(session, number)
    organization = kit_organization(session, slug)
    profile = session.get(OrganizationProfile, organization.id)
    rendition = _render(session, renderer, issue, organization, language, profile)
    values = generic_values(language, links)
    extension = next(name for name, each in FORMATS.items() if each is kit_format)
    if kit_format is KitFormat.EML:
        sender = kit_sender(profile, organization, language, renderer.sender[language])
        content = eml(rendition, values, sender, now=now)
    elif kit_format is KitFormat.HTML:
        content = standalone_html(rendition, values)
    else:
        content = plain_text(rendition, values)
    filename = f"issue-{number}-{slug}-{language}.{extension}"
    return KitFile(filename, _MEDIA_TYPES[kit_format], content)
