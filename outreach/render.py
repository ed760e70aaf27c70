"""Renders an issue per (organization, language) with Jinja2, inlining its CSS once with premailer."""

from __future__ import annotations

__all__ = [
    "TEMPLATES_DIR",
    "Renderer",
    "Rendition",
    "Uncarried",
    "charset_refusal",
    "check_charset",
    "fits_charset",
    "issue_view",
    "uncarried",
]

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from markupsafe import Markup
from premailer import Premailer

from outreach import dates, digest, jis, markdown, network, textpart
from outreach.alerts.render import Entries, alert_views
from outreach.content import MEETING_FORMATS, MEETING_KINDS
from outreach.errors import InvalidInput
from outreach.i18n import LANGUAGES, PUNCTUATION, load_catalog
from outreach.members.models import OrganizationProfile
from outreach.models import Issue, IssueItem, Meeting, Organization, Promotion
from outreach.stamp import PERSONAL_FIELDS, Stamp, placeholder

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class Sender:
    """Who the issue is from, as the anti-spam law wants it shown."""

    name: str
    address: str
    postal_address: str


@dataclass(frozen=True)
class Rendition:
    """An issue rendered for one organization in one language, waiting for the personal parts."""

    issue_number: int
    organization_slug: str
    language: str
    charset: str
    subject: str
    html: Stamp
    text: Stamp
    substitutions: tuple[jis.Substitution, ...] = ()  # what the charset replaced (～ → 〜 …), for staff


@dataclass(frozen=True)
class Uncarried:
    """Characters of one text that a charset cannot carry, and where that text is."""

    where: str
    chars: str  # each character once, in code-point order

    def __str__(self) -> str:
        listing = ", ".join(f"{char} (U+{ord(char):04X})" for char in self.chars)
        return f"{listing} in {self.where}"


def uncarried(text: str, charset: str, *, where: str) -> Uncarried | None:
    """The characters of the text that the charset cannot carry even after its substitutions (`outreach.jis`),
    or None when it carries them all."""
    # Encoding the whole text once is the fast path: almost every text fits.
    if charset == "utf-8" or fits_charset(text, charset):
        return None
    text, _ = jis.substitute(text, charset)
    if fits_charset(text, charset):
        return None
    return Uncarried(where, "".join(sorted({char for char in text if not fits_charset(char, charset)})))


_MAX_PLACES = 12  # enough to see the pattern; a message naming 60 organization blocks helps nobody


def charset_refusal(problems: Sequence[Uncarried], charset: str, *, carrier: str = "") -> InvalidInput:
    """One error naming each character that the charset cannot carry and where it is."""
    shown = "; ".join(str(problem) for problem in problems[:_MAX_PLACES])
    if len(problems) > _MAX_PLACES:
        shown += f"; and {len(problems) - _MAX_PLACES} more places"
    return InvalidInput(f"{shown}: {carrier or charset} cannot carry them; use utf-8 or replace them")


def check_charset(text: str, charset: str, *, where: str) -> None:
    """Refuse text that the charset cannot carry after its substitutions, naming the characters (彅, é)."""
    problem = uncarried(text, charset, where=where)
    if problem is not None:
        raise charset_refusal([problem], charset)


def fits_charset(text: str, charset: str) -> bool:
    """Whether the charset can carry the text."""
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


class _Recipient:
    """What templates see as `recipient`: a placeholder for each personal field."""

    def __getattr__(self, field: str) -> Markup:
        if field not in PERSONAL_FIELDS:
            raise AttributeError(field)
        return Markup(placeholder(field))  # noqa: S704 (a fixed ASCII marker)


def _local_date(value: date, language: str) -> str:
    return dates.format_ja_with_era(value) if language == "ja" else dates.format_en(value)


def _links(links: list[dict[str, str]], language: str) -> list[dict[str, str]]:
    """A link's title in the language; an English one without its own title is named by the template."""
    return [
        {
            "title": link.get(f"title_{language}") or (link["title_ja"] if language == "ja" else ""),
            "url": link["url"],
        }
        for link in links
    ]


def _meeting_view(meeting: Meeting, language: str) -> dict[str, Any]:
    index = 0 if language == "ja" else 1
    kind = MEETING_KINDS[meeting.kind][index]
    title = f"第{meeting.number}回{kind}" if language == "ja" else f"{kind} {meeting.number}"
    summary = meeting.summary_ja if language == "ja" else meeting.summary_en
    return {
        "kind": "meeting",
        "meeting_kind": meeting.kind,
        "title": title,
        "held_on": meeting.held_on,
        "format": MEETING_FORMATS[meeting.format][index] if meeting.format else "",
        "opened_by": meeting.opened_by_ja if language == "ja" else meeting.opened_by_en,
        "html": Markup(markdown.to_html(summary, top_heading=3)),  # noqa: S704 (to_html escapes raw HTML)
        "text": markdown.to_text(summary),
        "links": _links(meeting.links, language),
    }


