"""The public archive: every sent issue in the network's rendition, as a page of the site and an Atom feed."""

from __future__ import annotations

__all__ = ["Archive", "ArchiveEntry", "ArchivedIssue"]

import threading
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from feedgen.feed import FeedGenerator
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db import Database
from outreach.digest import carried_before
from outreach.errors import NotFound
from outreach.i18n import PUNCTUATION, load_catalog
from outreach.issues import get_issue
from outreach.models import Issue, IssueStatus
from outreach.render import Renderer, issue_view
from subscribers.directory import NETWORK_SLUG, find_organization

_JST = ZoneInfo("Asia/Tokyo")
_FEED_SIZE = 20  # the newest issues a feed lists


@dataclass(frozen=True)
class ArchiveEntry:
    number: int
    issue_date: date
    subject: str


@dataclass(frozen=True)
class ArchivedIssue:
    """What an archive page shows: the issue's view as the templates see it, and the network's greeting."""

    number: int
    view: dict[str, Any]  # issue, sections, more_tools, preheader (see outreach.render.issue_view)
    greeting: str
    published: datetime


def _published(issue: Issue) -> datetime:
    """When it went out; an issue marked sent without a time counts from the morning of its date (JST)."""
    if issue.sent_at is not None:
        sent = issue.sent_at
        return sent if sent.tzinfo else sent.replace(tzinfo=ZoneInfo("UTC"))
    return datetime.combine(issue.issue_date, time(9), tzinfo=_JST)


class Archive:
    """Lists sent issues newest first and prepares each once per language (a sent issue never changes)."""

    def __init__(self, db: Database, renderer: Renderer, *, max_cached: int = 64) -> None:
        self._db = db
        self._renderer = renderer
        self._cache: dict[tuple[int, str], ArchivedIssue] = {}
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

    def issue(self, number: int, language: str) -> ArchivedIssue:
        """The issue as the network's readers got it, for a page of its own; NotFound unless it was sent."""
        key = (number, language)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        with self._db.session() as session:
            archived = self._prepare(session, number, language)
        with self._lock:
            if len(self._cache) >= self._max_cached:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = archived
        return archived

    def _prepare(self, session: Session, number: int, language: str) -> ArchivedIssue:
        issue = get_issue(session, number)
        if issue.status != IssueStatus.SENT:
            raise NotFound(f"issue No. {number} has not been sent")
        network = find_organization(session, NETWORK_SLUG)
        view = issue_view(issue, language, carried=carried_before(session, issue))
        greeting = network.greeting_ja if language == "ja" else network.greeting_en
        return ArchivedIssue(number, view, greeting, _published(issue))

    def feed(self, language: str, *, base_url: str) -> bytes:
        """An Atom feed of the newest sent issues, each linking its archive page, in the language."""
        gettext = load_catalog(self._renderer.templates_dir, language).gettext
        prefix = "" if language == "ja" else f"/{language}"
        site = f"{base_url.rstrip('/')}{prefix}"
        sender = self._renderer.sender[language]
        feed = FeedGenerator()
        feed.id(f"{site}/archive")
        name, part = (
            gettext("中堅・中小企業海外安全対策ネットワーク メールマガジン"),
            gettext("バックナンバー"),
        )
        feed.title(f"{name}{PUNCTUATION[language].separator}{part}")
        feed.subtitle(
            gettext(
                "海外に拠点や出張者をもつ中堅・中小企業の皆様へ、"
                "ネットワークの会合結果や安全対策ツールの情報を無料でお届けします。"
            )
        )
        feed.author({"name": sender.name})
        feed.link(href=f"{site}/archive", rel="alternate", type="text/html")
        feed.link(href=f"{site}/archive.atom", rel="self", type="application/atom+xml")
        feed.language(language)
        newest = datetime(2016, 9, 27, tzinfo=_JST)  # the network's first plenary: the feed of no issue
        for entry in self.entries(language)[:_FEED_SIZE]:
            archived = self.issue(entry.number, language)
            newest = max(newest, archived.published)
            item = feed.add_entry(order="append")
            item.id(f"{site}/archive/{entry.number}")
            item.title(entry.subject)
            item.link(href=f"{site}/archive/{entry.number}", rel="alternate", type="text/html")
            item.published(archived.published)
            item.updated(archived.published)
            item.summary(str(archived.view["preheader"]))
        feed.updated(newest)
        atom: bytes = feed.atom_str(pretty=True)
        return atom
