"""The forward kit: an organization's rendition of a sent issue as .eml, HTML and text; its forwarding.

`/organizations/{slug}/kit` lists the issues that are going out or have gone out (outreach.members.kit:
sending or sent, newest first), each with its files per language and format, how often they were
downloaded, and a form for the number of companies the organization forwarded the issue to.
`/organizations/{slug}/kit/{number}/{name}` is one file, `name` being `ja.eml`, `en.html`, `ja.txt` and so on
(parsed here: one path parameter, so that Starlette's matching stays simple); each download is recorded and
audited. `/organizations/{slug}/kit/{number}/forwarded` records the forwarding, replacing an earlier report.
Every route asks outreach.console.orgscope first: another organization's kit is a 404, as is a draft's.
"""

from __future__ import annotations

__all__ = ["ForwardKitPages", "Problem", "read_report"]

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from outreach.console.guard import Allowed, client_ip
from outreach.console.kit import Kit, Routes
from outreach.console.orgscope import OrgRef, find_organization
from outreach.console.paths import base_of, language_of
from outreach.console.views import jst
from outreach.errors import InvalidInput, NotFound
from outreach.members import forwarding
from outreach.members.forwarding import MAX_COMPANIES, MAX_NOTE, KitIssue
from outreach.members.kit import (
    FORMATS,
    KitFile,
    KitSender,
    PublicPages,
    kit_issue,
    kit_organization,
    kit_sender,
)
from outreach.members.models import OrganizationProfile
from outreach.staff.audit import staff_actor
from outreach.staff.roles import Permission
from outreach.staff.users import StaffView

_KIT = "/organizations/{slug}/kit"
_LARGEST = 2**31 - 1  # an issue number the database can hold; a larger one names no issue
_FILE = re.compile(r"(ja|en)\.(eml|html|txt)")
_DIGITS = re.compile(r"[0-9]{1,9}")
_GROUPING = str.maketrans("", "", ",， ")  # 1,200 and １，２００ are a number as people write it
_MAX_TYPED = 2000  # characters of a field kept to show again; longer is refused anyway


@dataclass(frozen=True)
class Problem:
    """Why a request was refused: `code` names the message (templates/admin/kit.html), `field` the form field
    (its id on the page), `number` the issue whose form it is, `detail` the engine's own words."""

    code: str
    field: str = ""
    number: int = 0
    detail: str = ""


@dataclass(frozen=True)
class _Typed:
    """A report form as typed, to show again beside its problems."""

    number: int
    companies: str
    note: str


def _number(request: Request) -> int | None:
    number = request.path_params["number"]
    return number if isinstance(number, int) and 0 < number <= _LARGEST else None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:_MAX_TYPED] if isinstance(value, str) else ""


def read_report(form: FormData, number: int) -> tuple[_Typed, int | None, list[Problem]]:
    """The report as typed, the number of companies (None when refused) and what is wrong with it."""
    typed = _Typed(number, _text(form, "companies"), _text(form, "note"))
    problems = []
    digits = unicodedata.normalize("NFKC", typed.companies).translate(_GROUPING).strip()
    companies = int(digits) if _DIGITS.fullmatch(digits) else None
    if companies is None:
        problems.append(Problem("bad-companies", f"companies-{number}", number))
    elif companies > MAX_COMPANIES:
        problems.append(Problem("too-many-companies", f"companies-{number}", number))
        companies = None
    if len(typed.note.replace("\r\n", "\n").strip()) > MAX_NOTE:
        problems.append(Problem("long-note", f"note-{number}", number))
    return typed, companies, problems


@dataclass(frozen=True)
class _Read:
    organization: OrgRef
    issues: list[KitIssue]
    sender: KitSender


class ForwardKitPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        site = kit.site
        self.links = PublicPages(site.base_url, site.unsubscribe_mailto)

    def routes(self) -> Routes:
        return [
            (_KIT, self.show, "GET", Permission.ORGANIZATION),
            (f"{_KIT}/{{number:int}}/forwarded", self.report, "POST", Permission.ORGANIZATION),
            (f"{_KIT}/{{number:int}}/{{name}}", self.file, "GET", Permission.ORGANIZATION),
        ]

    # Reading

    def _read_now(self, session: Session, user: StaffView, slug: str, language: str) -> _Read | None:
        organization = find_organization(session, user, slug)
        if organization is None:
            return None
        issues = forwarding.kit_issues(session, organization.slug)
        member = kit_organization(session, organization.slug)
        profile = session.get(OrganizationProfile, member.id)
        sender = kit_sender(profile, member, language, self.kit.renderer.sender[language])
        return _Read(organization, issues, sender)

    def _not_found(self, request: Request, allowed: Allowed) -> Response:
        return self.kit.views.refusal(request, "not_found", user=allowed.visit.user, status=404)

    async def _page(
        self,
        request: Request,
        allowed: Allowed,
        *,
        typed: _Typed | None = None,
        problems: Sequence[Problem] = (),
        status: int = 200,
    ) -> Response:
        user, slug = allowed.visit.user, str(request.path_params["slug"])
        language = language_of(request.url.path)
        read = await self.kit.guard.run(lambda session: self._read_now(session, user, slug, language))
        if read is None:
            return self._not_found(request, allowed)
        done = request.query_params.get("done", "")
        reported = request.query_params.get("issue", "")
        context = {
            "organization": read.organization,
            "organization_name": read.organization.name(language),
            "issues": [_shown(issue, language) for issue in read.issues],
            "sender": read.sender,
            "typed": typed,
            "problems": problems,
            "done": done if done == "reported" and not problems else "",
            "reported": int(reported) if _DIGITS.fullmatch(reported) else None,
            "max_companies": MAX_COMPANIES,
            "max_note": MAX_NOTE,
        }
        return self.kit.views.page(request, "admin/kit.html", context, user=user, status=status)

    async def show(self, request: Request, allowed: Allowed) -> Response:
        return await self._page(request, allowed)

    # A file of the kit

    async def file(self, request: Request, allowed: Allowed) -> Response:
        number, name = _number(request), _FILE.fullmatch(str(request.path_params["name"]))
        if number is None or name is None:
            return self._not_found(request, allowed)
        language, extension = name.groups()
        user, slug = allowed.visit.user, str(request.path_params["slug"])
        now, ip = self.kit.clock(), client_ip(request)

        def work(session: Session) -> KitFile | None:
            organization = find_organization(session, user, slug)
            if organization is None:
                return None
            return forwarding.download(
                session,
                renderer=self.kit.renderer,
                links=self.links,
                number=number,
                slug=organization.slug,
                language=language,
                kit_format=FORMATS[extension],
                by=user.email,
                actor=staff_actor(user.email),
                ip=ip,
                now=now,
                recorded=request.method != "HEAD",  # a link checker's look at the headers downloads nothing
            )

        try:
            found = await self.kit.guard.run(work)
        except NotFound:
            return self._not_found(request, allowed)
        except InvalidInput as error:  # a rendition that cannot be made (a charset, a template)
            problem = Problem("cannot-render", number=number, detail=str(error))
            return await self._page(request, allowed, problems=[problem], status=409)
        if found is None:
            return self._not_found(request, allowed)
        disposition = f'attachment; filename="{found.filename}"'
        headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
        return Response(found.content, media_type=found.media_type, headers=headers)

    # The forwarding report

    async def report(self, request: Request, allowed: Allowed) -> Response:
        assert allowed.form is not None  # a POST behind the guard
        number = _number(request)
        user, slug = allowed.visit.user, str(request.path_params["slug"])
        if number is None:
            return self._not_found(request, allowed)
        typed, companies, problems = read_report(allowed.form, number)
        now, ip = self.kit.clock(), client_ip(request)

        def work(session: Session) -> bool:
            """Whether the organization is this user's to report for; the report when the form is good."""
            organization = find_organization(session, user, slug)
            if organization is None:
                return False
            if problems or companies is None:
                kit_issue(session, number)  # a draft's or an unknown issue's form is a 404 all the same
                return True
            forwarding.report_forwarding(
                session,
                number=number,
                slug=organization.slug,
                companies=companies,
                note=typed.note,
                by=user.email,
                actor=staff_actor(user.email),
                ip=ip,
                now=now,
            )
            return True

        try:
            allowed_here = await self.kit.guard.run(work)
        except NotFound:
            return self._not_found(request, allowed)
        if not allowed_here:
            return self._not_found(request, allowed)
        if problems:
            return await self._page(request, allowed, typed=typed, problems=problems, status=400)
        url = f"{base_of(request.url.path)}/organizations/{slug}/kit?done=reported&issue={number}"
        return RedirectResponse(f"{url}#issue-{number}", status_code=303)


def _shown(issue: KitIssue, language: str) -> dict[str, Any]:
    return {
        "number": issue.number,
        "date": issue.issue_date,
        "subject": issue.subject(language),
        "status": issue.status.value,
        "downloads": issue.downloads,
        "last_download": jst(issue.last_download),
        "companies": issue.companies,
        "note": issue.note,
        "reported_by": issue.reported_by,
        "reported_at": jst(issue.reported_at),
    }
