"""Meeting outcomes and promotions: list, add, edit, with a live Markdown preview.

`/meetings` lists the recorded meetings, newest first, with the issues that carry each; `/meetings/new` adds
one and `/meetings/{kind}/{number}` edits one, through the use cases the CLI calls (audited as
`staff:<email>` with the browser's address). A form's プレビュー button shows the summaries rendered by the
mail's own Markdown renderer and saves nothing; with scripts, templates/admin/markdown-preview.js asks
`/markdown` for the same rendering as the text is typed. The promotions' pages are
outreach.console.content_promotions'.
"""

from __future__ import annotations

__all__ = ["ContentPages"]

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from outreach import content, issues, markdown
from outreach.console.content_forms import (
    MEETING_TEXTS,
    FieldProblem,
    MeetingForm,
    meeting_values,
    merged,
    previewing,
    problem_of,
    problems_of,
    read_meeting,
    rendered,
    with_empty_rows,
)
from outreach.console.content_promotions import PromotionPages
from outreach.console.content_rows import meeting_rows
from outreach.console.guard import Allowed, client_ip
from outreach.console.kit import Kit, Routes
from outreach.console.paths import base_of, language_of
from outreach.errors import InvalidInput, NotFound
from outreach.render import TEMPLATES_DIR
from outreach.staff.audit import staff_actor
from outreach.staff.roles import Permission
from outreach.usecases.content import (
    Carrier,
    MeetingChanges,
    MeetingRecord,
    carriers,
    check_meeting,
    edit_meeting_as,
    record_meeting_as,
)

_MEETING = "/meetings/{kind}/{number:int}"
_LARGEST = 999_999  # a meeting number outreach.content.MeetingKey accepts
_SUMMARIES = ("summary_ja", "summary_en")
_PREVIEW_LIMIT = 20_000
_SCRIPT = TEMPLATES_DIR / "admin" / "markdown-preview.js"


@lru_cache(maxsize=1)
def _script() -> bytes:
    return _SCRIPT.read_bytes()


def _key(request: Request) -> str | None:
    """The meeting the address names (`plenary:9`), or None when it can name none."""
    kind, number = request.path_params["kind"], request.path_params["number"]
    if kind not in content.MEETING_KINDS or not isinstance(number, int) or not 0 < number <= _LARGEST:
        return None
    return f"{kind}:{number}"


@dataclass(frozen=True)
class _Stored:
    """A recorded meeting as its edit page shows it: the form, the issues that carry it, and whether its
    format can be left unsaid (a format once given can be changed, not removed)."""

    form: MeetingForm
    carriers: list[Carrier]
    format_given: bool


def _stored(session: Session, key: str) -> _Stored | None:
    try:
        meeting = content.find_meeting(session, content.MeetingKey.parse(key))
    except NotFound:
        return None
    shown = carriers(issues.issues_carrying(session, meeting))
    return _Stored(meeting_values(meeting), shown, meeting.format is not None)


def _changes(record: MeetingRecord) -> MeetingChanges:
    """A meeting's edit form gives every field: each replaces the stored one."""
    return MeetingChanges(
        held_on=record.held_on,
        format=record.format,
        summary_ja=record.summary_ja,
        summary_en=record.summary_en,
        opened_by_ja=record.opened_by_ja,
        opened_by_en=record.opened_by_en,
        links=list(record.links),
    )


def _choices(table: dict[str, tuple[str, str]], language: str) -> list[tuple[str, str]]:
    index = 0 if language == "ja" else 1
    return [(value, names[index]) for value, names in table.items()]


class ContentPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.promotions = PromotionPages(kit)

    def routes(self) -> Routes:
        return [
            ("/meetings", self.meetings, "GET", Permission.CONTENT),
            ("/meetings/new", self.new_meeting, "GET", Permission.CONTENT),
            ("/meetings/new", self.add_meeting, "POST", Permission.CONTENT),
            (_MEETING, self.meeting, "GET", Permission.CONTENT),
            (_MEETING, self.edit_meeting, "POST", Permission.CONTENT),
            ("/markdown", self.markdown, "POST", Permission.CONTENT),
            ("/assets/markdown-preview.js", self.script, "GET", Permission.CONTENT),
            *self.promotions.routes(),
        ]

    # The list

    async def meetings(self, request: Request, allowed: Allowed) -> Response:
        rows = await self.kit.guard.run(meeting_rows)
        language = language_of(request.url.path)
        context = {
            "meetings": rows,
            "kinds": dict(_choices(content.MEETING_KINDS, language)),
            "formats": dict(_choices(content.MEETING_FORMATS, language)),
            "done": "added" if request.query_params.get("done") == "added" else "",
        }
        return self.kit.views.page(request, "admin/meetings.html", context, user=allowed.visit.user)

    # The form: a new meeting, or a recorded one

    def _form_page(
        self,
        request: Request,
        allowed: Allowed,
        form: MeetingForm,
        *,
        key: str | None,
        stored: _Stored | None = None,
        problems: list[FieldProblem] | None = None,
        preview: bool = False,
        status: int = 200,
    ) -> Response:
        language = language_of(request.url.path)
        shown = problems if problems is not None else []
        context: dict[str, Any] = {
            "key": key,
            "kind": key.partition(":")[0] if key else "",
            "number": key.partition(":")[2] if key else "",
            "values": form.values,
            "links": form.links,
            "problems": shown,
            "errors": {problem.field: problem for problem in shown if problem.field},
            "previews": rendered(form.values, _SUMMARIES) if preview or stored else {},
            "previewed": preview,
            "kinds": _choices(content.MEETING_KINDS, language),
            "formats": _choices(content.MEETING_FORMATS, language),
            "format_given": stored.format_given if stored else False,
            "carriers": stored.carriers if stored else [],
            "done": "edited" if request.query_params.get("done") == "edited" and not shown else "",
        }
        user = allowed.visit.user
        return self.kit.views.page(request, "admin/meeting_form.html", context, user=user, status=status)

    async def new_meeting(self, request: Request, allowed: Allowed) -> Response:
        values = dict.fromkeys(("kind", "number", *MEETING_TEXTS), "") | {"kind": "plenary"}
        blank = MeetingForm(values, with_empty_rows([]))
        return self._form_page(request, allowed, blank, key=None)

    def _acting(self, request: Request, allowed: Allowed) -> dict[str, Any]:
        return {
            "actor": staff_actor(allowed.visit.user.email),
            "now": self.kit.clock(),
            "ip": client_ip(request),
        }

    async def add_meeting(self, request: Request, allowed: Allowed) -> Response:
        assert allowed.form is not None  # a POST behind the guard
        read = read_meeting(allowed.form, key=None)
        if previewing(allowed.form):
            return self._form_page(request, allowed, read, key=None, preview=True)
        record = read.record
        checked = problems_of(check_meeting(record)) if record is not None else []
        problems = merged(read.problems, checked)
        if problems or record is None:
            return self._form_page(request, allowed, read, key=None, problems=problems, status=400)
        acting = self._acting(request, allowed)
        try:
            await self.kit.guard.run(lambda session: record_meeting_as(session, record, **acting))
        except InvalidInput as error:
            return self._form_page(request, allowed, read, key=None, problems=problem_of(error), status=400)
        return RedirectResponse(f"{base_of(request.url.path)}/meetings?done=added", status_code=303)

    async def meeting(self, request: Request, allowed: Allowed) -> Response:
        key = _key(request)
        stored = await self._stored(key)
        if key is None or stored is None:
            return self._not_found(request, allowed)
        return self._form_page(request, allowed, stored.form, key=key, stored=stored)

    async def edit_meeting(self, request: Request, allowed: Allowed) -> Response:
        key = _key(request)
        stored = await self._stored(key)
        if key is None or stored is None:
            return self._not_found(request, allowed)
        assert allowed.form is not None  # a POST behind the guard
        read = read_meeting(allowed.form, key=key)
        if previewing(allowed.form):
            return self._form_page(request, allowed, read, key=key, stored=stored, preview=True)
        record = read.record
        checked = problems_of(check_meeting(record)) if record is not None else []
        problems = merged(read.problems, checked)
        if problems or record is None:
            return self._form_page(
                request, allowed, read, key=key, stored=stored, problems=problems, status=400
            )
        changes, acting = _changes(record), self._acting(request, allowed)
        try:
            await self.kit.guard.run(lambda session: edit_meeting_as(session, key, changes, **acting))
        except NotFound:
            return self._not_found(request, allowed)
        except InvalidInput as error:
            return self._form_page(
                request, allowed, read, key=key, stored=stored, problems=problem_of(error), status=400
            )
        kind, number = key.split(":")
        url = f"{base_of(request.url.path)}/meetings/{kind}/{number}?done=edited"
        return RedirectResponse(url, status_code=303)

    async def _stored(self, key: str | None) -> _Stored | None:
        if key is None:
            return None
        return await self.kit.guard.run(lambda session: _stored(session, key))

    def _not_found(self, request: Request, allowed: Allowed) -> Response:
        return self.kit.views.refusal(request, "not_found", user=allowed.visit.user, status=404)

    # The live preview

    async def markdown(self, request: Request, allowed: Allowed) -> Response:
        """A text rendered as readers get it: an HTML fragment for markdown-preview.js to show."""
        assert allowed.form is not None  # a POST behind the guard
        text = allowed.form.get("text")
        source = text[:_PREVIEW_LIMIT] if isinstance(text, str) else ""
        language = "en" if allowed.form.get("language") == "en" else "ja"
        fragment = f'<div lang="{language}">{markdown.to_html(source, top_heading=3)}</div>'
        return HTMLResponse(fragment)

    async def script(self, request: Request, allowed: Allowed) -> Response:
        return Response(_script(), media_type="application/javascript")
