"""The regular issue: what is new since the last issue, composed into one; nothing new, no issue.

Safety alerts' entries waiting for it (outreach.alerts: wide-area information, lowered levels…) go into the
issue composed (outreach.issues.compose_issue); alone they are no reason to compose one.
"""

from __future__ import annotations

__all__ = ["NEWS_WINDOW", "News", "compose_news", "whats_new"]

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.content import promotions_active_on
from outreach.issues import compose_issue, get_issue, subject_heads
from outreach.models import Issue, IssueItem, IssueKind, IssueStatus, Meeting, Promotion

# Outcomes of meetings held longer ago than this are history, not news: compose them by hand if wanted.
NEWS_WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class News:
    """What an issue dated `on` would carry that the last issue did not."""

    on: date
    last_issue: Issue | None
    meetings: list[Meeting]
    promotions: list[Promotion]

    @property
    def empty(self) -> bool:
        return not self.meetings and not self.promotions

    def why_nothing(self) -> str:
        """The reason recorded when the regular issue is skipped."""
        since = (
            f"since issue No. {self.last_issue.number} of {self.last_issue.issue_date}"
            if self.last_issue
            else "and no issue yet"
        )
        return (
            f"nothing new {since}: no meeting outcome recorded that is not in an issue, "
            f"no promotion that became active by {self.on}"
        )


def _last_issue(session: Session) -> Issue | None:
    """The last regular issue not cancelled (safety alert issues are not news of the magazine's)."""
    number = session.scalar(
        select(Issue.number)
        .where(Issue.status != IssueStatus.CANCELLED, Issue.kind == IssueKind.MAGAZINE)
        .order_by(Issue.number.desc())
        .limit(1)
    )
    return None if number is None else get_issue(session, number)


def _new_meetings(session: Session, on: date, last_issue: Issue | None) -> list[Meeting]:
    in_an_issue = (
        select(IssueItem.meeting_id)
        .join(Issue, Issue.id == IssueItem.issue_id)
        .where(IssueItem.meeting_id.is_not(None), Issue.status != IssueStatus.CANCELLED)
    )
    query = select(Meeting).where(
        Meeting.id.not_in(in_an_issue), Meeting.held_on >= on - NEWS_WINDOW, Meeting.held_on <= on
    )
    if last_issue is not None:
        query = query.where(Meeting.created_at > last_issue.created_at)
    return list(session.scalars(query.order_by(Meeting.held_on, Meeting.id)))


def whats_new(session: Session, on: date) -> News:
    """Meeting outcomes recorded since the last issue and carried by none, and promotions active on `on`
    that the last issue did not carry (they started since, or were added since)."""
    last_issue = _last_issue(session)
    carried = {item.promotion_id for item in last_issue.items} if last_issue else set()
    return News(
        on=on,
        last_issue=last_issue,
        meetings=_new_meetings(session, on, last_issue),
        promotions=[p for p in promotions_active_on(session, on) if p.id not in carried],
    )


def _lead_with(issue: Issue, campaign: Promotion) -> None:
    """Put the campaign's section first, keeping the order of the others."""
    items = sorted(issue.items, key=lambda item: (item.promotion_id != campaign.id, item.position))
    for position, item in enumerate(items, start=1):
        item.position = position * 10
    issue.items = items


def compose_news(session: Session, news: News, *, campaign: str | None = None) -> Issue:
    """A draft issue dated `news.on` with the new outcomes and every active promotion.

    When the promotion named `campaign` (e.g. the summer safety month) is among the new ones, the issue opens
    it: the campaign leads and names the subject. Without new outcomes, the first new promotion names it.
    """
    issue = compose_issue(session, meetings=news.meetings, issue_date=news.on)
    head_ja, head_en = subject_heads(issue.number)
    opening = next((p for p in news.promotions if p.slug == campaign), None)
    if opening is not None:
        _lead_with(issue, opening)
        issue.subject_ja = f"{head_ja}{opening.title_ja}が始まりました"
        issue.subject_en = f"{head_en}The {opening.title_en} begins"
    elif not news.meetings and news.promotions:
        first = news.promotions[0]
        issue.subject_ja = f"{head_ja}{first.title_ja}のご案内"
        issue.subject_en = f"{head_en}{first.title_en}"
    session.flush()
    return issue
