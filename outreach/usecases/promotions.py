"""What staff do with promotions (the safety tools and campaigns issues carry): add one, edit one, audited.

Every field is checked here, all at once (`check_promotion`), so that an edge can show each refusal at its
field; the writes are outreach.content's. An edit names the issues that carry the promotion (their readers
may already have the old text) and is refused when an unsent issue's charset cannot carry the new text.
"""

from __future__ import annotations

__all__ = [
    "PromotionEdit",
    "PromotionRecord",
    "add_promotion",
    "check_promotion",
    "edit_promotion",
    "promotion_carriers",
    "promotion_target",
]

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import content
from outreach.models import Issue, IssueItem, IssueStatus, Promotion
from outreach.render import uncarried
from outreach.staff import audit
from outreach.usecases.content import Carrier, CharsetRefused, FieldRefused, Uncarriable, carriers

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_HTTPS = re.compile(r"https://[^\s<>\"']+")
_RESERVED = frozenset({"new"})  # /promotions/new is the form for a new one
_LIMITS = {"slug": 60, "title_ja": 300, "title_en": 300, "body_ja": 20_000, "body_en": 20_000, "url": 500}
_TEXTS = ("title_ja", "title_en", "body_ja", "body_en", "url")
_LARGEST_POSITION = 1_000_000
_UNSENT = (IssueStatus.DRAFT, IssueStatus.SCHEDULED, IssueStatus.SENDING, IssueStatus.PAUSED)


@dataclass(frozen=True)
class PromotionRecord:
    """A promotion as staff give it: bodies in Markdown; `starts_on` None is always, `ends_on` None is
    open-ended; `yearly` compares month and day only (both dates needed)."""

    slug: str
    fields: content.PromotionFields


@dataclass(frozen=True)
class PromotionEdit:
    """An edited promotion, and the issues that carry it (not the cancelled ones)."""

    promotion: Promotion
    carriers: list[Carrier] = field(default_factory=list)


def promotion_target(slug: str) -> str:
    """How the audit log names a promotion: `promotion tabireg`."""
    return f"promotion {slug}"


def _text_refusals(record: PromotionRecord) -> list[FieldRefused]:
    values = {"slug": record.slug, **{name: getattr(record.fields, name) for name in _TEXTS}}
    found = []
    for name, text in values.items():
        if not text.strip():
            found.append(FieldRefused(name, "required", f"{name} is empty"))
        elif len(text) > _LIMITS[name]:
            found.append(FieldRefused(name, "too-long", f"{name} is longer than {_LIMITS[name]} characters"))
    return found


def _shape_refusals(record: PromotionRecord) -> list[FieldRefused]:
    fields, found = record.fields, []
    if record.slug and not _SLUG.fullmatch(record.slug):
        found.append(FieldRefused("slug", "bad-slug", "a slug is lower-case letters, digits and hyphens"))
    elif record.slug in _RESERVED:
        found.append(FieldRefused("slug", "reserved", f"the slug {record.slug!r} is reserved"))
    if fields.url.strip() and not _HTTPS.fullmatch(fields.url):
        found.append(FieldRefused("url", "https", f"the URL must be https:// without spaces: {fields.url!r}"))
    if not 0 <= fields.position <= _LARGEST_POSITION:
        found.append(FieldRefused("position", "bad", f"the position must be 0 to {_LARGEST_POSITION}"))
    return found


def _window_refusals(fields: content.PromotionFields) -> list[FieldRefused]:
    if fields.yearly and (fields.starts_on is None or fields.ends_on is None):
        return [FieldRefused("yearly", "yearly-dates", "a yearly promotion needs both dates")]
    starts, ends = fields.starts_on, fields.ends_on
    if not fields.yearly and starts is not None and ends is not None and ends < starts:
        return [FieldRefused("ends_on", "before-start", f"it ends ({ends}) before it starts ({starts})")]
    return []


def check_promotion(record: PromotionRecord) -> list[FieldRefused]:
    """Everything wrong with a promotion's fields, all at once (a duplicate slug needs the database)."""
    return _text_refusals(record) + _shape_refusals(record) + _window_refusals(record.fields)


def _refuse_bad(record: PromotionRecord) -> None:
    refusals = check_promotion(record)
    if refusals:
        raise refusals[0]


def add_promotion(
    session: Session, record: PromotionRecord, *, actor: str, now: datetime, ip: str | None = None
) -> Promotion:
    """Add a promotion; FieldRefused for the first bad field or a slug in use."""
    _refuse_bad(record)
    if content.promotion_exists(session, record.slug):
        raise FieldRefused("slug", "duplicate", f"the slug {record.slug!r} is in use")
    promotion = content.add_promotion(session, record.slug, record.fields)
    audit.record(
        session,
        actor=actor,
        action="promotion.add",
        target=promotion_target(record.slug),
        detail=_window(promotion),
        now=now,
        ip=ip,
    )
    return promotion


def promotion_carriers(session: Session, promotion: Promotion) -> list[Issue]:
    """Every issue that carries the promotion, oldest first."""
    carrying = select(IssueItem.issue_id).where(IssueItem.promotion_id == promotion.id)
    return list(session.scalars(select(Issue).where(Issue.id.in_(carrying)).order_by(Issue.number)))


def _uncarriable(issues: list[Issue], fields: content.PromotionFields) -> list[Uncarriable]:
    unsent = [issue for issue in issues if issue.status in _UNSENT]
    found = []
    for charset in sorted({issue.charset for issue in unsent} - {"utf-8"}):
        numbers = tuple(issue.number for issue in unsent if issue.charset == charset)
        for name in _TEXTS:
            problem = uncarried(getattr(fields, name), charset, where=name)
            if problem is not None:
                found.append(Uncarriable(name, problem.chars, charset, numbers))
    return found


def edit_promotion(
    session: Session,
    slug: str,
    fields: content.PromotionFields,
    *,
    actor: str,
    now: datetime,
    ip: str | None = None,
) -> PromotionEdit:
    """Change a promotion (its slug stays); NotFound for an unknown one, FieldRefused for a bad field,
    CharsetRefused for a text an unsent issue carrying it cannot carry."""
    promotion = content.find_promotion(session, slug)
    _refuse_bad(PromotionRecord(slug, fields))
    issues = promotion_carriers(session, promotion)
    found = _uncarriable(issues, fields)
    if found:
        raise CharsetRefused(found)
    before = _values(promotion)
    content.update_promotion(session, promotion, fields)
    changed = [name for name, value in _values(promotion).items() if before[name] != value]
    audit.record(
        session,
        actor=actor,
        action="promotion.edit",
        target=promotion_target(slug),
        detail=f"changed {', '.join(changed)}" if changed else "nothing changed",
        now=now,
        ip=ip,
    )
    return PromotionEdit(promotion, carriers(issues))


def _values(promotion: Promotion) -> dict[str, object]:
    names = (*_TEXTS, "starts_on", "ends_on", "yearly", "position")
    return {name: getattr(promotion, name) for name in names}


def _window(promotion: Promotion) -> str:
    starts = promotion.starts_on.isoformat() if promotion.starts_on else "always"
    ends = promotion.ends_on.isoformat() if promotion.ends_on else "open-ended"
    return f"{starts} to {ends}{' every year' if promotion.yearly else ''}, position {promotion.position}"
