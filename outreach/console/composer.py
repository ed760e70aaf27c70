"""The composer: a new issue from meetings, its promotions, subjects and lead; edit or delete a draft.

`/issues/new` composes (approval.compose_as), `/issues/N/edit` edits a draft (approval.edit_as, which
withdraws an approval), `/issues/N/delete` deletes one (drafts.delete_as, audited `issue.delete`). What the
form gets wrong is shown at its field with a 400 and nothing written; a charset refusal is shown at the field
whose text it cannot carry, in the engine's words. A compose or an edit that leaves something to check (a
meeting that went out in an earlier issue, characters replaced for ISO-2022-JP) goes on to the edit page,
which says what; otherwise to the issue page.
"""

from __future__ import annotations

__all__ = ["ComposerPages"]

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from outreach import issues
from outreach.calendar import JST
from outreach.console.compose_form import (
    LEAD_LIMIT,
    Choices,
    ComposeFields,
    FieldProblem,
    charset_problems,
    checked,
    choices,
    read_compose,
)
from outreach.console.guard import Allowed, client_ip
from outreach.console.kit import Kit, Routes
from outreach.console.paths import base_of
from outreach.content import MEETING_KINDS
from outreach.errors import InvalidInput, NotFound
from outreach.issue_charsets import CHARSETS, CharsetRefused
from outreach.models import IssueStatus
from outreach.staff.audit import staff_actor
from outreach.staff.roles import Permission
from outreach.usecases import approval, drafts

T = TypeVar("T")
_NEW = "/issues/new"
_EDIT = "/issues/{number:int}/edit"
_DELETE = "/issues/{number:int}/delete"
_LARGEST = 2**31 - 1  # an issue number the database can hold; a larger one names no issue


@dataclass(frozen=True)
class _Draft:
    """An issue as its edit page shows it: the form filled in, and what staff should check."""

    number: int
    status: IssueStatus
    approved_by: str | None
    fields: ComposeFields
    overlaps: list[drafts.Overlap]
    substitutions: list[str]
    newest: bool  # deleting it frees its number


def _read_draft(session: Session, number: int) -> _Draft:
    reviewed = drafts.review(session, number)
    issue = reviewed.issue
    fields = ComposeFields(
        meetings=tuple(item.meeting.key for item in issue.items if item.meeting is not None),
        issue_date=issue.issue_date.isoformat(),
        subject_ja=issue.subject_ja,
        subject_en=issue.subject_en,
        lead_ja=issue.lead_ja,
        lead_en=issue.lead_en,
        charset=issue.charset,
        promotions=tuple(item.promotion.slug for item in issue.items if item.promotion is not None),
    )
    newest = issues.next_issue_number(session) == number + 1
    return _Draft(
        number,
        issue.status,
        issue.approved_by,
        fields,
        reviewed.overlaps,
        reviewed.substitutions,
        newest,
    )


def _number(request: Request) -> int | None:
    number = request.path_params.get("number")
    return number if isinstance(number, int) and 0 < number <= _LARGEST else None


def _unchanged(posted: str, stored: str) -> bool:
    return " ".join(posted.split()) == " ".join(stored.split())


class ComposerPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return [
            (_NEW, self.new_form, "GET", Permission.COMPOSE),
            (_NEW, self.create, "POST", Permission.COMPOSE),
            (_EDIT, self.edit_form, "GET", Permission.COMPOSE),
            (_EDIT, self.save, "POST", Permission.COMPOSE),
            (_DELETE, self.delete, "POST", Permission.COMPOSE),
        ]

    # Reading

    def _today(self) -> date:
        return self.kit.clock().astimezone(JST).date()

    async def _draft(self, number: int | None) -> _Draft | None:
        if number is None:
            return None
        try:
            return await self.kit.guard.run(lambda session: _read_draft(session, number))
        except NotFound:
            return None

    async def _choices(self, fields: ComposeFields, number: int | None) -> Choices:
        on = fields.day or self._today()

        def read(session: Session) -> Choices:
            taken = number if number is not None else issues.next_issue_number(session)
            return choices(session, number=taken, on=on, chosen=fields.meetings)

        return await self.kit.guard.run(read)

    async def _form(
        self,
        request: Request,
        allowed: Allowed,
        fields: ComposeFields,
        *,
        draft: _Draft | None = None,
        problems: list[FieldProblem] | None = None,
        status: int = 200,
    ) -> Response:
        offered = await self._choices(fields, draft.number if draft else None)
        chosen = fields.promotions
        context: dict[str, Any] = {
            "draft": draft,
            "number": offered.number,
            "fields": fields,
            "meetings": offered.meetings,
            "promotions": offered.promotions,
            "chosen_promotions": [p.slug for p in offered.promotions] if chosen is None else list(chosen),
            "derived": offered.derived,
            "charsets": CHARSETS,
            "meeting_kinds": MEETING_KINDS,
            "lead_limit": LEAD_LIMIT,
            "problems": problems or [],
            "field_problems": {problem.field: problem for problem in problems or []},
            "notice": _notice(request) if draft is not None and not problems else "",
        }
        template = "admin/compose.html"
        return self.kit.views.page(request, template, context, user=allowed.visit.user, status=status)

    def _not_found(self, request: Request, allowed: Allowed) -> Response:
        return self.kit.views.refusal(request, "not_found", user=allowed.visit.user, status=404)

    def _not_a_draft(self, request: Request, allowed: Allowed, number: int, status: IssueStatus) -> Response:
        context = {"number": number, "status": status.value}
        return self.kit.views.page(
            request, "admin/compose_refused.html", context, user=allowed.visit.user, status=409
        )

    # Composing

    async def new_form(self, request: Request, allowed: Allowed) -> Response:
        fields = ComposeFields(issue_date=self._today().isoformat())
        return await self._form(request, allowed, fields)

    async def create(self, request: Request, allowed: Allowed) -> Response:
        assert allowed.form is not None  # a POST behind the guard
        fields = read_compose(allowed.form)
        if fields.refresh:
            return await self._form(request, allowed, replace(fields, promotions=None))
        problems = checked(fields, await self._choices(fields, None))
        if problems or fields.day is None:
            return await self._form(request, allowed, fields, problems=problems, status=400)
        actor, ip, now, renderer = self._acting(request, allowed)
        draft = drafts.NewDraft(
            meetings=fields.meetings,
            issue_date=fields.day,
            subject_ja=fields.subject_ja,
            subject_en=fields.subject_en,
            lead_ja=fields.lead_ja,
            lead_en=fields.lead_en,
            charset=fields.charset,
            promotions=fields.promotions or (),
        )

        def work(session: Session) -> drafts.Drafted:
            return approval.compose_as(session, draft, actor, now=now, renderer=renderer, ip=ip)

        done = await self._attempt(work)
        if isinstance(done, list):
            return await self._form(request, allowed, fields, problems=done, status=400)
        return self._onward(request, done, "composed")

    def _acting(self, request: Request, allowed: Allowed) -> tuple[str, str | None, Any, Any]:
        return staff_actor(allowed.visit.user.email), client_ip(request), self.kit.clock(), self.kit.renderer

    async def _attempt(self, work: Callable[[Session], T]) -> T | list[FieldProblem]:
        """Do `work` in one transaction, or say at which fields the engine refused it (nothing written)."""
        try:
            return await self.kit.guard.run(work)
        except CharsetRefused as refusal:
            return charset_problems(refusal)
        except InvalidInput as error:  # NotFound too: a meeting or promotion gone meanwhile
            return [FieldProblem("other", "", str(error))]

    def _onward(self, request: Request, drafted: drafts.Drafted, done: str) -> RedirectResponse:
        """To the edit page when there is something to check, else to the issue page saying it was done."""
        base, number = base_of(request.url.path), drafted.issue.number
        if drafted.warnings or drafted.substitutions:
            return RedirectResponse(f"{base}/issues/{number}/edit?{done}=1", status_code=303)
        return RedirectResponse(f"{base}/issues/{number}?done={done}", status_code=303)

    # Editing

    async def _editable(self, request: Request, allowed: Allowed) -> _Draft | Response:
        draft = await self._draft(_number(request))
        if draft is None:
            return self._not_found(request, allowed)
        if draft.status != IssueStatus.DRAFT:
            return self._not_a_draft(request, allowed, draft.number, draft.status)
        return draft

    async def edit_form(self, request: Request, allowed: Allowed) -> Response:
        draft = await self._editable(request, allowed)
        if isinstance(draft, Response):
            return draft
        return await self._form(request, allowed, draft.fields, draft=draft)

    async def save(self, request: Request, allowed: Allowed) -> Response:
        draft = await self._editable(request, allowed)
        if isinstance(draft, Response):
            return draft
        assert allowed.form is not None  # a POST behind the guard
        fields = read_compose(allowed.form)
        if fields.refresh:
            return await self._form(request, allowed, replace(fields, promotions=None), draft=draft)
        problems = checked(fields, await self._choices(fields, draft.number))
        if problems:
            return await self._form(request, allowed, fields, draft=draft, problems=problems, status=400)
        actor, ip, now, renderer = self._acting(request, allowed)
        number = draft.number

        def work(session: Session) -> drafts.Drafted | IssueStatus:
            issue = issues.get_issue(session, number)
            if issue.status != IssueStatus.DRAFT:  # scheduled or deleted meanwhile
                return issue.status
            changes = drafts.DraftChanges(
                meetings=fields.meetings,
                issue_date=fields.day,
                subject_ja=None if _unchanged(fields.subject_ja, issue.subject_ja) else fields.subject_ja,
                subject_en=None if _unchanged(fields.subject_en, issue.subject_en) else fields.subject_en,
                lead_ja=fields.lead_ja,
                lead_en=fields.lead_en,
                charset=fields.charset,
                promotions=fields.promotions or (),
            )
            return approval.edit_as(session, number, changes, actor, now=now, renderer=renderer, ip=ip)

        done = await self._attempt(work)
        if isinstance(done, list):
            return await self._form(request, allowed, fields, draft=draft, problems=done, status=400)
        if isinstance(done, IssueStatus):
            return self._not_a_draft(request, allowed, number, done)
        return self._onward(request, done, "edited")

    # Deleting

    async def delete(self, request: Request, allowed: Allowed) -> Response:
        draft = await self._editable(request, allowed)
        if isinstance(draft, Response):
            return draft
        assert allowed.form is not None  # a POST behind the guard
        if allowed.form.get("confirm") != "yes":
            unconfirmed = [FieldProblem("confirm-delete", "confirm")]
            return await self._form(
                request, allowed, draft.fields, draft=draft, problems=unconfirmed, status=400
            )
        actor, ip, now, _ = self._acting(request, allowed)
        number = draft.number

        def work(session: Session) -> drafts.Deleted | IssueStatus:
            status = issues.get_issue(session, number).status
            if status != IssueStatus.DRAFT:
                return status
            return drafts.delete_as(session, number, actor, now=now, ip=ip)

        done = await self._attempt(work)
        if isinstance(done, list):
            return await self._form(request, allowed, draft.fields, draft=draft, problems=done, status=409)
        if isinstance(done, IssueStatus):
            return self._not_a_draft(request, allowed, number, done)
        return RedirectResponse(f"{base_of(request.url.path)}/?deleted={number}", status_code=303)


def _notice(request: Request) -> str:
    """What the edit page says first after a compose or an edit that left something to check."""
    for done in ("composed", "edited"):
        if request.query_params.get(done) == "1":
            return done
    return ""
