"""A shorter issue: which promotions an issue shows in full, and which only as a link in a compact list.

Decided when an issue is rendered, from the items of the previous sent issue (nothing is stored): a promotion
that issue already carried in full or in the list goes in the list, unless it is a yearly campaign (the summer
safety month), which is in full throughout its window.
"""

from __future__ import annotations

__all__ = ["carried_before", "carried_before_number", "in_full"]

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.models import Issue, IssueItem, IssueStatus, Promotion


def carried_before(session: Session, issue: Issue) -> frozenset[str]:
    """The slugs of the promotions that the last issue sent before this one carried (none for the first)."""
    return carried_before_number(session, issue.number)


def carried_before_number(session: Session, number: int) -> frozenset[str]:
    """The same for issue No. `number`, which need not exist yet: for a composer choosing its promotions."""
    previous = session.scalar(
        select(Issue.id)
        .where(Issue.status == IssueStatus.SENT, Issue.number < number)
        .order_by(Issue.number.desc())
        .limit(1)
    )
    if previous is None:
        return frozenset()
    slugs = session.scalars(
        select(Promotion.slug)
        .join(IssueItem, IssueItem.promotion_id == Promotion.id)
        .where(IssueItem.issue_id == previous)
    )
    return frozenset(slugs)


def in_full(promotion: Promotion, carried: Collection[str]) -> bool:
    """New since the previous issue, or a yearly campaign (an issue carries only those in their window)."""
    return promotion.yearly or promotion.slug not in carried
