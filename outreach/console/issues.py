"""The console's issue pages: an issue, its approval (決裁), and its send: now or later, paused, cancelled.

`/issues/N` shows the issue. Approving, sending, planning, pausing, resuming and cancelling are POSTs behind
the guard (login, role, CSRF), each a call of the use case the CLI makes, audited as `staff:<email>` with the
browser's address. Sending and planning first show a confirmation page (a GET that changes nothing): the
subjects, when, and the recipients per organization. A refusal shows the issue page again, saying why, and
changes nothing.
"""

from __future__ import annotations

__all__ = ["IssuePages"]

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from outreach.calendar import JST, holiday_name, next_business_morning
from outreach.console.alerts_rows import AlertEntry, issue_alerts
from outreach.console.forms import read_send_time
from outreach.console.guard import Allowed, Guard, Handler, client_ip
from outreach.console.paths import base_of, language_of
from outreach.console.queries import IssueDetail, issue_detail
from outreach.console.views import ConsoleViews, jst
from outreach.errors import InvalidInput, NotFound
from outreach.issues import get_issue
from outreach.models import IssueStatus
from outreach.planner import schedule_issue
from outreach.staff.audit import staff_actor
from outreach.staff.roles import Permission, allows
from outreach.staff.settings import StaffSettings
from outreach.states import IllegalMove
from outreach.usecases import approval, sends
from outreach.usecases.approval import Acting, ApprovalRefused

_LARGEST = 2**31 - 1  # an issue number the database can hold; a larger one names no issue
_DONE = frozenset(
    {"approved", "started", "scheduled", "paused", "resumed", "cancelled", "composed", "edited"}
)
_ISSUE = "/issues/{number:int}"
_UNSTARTED = (IssueStatus.DRAFT, IssueStatus.SCHEDULED)


@dataclass(frozen=True)
class Problem:
    """Why a request was refused: `code` names the message (templates/admin/macros.html), `field` the form
    field it is about, `detail` the engine's own words for a refusal the console has no message for."""

    code: str
    field: str = ""
    detail: str = ""


def _problem(error: InvalidInput) -> Problem:
    if isinstance(error, ApprovalRefused):
        return Problem(error.reason.value)
    if isinstance(error, IllegalMove):
        return Problem("state")
    return Problem("other", detail=str(error))


def _number(request: Request) -> int | None:
    number = request.path_params["number"]
    return number if isinstance(number, int) and 0 < number <= _LARGEST else None


