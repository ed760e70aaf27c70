"""The public archive: every sent issue in the network's rendition, with neutral words where a reader's go."""

from __future__ import annotations

__all__ = ["Archive", "ArchiveEntry"]

import threading
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db import Database
from outreach.errors import NotFound
from outreach.issues import get_issue
from outreach.models import Issue, IssueStatus
from outreach.render import Renderer
from subscribers.directory import NETWORK_SLUG, find_organization

# Stamped where a recipient's own name, address and links stand in a mail: nothing personal.
_NEUTRAL = {
    "ja": {"salutation": "読者の皆様", "email": "（購読者のメールアドレス）"},
    "en": {"salutation": "Dear readers", "email": "(the subscriber's address)"},
}


@dataclass(frozen=True)
class ArchiveEntry:
    number: int
    issue_date: date
    subject: str


class Archive:
    """Lists sent issues newest first and renders each once per language (a sent issue never changes)."""

    def __init__(self, db: Database, renderer: Renderer, *, max_cached: int = 64) -> None:
        self._db = db
        self._renderer = renderer
        self._cache: dict[tuple[int, str], str] = {}
        self._lock = threading.Lock()
        self._max_cached = max_cached

    def entries(self, language: str) -> list[ArchiveEntry]:
        with self._db.session() as session:
            issues = session.scalars(
                select(Issue).where(Issue.status == IssueStatus.SENT).order_by(Issue.number.desc())
            )
            return [
                ArchiveEntry(
                    issue.number, issue.issue_date, issue.subject_ja if language == "ja" else issue.subject_en
                )
                for issue in issues
            ]

    def html(self, number: int, language: str) -> str:
        """The issue as its readers saw it, for a page of its own; NotFound unless it was sent."""
        key = (number, language)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        with self._db.session() as session:
            page = self._render(session, number, language)
        with self._lock:
            if len(self._cache) >= self._max_cached:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = page
        return page

    def _render(self, session: Session, number: int, language: str) -> str:
        issue = get_issue(session, number)
        if issue.status != IssueStatus.SENT:
            raise NotFound(f"issue No. {number} has not been sent")
        rendition = self._renderer.render(issue, find_organization(session, NETWORK_SLUG), language)
        prefix = "" if language == "ja" else f"/{language}"
        values = {
            **_NEUTRAL[language],
            "preferences_url": f"{prefix}/",
            "unsubscribe_url": f"{prefix}/unsubscribe",
        }
        return rendition.html.fill(values)