def _promotion_view(promotion: Promotion, language: str) -> dict[str, Any]:
    body = promotion.body_ja if language == "ja" else promotion.body_en
    return {
        "kind": "promotion",
        "slug": promotion.slug,
        "title": promotion.title_ja if language == "ja" else promotion.title_en,
        "html": Markup(markdown.to_html(body, top_heading=3)),  # noqa: S704 (to_html escapes raw HTML)
        "text": markdown.to_text(body),
        "url": promotion.url,
    }


def _section_view(item: IssueItem, language: str) -> dict[str, Any]:
    if item.meeting is not None:
        return _meeting_view(item.meeting, language)
    if item.promotion is not None:
        return _promotion_view(item.promotion, language)
    raise ValueError(f"issue item {item.id} holds neither a meeting nor a promotion")


_PREHEADER = 90  # characters: what an inbox shows beside the subject, and a little more


def _preheader(sections: list[dict[str, Any]], subject: str, colon: str) -> str:
    """The issue's first line, for the inbox preview: the first section's title and its first sentence(s)."""
    if not sections:
        return subject
    first = sections[0]
    line = next((line for line in str(first["text"]).split("\n") if line.strip()), "")
    text = f"{first['title']}{colon}{line}" if line else str(first["title"])
    return text if len(text) <= _PREHEADER else text[: _PREHEADER - 1].rstrip() + "…"


def _lead_view(issue: Issue, language: str) -> dict[str, Any] | None:
    """The editorial lead in the language (Markdown), or None: an English rendition never shows Japanese."""
    source = (issue.lead_ja if language == "ja" else issue.lead_en) or ""
    if not source.strip():
        return None
    return {
        "html": Markup(markdown.to_html(source, top_heading=3)),  # noqa: S704 (to_html escapes raw HTML)
        "text": markdown.to_text(source),
    }


def _lead_line(lead: dict[str, Any] | None) -> str:
    """The lead's first line, for the inbox preview; "" without a lead."""
    if lead is None:
        return ""
    line = next((line for line in str(lead["text"]).split("\n") if line.strip()), "")
    return line if len(line) <= _PREHEADER else line[: _PREHEADER - 1].rstrip() + "…"


def issue_view(issue: Issue, language: str, *, carried: Collection[str] = ()) -> dict[str, Any]:
    """What templates see of an issue: its lead, its sections in full (meeting outcomes, new promotions), the
    promotions that the previous issue carried as a compact list (see `outreach.digest`), its first line
    (the lead's, or the first section's)."""
    subject = issue.subject_ja if language == "ja" else issue.subject_en
    lead = _lead_view(issue, language)
    sections, more = [], []
    for item in (item for item in issue.items if item.alert_id is None):  # alerts: outreach.alerts.render
        if item.promotion is not None and not digest.in_full(item.promotion, carried):
            title = item.promotion.title_ja if language == "ja" else item.promotion.title_en
            more.append({"title": title, "url": item.promotion.url})
        else:
            sections.append(_section_view(item, language))
    return {
        "issue": {"number": issue.number, "date": issue.issue_date, "subject": subject},
        "lead": lead,
        "sections": sections,
        "more_tools": more,
        "preheader": _lead_line(lead) or _preheader(sections, subject, PUNCTUATION[language].colon),
    }


def _own(profile: OrganizationProfile | None, field: str) -> str:
    return str(getattr(profile, field)) if profile is not None else ""


def _organization_view(
    organization: Organization, language: str, profile: OrganizationProfile | None
) -> dict[str, Any]:
    """The organization as its rendition shows it: what its editors set before the seed data, never Japanese
    in English; until they set a contact, its web page and the network secretariat's (never a placeholder)."""
    ja = language == "ja"
    name = organization.name_ja if ja else organization.name_en
    contact = {field: _own(profile, field) for field in ("phone", "email", "web_url")}
    given = any(contact.values()) or any(_own(profile, f"department_{each}") for each in LANGUAGES)
    department = _own(profile, f"department_{language}") or name
    return {
        "slug": organization.slug,
        "name": name,
        "greeting": _own(profile, f"greeting_{language}") or getattr(organization, f"greeting_{language}"),
        "contact": {"given": given, "department": department, **contact},
        "secretariat": network.NETWORK.contact_ja if ja else network.NETWORK.contact_en,
        "footer": _own(profile, f"footer_{language}"),
        "url": organization.url,
        "is_network": organization.slug == network.NETWORK_SLUG,
    }


class _SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates kept in this process, shared by every environment of a Renderer."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (data := self._store.get(bucket.key)) is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


