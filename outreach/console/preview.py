"""Renditions side by side (two organizations, two languages, desktop and phone width), and test sends.

`/issues/N/preview` shows two renditions in sandboxed frames whose document is in the page itself (`srcdoc`):
the console forbids being framed (X-Frame-Options, frame-ancestors), so a rendition never needs a URL of its
own, and the sandbox keeps its links and forms from acting as the console. `/issues/N/preview/text` is a
rendition's plain-text part. `/issues/N/test` sends chosen renditions to a few addresses through the relay
(outreach.usecases.trial: the subject says it is a test, nothing goes into the ledger, the audit log says
who sent which).
"""

from __future__ import annotations

__all__ = ["PreviewPages"]

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from outreach.console.guard import Allowed, client_ip
from outreach.console.kit import Kit, Routes
from outreach.console.paths import language_of
from outreach.errors import InvalidInput, NotFound, OutreachError
from outreach.guard import refuse_unsafe
from outreach.i18n import LANGUAGES
from outreach.issues import get_issue
from outreach.models import IssueStatus, Organization
from outreach.network import NETWORK_SLUG
from outreach.smtp import ConnectionLost
from outreach.staff.audit import staff_actor
from outreach.staff.roles import Permission, allows
from outreach.usecases import drafts, trial
from outreach.usecases.drafts import PreviewParts
from outreach.usecases.trial import TrialSent

_ISSUE = "/issues/{number:int}"
_LARGEST = 2**31 - 1  # an issue number the database can hold; a larger one names no issue
WIDTHS = {"desktop": 640, "phone": 375}
MAX_RENDITIONS = 6
MAX_ADDRESSES = 5
_MAX_TO = 1000  # characters of the address field: five long addresses and their separators
_MAX_VALUE = 60  # a slug, a language, a width or "slug:lang"
_SEPARATORS = re.compile(r"[,;、，\s]+")


@dataclass(frozen=True)
class Problem:
    """Why a request was refused: `code` names the message (templates/admin/preview.html), `field` the form
    field it is about, `detail` the engine's own words or the address concerned."""

    code: str
    field: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Choice:
    """What the page shows: a rendition on each side (organization slug, language), at one width."""

    left: tuple[str, str]
    right: tuple[str, str]
    width: str


@dataclass(frozen=True)
class Side:
    """One side of the page: its rendition, or why it could not be rendered."""

    organization: str
    name: str
    language: str
    parts: PreviewParts | None
    problem: str = ""


@dataclass(frozen=True)
class _Issue:
    number: int
    subject: str
    status: IssueStatus


@dataclass
class _Read:
    issue: _Issue
    organizations: list[tuple[str, str]]  # (slug, name in the page's language), in the network's order
    sides: list[Side] = field(default_factory=list)

    def name(self, slug: str) -> str:
        return dict(self.organizations).get(slug, slug)


_Found = tuple[_Read, Choice, list[Problem]]  # the issue read, the choice, and the problems with it


def _number(request: Request) -> int | None:
    number = request.path_params["number"]
    return number if isinstance(number, int) and 0 < number <= _LARGEST else None


def _value(fields: Mapping[str, Any], name: str, default: str) -> str:
    given = fields.get(name)
    return given[:_MAX_VALUE].strip() if isinstance(given, str) and given.strip() else default


def default_choice(slugs: Sequence[str]) -> Choice:
    """The network's own rendition in Japanese on the left; the first member's (else the network's in
    English) on the right; desktop width."""
    members = [slug for slug in slugs if slug != NETWORK_SLUG]
    return Choice((NETWORK_SLUG, "ja"), (members[0], "ja") if members else (NETWORK_SLUG, "en"), "desktop")


def read_choice(fields: Mapping[str, Any], slugs: Sequence[str]) -> tuple[Choice, list[Problem]]:
    """The choice in the query (or the test form's hidden fields), a default for each part not given, and a
    problem for each part given that names no organization, language or width."""
    default = default_choice(slugs)
    problems = []
    sides = []
    for name, (slug, language) in (("left", default.left), ("right", default.right)):
        chosen = (_value(fields, name, slug), _value(fields, f"{name}_lang", language))
        if chosen[0] not in slugs:
            problems.append(Problem("bad-organization", field=name))
        if chosen[1] not in LANGUAGES:
            problems.append(Problem("bad-language", field=f"{name}_lang"))
        sides.append(chosen)
    width = _value(fields, "width", default.width)
    if width not in WIDTHS:
        problems.append(Problem("bad-width", field="width"))
    return Choice(sides[0], sides[1], width), problems