class IssuePages:
    def __init__(
        self, guard: Guard, views: ConsoleViews, settings: StaffSettings, clock: Callable[[], datetime]
    ) -> None:
        self.guard = guard
        self.views = views
        self.settings = settings
        self.clock = clock

    def routes(self) -> list[tuple[str, Handler, str, Permission]]:
        """(path, handler, method, the permission it needs), for the console to put behind its guard."""
        return [
            (_ISSUE, self.show, "GET", Permission.DASHBOARD),
            (f"{_ISSUE}/approve", self.approve, "POST", Permission.APPROVE),
            (f"{_ISSUE}/send", self.confirm_send, "GET", Permission.SEND),
            (f"{_ISSUE}/send", self.send, "POST", Permission.SEND),
            (f"{_ISSUE}/schedule", self.confirm_schedule, "GET", Permission.SEND),
            (f"{_ISSUE}/schedule", self.schedule, "POST", Permission.SEND),
            (f"{_ISSUE}/pause", self.pause, "POST", Permission.SEND),
            (f"{_ISSUE}/resume", self.resume, "POST", Permission.SEND),
            (f"{_ISSUE}/cancel", self.cancel, "POST", Permission.SEND),
        ]

    # Reading

    async def _detail(self, number: int | None) -> IssueDetail | None:
        if number is None:
            return None
        policy = self.settings.approval
        try:
            return await self.guard.run(lambda session: issue_detail(session, number, policy))
        except NotFound:
            return None

    async def _alerts(self, number: int, language: str) -> list[AlertEntry]:
        """The safety-alert entries the issue carries: an alert issue's content, a regular issue's digest."""
        return await self.guard.run(lambda session: issue_alerts(session, number, language))

    def _not_found(self, request: Request, allowed: Allowed) -> Response:
        return self.views.refusal(request, "not_found", user=allowed.visit.user, status=404)

    def _acting(self, request: Request, allowed: Allowed) -> Acting:
        return Acting(staff_actor(allowed.visit.user.email), self.settings.approval, ip=client_ip(request))

    def _suggested_time(self) -> str:
        """The next business morning at the scheduler's send time, as a datetime-local field shows it."""
        return f"{next_business_morning(self.clock(), at=self.settings.morning):%Y-%m-%dT%H:%M}"

    async def _issue_page(
        self,
        request: Request,
        allowed: Allowed,
        *,
        problems: tuple[Problem, ...] = (),
        at_text: str | None = None,
        status: int = 200,
    ) -> Response:
        detail = await self._detail(_number(request))
        if detail is None:
            return self._not_found(request, allowed)
        user = allowed.visit.user
        done = request.query_params.get("done", "")
        language = language_of(request.url.path)
        context = {
            **_shown(detail, language),
            "alerts": await self._alerts(detail.number, language),
            "policy": self.settings.approval.value,
            "may_approve": allows(user.role, Permission.APPROVE),
            "may_send": allows(user.role, Permission.SEND),
            "may_compose": allows(user.role, Permission.COMPOSE),
            "composed_by_you": detail.composed_by == staff_actor(user.email),
            "at": self._suggested_time() if at_text is None else at_text,
            "problems": problems,
            "done": done if done in _DONE and not problems else "",
        }
        return self.views.page(request, "admin/issue.html", context, user=user, status=status)

    async def show(self, request: Request, allowed: Allowed) -> Response:
        return await self._issue_page(request, allowed)

    # Approving

    async def approve(self, request: Request, allowed: Allowed) -> Response:
        number = _number(request)
        if number is None:
            return self._not_found(request, allowed)
        user, policy, now, ip = allowed.visit.user, self.settings.approval, self.clock(), client_ip(request)
        return await self._act(
            request,
            allowed,
            lambda session: approval.approve(session, number, user, policy=policy, now=now, ip=ip),
            done="approved",
        )

    async def _act(
        self, request: Request, allowed: Allowed, work: Callable[[Session], object], *, done: str
    ) -> Response:
        """Do `work` in one transaction; to the issue page saying it was done, or again saying why not."""
        try:
            await self.guard.run(work)
        except NotFound:
            return self._not_found(request, allowed)
        except InvalidInput as error:
            return await self._issue_page(request, allowed, problems=(_problem(error),), status=409)
        return self._to_issue(request, done)

    def _to_issue(self, request: Request, done: str) -> RedirectResponse:
        url = f"{base_of(request.url.path)}/issues/{request.path_params['number']}?done={done}"
        return RedirectResponse(url, status_code=303)

    # Sending now, or at a set time: a confirmation page, then the POST

    def _refusal(self, detail: IssueDetail) -> Problem | None:
        """Why this issue cannot be started or planned now, or None."""
        if not detail.unstarted:
            return Problem("state")
        return Problem(detail.unapproved.value) if detail.unapproved is not None else None

    def _checked_time(self, fields: Mapping[str, object]) -> tuple[str, datetime | None, Problem | None]:
        text, at = read_send_time(fields)
        if at is None:
            return text, None, Problem("bad-time", field="at")
        if at <= self.clock():
            return text, None, Problem("past-time", field="at")
        return text, at, None

    async def _confirmation(
        self, request: Request, allowed: Allowed, *, at: datetime | None, at_text: str = ""
    ) -> Response:
        detail = await self._detail(_number(request))
        if detail is None:
            return self._not_found(request, allowed)
        problem = self._refusal(detail)
        if problem is not None:
            return await self._issue_page(request, allowed, problems=(problem,), status=409)
        context = {
            **_shown(detail, language_of(request.url.path)),
            "at": at_text,
            "when": jst(at) if at is not None else "",
            "holiday": holiday_name(at.astimezone(JST).date()) if at is not None else None,
            "total": sum(group.recipients for group in detail.audience),
        }
        return self.views.page(request, "admin/confirm.html", context, user=allowed.visit.user)

    async def confirm_send(self, request: Request, allowed: Allowed) -> Response:
        return await self._confirmation(request, allowed, at=None)

    async def confirm_schedule(self, request: Request, allowed: Allowed) -> Response:
        text, at, problem = self._checked_time(request.query_params)
        if problem is not None:
            return await self._issue_page(request, allowed, problems=(problem,), at_text=text, status=400)
        return await self._confirmation(request, allowed, at=at, at_text=text)

    async def send(self, request: Request, allowed: Allowed) -> Response:
        """Start the send; the resident workers (`outreach worker`, `scheduler --with-worker`) deliver it."""
        number = _number(request)
        if number is None:
            return self._not_found(request, allowed)
        by, now = self._acting(request, allowed), self.clock()

        def start(session: Session) -> None:
            status = get_issue(session, number).status
            if status not in _UNSTARTED:  # started meanwhile (a second click): nothing to start again
                raise IllegalMove(f"issue No. {number} is {status}")
            sends.start_for_workers(session, number, now=now, by=by)

        return await self._act(request, allowed, start, done="started")

    async def schedule(self, request: Request, allowed: Allowed) -> Response:
        number = _number(request)
        if number is None:
            return self._not_found(request, allowed)
        assert allowed.form is not None  # a POST behind the guard
        text, at, problem = self._checked_time(allowed.form)
        if problem is not None or at is None:
            problems = (problem,) if problem is not None else ()
            return await self._issue_page(request, allowed, problems=problems, at_text=text, status=400)
        by, now, db = self._acting(request, allowed), self.clock(), self.guard.db
        try:
            await asyncio.to_thread(lambda: schedule_issue(db, number, at, now=now, by=by))
        except NotFound:
            return self._not_found(request, allowed)
        except InvalidInput as error:
            return await self._issue_page(request, allowed, problems=(_problem(error),), status=409)
        return self._to_issue(request, "scheduled")

    # Steering a send

    async def pause(self, request: Request, allowed: Allowed) -> Response:
        return await self._steer(request, allowed, sends.pause_send, "paused")

    async def resume(self, request: Request, allowed: Allowed) -> Response:
        return await self._steer(request, allowed, sends.resume_send, "resumed")

    async def cancel(self, request: Request, allowed: Allowed) -> Response:
        return await self._steer(request, allowed, sends.cancel_send, "cancelled")

    async def _steer(
        self, request: Request, allowed: Allowed, move: Callable[..., object], done: str
    ) -> Response:
        number = _number(request)
        if number is None:
            return self._not_found(request, allowed)
        actor, ip = staff_actor(allowed.visit.user.email), client_ip(request)
        return await self._act(
            request, allowed, lambda session: move(session, number, actor=actor, ip=ip), done=done
        )


def _shown(detail: IssueDetail, language: str) -> dict[str, Any]:
    """What both issue pages show of the issue, in the page's language."""
    return {
        "issue": detail,
        "subject": detail.subject(language),
        "approved_at": jst(detail.approved_at),
        "scheduled_at": jst(detail.scheduled_at),
    }