class Renderer:
    """Turns an issue into renditions; one Jinja2 environment per (organization, language), made once."""

    def __init__(self, *, sender: dict[str, Sender], templates_dir: Path = TEMPLATES_DIR) -> None:
        self.templates_dir = templates_dir
        self.sender = sender
        # The environments share compiled templates: a template is compiled once, not once per organization.
        self._bytecode = _SharedBytecode()

    @lru_cache(maxsize=128)  # noqa: B019 (one Renderer lives for a send; the cache is the point)
    def environment(self, organization_slug: str, language: str) -> jinja2.Environment:
        base = jinja2.FileSystemLoader(self.templates_dir)
        loader = jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(self.templates_dir / "orgs" / organization_slug),
                base,
                jinja2.PrefixLoader({"default": base}),
            ]
        )
        env = jinja2.Environment(
            loader=loader,
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.i18n"],
            bytecode_cache=self._bytecode,
        )
        catalog = load_catalog(self.templates_dir, language)
        env.install_gettext_callables(catalog.gettext, catalog.ngettext, newstyle=True)  # type: ignore[attr-defined]
        env.filters["jdate"] = dates.format_ja
        env.filters["wareki"] = dates.format_wareki
        env.filters["edate"] = dates.format_en
        env.filters["local_date"] = lambda value: _local_date(value, language)
        punctuation = PUNCTUATION[language]
        env.globals["colon"] = punctuation.colon
        env.globals["sep"] = punctuation.separator
        return env

    def render(
        self,
        issue: Issue,
        organization: Organization,
        language: str,
        *,
        carried: Collection[str] = (),
        profile: OrganizationProfile | None = None,
        alerts: Entries | None = None,
    ) -> Rendition:
        """The rendition. `carried`: promotions listed compactly (digest.carried_before); `profile`: the
        organization's editors' settings (None: unset); `alerts`: a reader's safety entries (None: all)."""
        if language not in LANGUAGES:
            raise InvalidInput(f"unsupported language {language!r}; use one of {', '.join(LANGUAGES)}")
        env = self.environment(organization.slug, language)
        context = self._context(issue, organization, language, carried, profile)
        context |= alert_views(issue, alerts, language)  # and the layout: email/issue, or email/alert
        subject = " ".join(env.get_template(f"{context['layout']}.subject.txt").render(context).split())
        html = _inline_css(env.get_template(f"{context['layout']}.html").render(context))
        text = textpart.wrap(env.get_template(f"{context['layout']}.txt").render(context))
        (subject, html, text), substitutions = _substituted((subject, html, text), issue.charset)
        where = f"the rendition of issue No. {issue.number} for {organization.slug} ({language})"
        for part in (subject, html, text):
            check_charset(part, issue.charset, where=where)
        return Rendition(
            issue_number=issue.number,
            organization_slug=organization.slug,
            language=language,
            charset=issue.charset,
            subject=subject,
            html=Stamp.compile(html, escape_html=True),
            text=Stamp.compile(text, escape_html=False),
            substitutions=substitutions,
        )

    def _context(
        self,
        issue: Issue,
        organization: Organization,
        language: str,
        carried: Collection[str],
        profile: OrganizationProfile | None,
    ) -> dict[str, Any]:
        return {
            "lang": language,
            **issue_view(issue, language, carried=carried),
            "org": _organization_view(organization, language, profile),
            "sender": self.sender[language],
            "recipient": _Recipient(),
            "charset": issue.charset,
        }


def _substituted(
    parts: tuple[str, str, str], charset: str
) -> tuple[tuple[str, str, str], tuple[jis.Substitution, ...]]:
    """The parts with the charset's substitutions made, and each replacement once.

    Its count is that of the part that has it most often: the text and the HTML parts say the same things,
    so a staff member reads "～ → 〜 ×2" as two places in the issue.
    """
    done = [jis.substitute(part, charset) for part in parts]
    most: dict[tuple[str, str], jis.Substitution] = {}
    for _, substitutions in done:
        for each in substitutions:
            key = (each.original, each.replacement)
            if key not in most or most[key].count < each.count:
                most[key] = each
    subject, html, text = (part for part, _ in done)
    return (subject, html, text), tuple(most[key] for key in sorted(most))


def _inline_css(html: str) -> str:
    """Inline the CSS into style attributes, without cssutils' warnings on mail-client properties."""
    transformer = Premailer(
        html,
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
        remove_classes=False,
        strip_important=False,
        allow_network=False,
        disable_leftover_css=False,
    )
    result: str = transformer.transform(pretty_print=False)
    # lxml writes character references as characters: the preheader's invisible spacers go back to
    # references, which any charset carries (ISO-2022-JP has none of the three).
    return result.translate(_INVISIBLE)


_INVISIBLE = {0x034F: "&#847;", 0x200C: "&zwnj;", 0x00A0: "&nbsp;"}