def read_renditions(form: FormData, slugs: Sequence[str]) -> tuple[list[tuple[str, str]], Problem | None]:
    """The renditions ticked for a test ("slug:lang"), in the order given, each once."""
    chosen: list[tuple[str, str]] = []
    for value in form.getlist("rendition"):
        slug, _, language = str(value)[:_MAX_VALUE].partition(":")
        if slug not in slugs or language not in LANGUAGES:
            return [], Problem("bad-rendition", field="renditions")
        if (slug, language) not in chosen:
            chosen.append((slug, language))
    if not chosen:
        return [], Problem("no-rendition", field="renditions")
    if len(chosen) > MAX_RENDITIONS:
        return chosen, Problem("too-many-renditions", field="renditions")
    return chosen, None


def read_addresses(text: str) -> tuple[list[str], Problem | None]:
    """The addresses typed (one a line, or separated by commas), each checked as a test send checks it."""
    if len(text) > _MAX_TO:
        return [], Problem("too-many-addresses", field="to")
    given = [part for part in _SEPARATORS.split(text) if part]
    if not given:
        return [], Problem("no-address", field="to")
    if len(given) > MAX_ADDRESSES:
        return [], Problem("too-many-addresses", field="to")
    addresses = []
    for address in given:
        try:
            addresses.append(trial.checked_address(address))
        except InvalidInput:
            return [], Problem("bad-address", field="to", detail=address)
    return list(dict.fromkeys(addresses)), None


def _organizations(session: Session, language: str) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Organization.slug, Organization.name_ja, Organization.name_en).order_by(
            Organization.position, Organization.id
        )
    )
    return [(slug, name_ja if language == "ja" else name_en or name_ja) for slug, name_ja, name_en in rows]


class PreviewPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return [
            (f"{_ISSUE}/preview", self.show, "GET", Permission.DASHBOARD),
            (f"{_ISSUE}/preview/text", self.text, "GET", Permission.DASHBOARD),
            (f"{_ISSUE}/test", self.test, "POST", Permission.COMPOSE),
        ]

    # Reading

    def _parts(self, session: Session, number: int, slug: str, language: str) -> PreviewParts:
        return drafts.preview_parts(
            session,
            number,
            organization=slug,
            language=language,
            renderer=self.kit.renderer,
            base_url=self.kit.site.base_url,
        )

    def _side(self, session: Session, read: _Read, slug: str, language: str) -> Side:
        try:
            parts = self._parts(session, read.issue.number, slug, language)
        except InvalidInput as error:  # a charset preference set after compose checked the issue
            return Side(slug, read.name(slug), language, None, str(error))
        return Side(slug, read.name(slug), language, parts)

    async def _read(
        self, number: int | None, language: str, fields: Mapping[str, Any], *, strict: bool
    ) -> _Found | None:
        """The issue, the organizations, the choice and, unless a strict reading found problems, both
        renditions; None for no such issue. Not strict (the test form's hidden fields): a bad part is
        replaced by its default."""
        if number is None:
            return None

        def work(session: Session) -> _Found:
            issue = get_issue(session, number)
            subject = issue.subject_ja if language == "ja" else issue.subject_en
            read = _Read(_Issue(issue.number, subject, issue.status), _organizations(session, language))
            choice, problems = read_choice(fields, [slug for slug, _ in read.organizations])
            if problems and not strict:
                choice, problems = default_choice([slug for slug, _ in read.organizations]), []
            if not problems:
                read.sides = [self._side(session, read, *side) for side in (choice.left, choice.right)]
            return read, choice, problems

        try:
            return await self.kit.guard.run(work)
        except NotFound:
            return None

    def _not_found(self, request: Request, allowed: Allowed) -> Response:
        return self.kit.views.refusal(request, "not_found", user=allowed.visit.user, status=404)

    def _page(
        self,
        request: Request,
        allowed: Allowed,
        found: _Found,
        *,
        ticked: Sequence[tuple[str, str]] | None = None,
        to: str | None = None,
        sent: Sequence[TrialSent] = (),
        problems: Sequence[Problem] = (),
        status: int = 200,
    ) -> Response:
        read, choice, choice_problems = found
        user = allowed.visit.user
        context = {
            "text_page": False,
            "issue": read.issue,
            "organizations": read.organizations,
            "choice": choice,
            "width_px": WIDTHS.get(choice.width, WIDTHS["desktop"]),
            "widths": WIDTHS,
            "sides": read.sides,
            "may_test": allows(user.role, Permission.COMPOSE),
            "ticked": list(ticked) if ticked is not None else [choice.left, choice.right],
            "to": user.email if to is None else to,
            "sent": [(one, read.name(one.organization)) for one in sent],
            "problems": [*choice_problems, *problems],
            "max_renditions": MAX_RENDITIONS,
            "max_addresses": MAX_ADDRESSES,
        }
        return self.kit.views.page(request, "admin/preview.html", context, user=user, status=status)

    async def show(self, request: Request, allowed: Allowed) -> Response:
        language = language_of(request.url.path)
        found = await self._read(_number(request), language, request.query_params, strict=True)
        if found is None:
            return self._not_found(request, allowed)
        return self._page(request, allowed, found, status=400 if found[2] else 200)

    async def text(self, request: Request, allowed: Allowed) -> Response:
        number = _number(request)
        slug = _value(request.query_params, "org", NETWORK_SLUG)
        language = _value(request.query_params, "lang", "ja")
        if number is None or language not in LANGUAGES:
            return self._not_found(request, allowed)
        try:
            parts = await self.kit.guard.run(lambda session: self._parts(session, number, slug, language))
        except NotFound:  # no such issue or organization
            return self._not_found(request, allowed)
        except InvalidInput:
            return self.kit.views.refusal(request, "bad_request", user=allowed.visit.user, status=400)
        page_language = language_of(request.url.path)
        names = dict(await self.kit.guard.run(lambda session: _organizations(session, page_language)))
        context = {"text_page": True, "number": number, "parts": parts, "name": names.get(slug, slug)}
        return self.kit.views.page(request, "admin/preview.html", context, user=allowed.visit.user)

    # Test sends

    async def test(self, request: Request, allowed: Allowed) -> Response:
        assert allowed.form is not None  # a POST behind the guard
        form = allowed.form
        found = await self._read(_number(request), language_of(request.url.path), form, strict=False)
        if found is None:
            return self._not_found(request, allowed)
        page: _Found = found
        renditions, rendition_problem = read_renditions(form, [slug for slug, _ in page[0].organizations])
        given = form.get("to")
        to = given[: _MAX_TO + 1] if isinstance(given, str) else ""
        addresses, address_problem = read_addresses(to)

        def again(problems: Sequence[Problem], status: int, sent: Sequence[TrialSent] = ()) -> Response:
            """The page again, with what was ticked and typed, and the relay's replies or the problems."""
            return self._page(
                request, allowed, page, ticked=renditions, to=to, sent=sent, problems=problems, status=status
            )

        problems = [problem for problem in (rendition_problem, address_problem) if problem is not None]
        if problems:
            return again(problems, 400)
        try:
            sent = await self._send(request, allowed, page[0].issue.number, addresses, renditions)
        except NotFound:  # the issue or an organization went meanwhile
            return self._not_found(request, allowed)
        except InvalidInput as error:  # unsafe settings for real mail, or a rendition that cannot be built
            return again([Problem("not-sent", detail=str(error))], 503)
        except (OutreachError, ConnectionLost) as error:  # the relay cannot be reached, or dropped us
            return again([Problem("relay", detail=str(error))], 503)
        return again([], 200, sent)

    async def _send(
        self,
        request: Request,
        allowed: Allowed,
        number: int,
        addresses: list[str],
        renditions: list[tuple[str, str]],
    ) -> list[TrialSent]:
        site = self.kit.site
        refuse_unsafe(site)  # as `outreach issue test-send` does: no real mail with local-only settings
        return await trial.send_trials(
            self.kit.guard.db,
            site,
            number,
            to=addresses,
            renditions=renditions,
            links=self.kit.links,
            actor=staff_actor(allowed.visit.user.email),
            ip=client_ip(request),
        )
