"""Watching a send: the live progress page and the delivery log (filters, paging, CSV export).

`/issues/N/progress` shows the issue's recipients by state per organization, the rate the relay accepts them,
the time left; while a send is under way it reloads itself every 5 seconds (a meta refresh: no script).
`/issues/N/log` lists the ledger a row per recipient, 50 to a page, filtered by a GET form;
`/issues/N/log.csv` gives every row the same filters match, streamed. All read, none write; a filter that
names nothing is refused with a 400 and the form saying why (outreach.console.delivery_filters).
"""

from __future__ import annotations

__all__ = ["DeliveryPages"]

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from outreach import delivery_view
from outreach.calendar import JST
from outreach.console.delivery_csv import CsvWords, csv_chunks
from outreach.console.delivery_filters import LogQuery, read_log_query
from outreach.console.guard import Allowed
from outreach.console.kit import Kit, Routes
from outreach.console.paths import language_of
from outreach.console.views import jst
from outreach.delivery_view import STATES, LogPage, OrganizationName, Progress
from outreach.errors import NotFound
from outreach.issues import get_issue
from outreach.models import DeliveryStatus, IssueStatus
from outreach.network import NETWORK_SLUG
from outreach.staff.roles import Permission
from outreach.usecases.sends import RELAY_DOWN

T = TypeVar("T")
_LARGEST = 2**31 - 1  # an issue number the database can hold; a larger one names no issue
_ISSUE = "/issues/{number:int}"
_UNSTARTED = (IssueStatus.DRAFT, IssueStatus.SCHEDULED)
# Always a column on the progress page; `unknown` and `cancelled` only when some row is in them.
_MAIN_STATES = (
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.DEFERRED,
    DeliveryStatus.FAILED,
    DeliveryStatus.BOUNCED,
)
_COLUMNS = ("email", "organization", "language", "state", "code", "reply", "attempts", "updated")


def _number(request: Request) -> int | None:
    number = request.path_params["number"]
    return number if isinstance(number, int) and 0 < number <= _LARGEST else None


@dataclass(frozen=True)
class _LogRead:
    """What the log page and the CSV read in one transaction; `page` is None when the query was refused
    (or not wanted: the CSV reads its rows as it sends them)."""

    issue_id: int
    number: int
    subject_ja: str
    subject_en: str
    status: IssueStatus
    organizations: list[OrganizationName]
    query: LogQuery
    page: LogPage | None


def _read_log(session: Session, number: int, params: dict[str, str], *, paged: bool) -> _LogRead:
    issue = get_issue(session, number)
    names = delivery_view.organizations(session)
    query = read_log_query(params, organizations={name.slug for name in names})
    page = None
    if paged and not query.problems:
        page = delivery_view.log_page(session, issue.id, query.filters, page=query.page)
    return _LogRead(
        issue.id, issue.number, issue.subject_ja, issue.subject_en, issue.status, names, query, page
    )


class DeliveryPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return [
            (f"{_ISSUE}/progress", self.progress, "GET", Permission.DASHBOARD),
            (f"{_ISSUE}/log", self.log, "GET", Permission.DASHBOARD),
            (f"{_ISSUE}/log.csv", self.log_csv, "GET", Permission.DASHBOARD),
        ]

    async def _read(self, request: Request, work: Callable[[Session, int], T]) -> T | None:
        """`work` for the issue the path names; None when there is no such issue."""
        number = _number(request)
        if number is None:
            return None
        try:
            return await self.kit.guard.run(lambda session: work(session, number))
        except NotFound:
            return None

    def _not_found(self, request: Request, allowed: Allowed) -> Response:
        return self.kit.views.refusal(request, "not_found", user=allowed.visit.user, status=404)

    # The progress page

    async def progress(self, request: Request, allowed: Allowed) -> Response:
        now = self.kit.clock()
        found = await self._read(request, lambda session, n: delivery_view.progress(session, n, now=now))
        if found is None:
            return self._not_found(request, allowed)
        context = _progress_context(found, language_of(request.url.path))
        return self.kit.views.page(request, "admin/progress.html", context, user=allowed.visit.user)

    # The delivery log

    async def log(self, request: Request, allowed: Allowed) -> Response:
        params = dict(request.query_params)
        read = await self._read(request, lambda session, n: _read_log(session, n, params, paged=True))
        if read is None:
            return self._not_found(request, allowed)
        return self._log_page(request, allowed, read)

    def _log_page(self, request: Request, allowed: Allowed, read: _LogRead) -> Response:
        language = language_of(request.url.path)
        context = {
            "number": read.number,
            "subject": read.subject_ja if language == "ja" else read.subject_en,
            "status": read.status.value,
            "unstarted": read.status in _UNSTARTED,
            "organizations": [(name.slug, name.name(language)) for name in read.organizations],
            "states": [state.value for state in STATES],
            "query": read.query,
            "problems": read.query.problems,
            "log": read.page,
            "rows": [_log_row(row, language) for row in read.page.rows] if read.page else [],
        }
        status = 400 if read.query.problems else 200
        return self.kit.views.page(request, "admin/log.html", context, user=allowed.visit.user, status=status)

    async def log_csv(self, request: Request, allowed: Allowed) -> Response:
        params = dict(request.query_params)
        read = await self._read(request, lambda session, n: _read_log(session, n, params, paged=False))
        if read is None:
            return self._not_found(request, allowed)
        if read.query.problems:
            return self._log_page(request, allowed, read)
        words = self._csv_words(language_of(request.url.path))
        chunks = csv_chunks(self.kit.guard.db, read.issue_id, read.query.filters, words)
        disposition = f'attachment; filename="issue-{read.number}-log.csv"'
        return StreamingResponse(
            chunks, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
        )

    def _csv_words(self, language: str) -> CsvWords:
        """The CSV's words from the same macros the log page uses, so both say the same."""
        environment = self.kit.renderer.environment(NETWORK_SLUG, language)
        macros = environment.get_template("admin/delivery_macros.html").module

        def said(markup: Any) -> str:
            return html.unescape(str(markup)).strip()  # a macro's Markup, as plain text

        return CsvWords(
            language=language,
            headings=[said(macros.heading(column)) for column in _COLUMNS],  # type: ignore[attr-defined]
            states={s.value: said(macros.state_label(s.value)) for s in STATES},  # type: ignore[attr-defined]
            languages={code: said(macros.language_label(code)) for code in ("ja", "en")},  # type: ignore[attr-defined]
        )


def _log_row(row: delivery_view.LogRow, language: str) -> dict[str, Any]:
    return {
        "email": row.email,
        "organization": row.organization.name(language),
        "language": row.language,
        "state": row.status.value,
        "code": row.smtp_code,
        "reply": row.smtp_reply or "",
        "attempts": row.attempts,
        "updated": f"{row.updated_at.astimezone(JST):%Y-%m-%d %H:%M:%S}",
    }


def _refreshes(progress: Progress) -> bool:
    """Reload while the workers send: sending, or paused only until the relay answers again."""
    if progress.status == IssueStatus.SENDING:
        return True
    relay_paused = (progress.pause_reason or "").startswith(RELAY_DOWN)
    return progress.status == IssueStatus.PAUSED and relay_paused


def _rate(rate: float | None) -> str:
    if rate is None:
        return ""
    return f"{rate:,.1f}" if rate < 10 else f"{rate:,.0f}"


def _time_left(left: timedelta | None) -> dict[str, int] | None:
    """Hours and minutes (rounded up: "about 3 minutes" should not end after 2); None when unknown."""
    if left is None:
        return None
    minutes = -(-int(left.total_seconds()) // 60)
    return {"hours": minutes // 60, "minutes": minutes % 60, "total": minutes}


def _progress_context(progress: Progress, language: str) -> dict[str, Any]:
    totals = progress.totals
    shown = [s.value for s in STATES if s in _MAIN_STATES or totals[s.value]]
    return {
        "progress": progress,
        "subject": progress.subject(language),
        "unstarted": progress.status in _UNSTARTED,
        "refresh": _refreshes(progress),
        "states": shown,
        "rows": [
            {
                "slug": row.organization.slug,
                "name": row.organization.name(language),
                "counts": row.counts,
                "total": row.total,
            }
            for row in progress.rows
        ],
        "totals": totals,
        "percent": progress.done * 100 // progress.total if progress.total else 0,
        "started_at": jst(progress.started_at),
        "sent_at": jst(progress.sent_at),
        "last_activity": jst(progress.last_activity),
        "rate": _rate(progress.rate),
        "window_minutes": int(delivery_view.RATE_WINDOW / timedelta(minutes=1)),
        "left": _time_left(progress.time_left),
    }
