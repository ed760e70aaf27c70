"""The member organizations' pages: the list, an overview, and the profile with its rendition's preview.

`/organizations` lists every organization for staff (an org-editor goes straight to their own);
`/organizations/{slug}` is an organization's overview and `/organizations/{slug}/profile` its profile form:
greeting, contact and footer in both languages, the forward kit's sender, the monthly report. The form's
プレビュー button shows the organization's rendition with the values typed, unsaved, in a sandboxed frame
(`srcdoc`, as the issue preview does); `/organizations/{slug}/profile/preview` answers the same rendition
alone, for a script. Every page under `/organizations/{slug}` asks `find_organization` first: another
organization's pages answer 404 to an org-editor. Saving goes through outreach.usecases.organizations,
audited as `organization.profile`.
"""

from __future__ import annotations

__all__ = ["OrganizationPages", "read_values"]

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from outreach.calendar import JST
from outreach.console.guard import Allowed, client_ip
from outreach.console.kit import Kit, Routes
from outreach.console.orgscope import OrgRef, find_organization, organization_refs
from outreach.console.paths import base_of, language_of
from outreach.errors import NotFound
from outreach.i18n import LANGUAGES
from outreach.models import Organization
from outreach.staff.audit import staff_actor
from outreach.staff.models import StaffRole
from outreach.staff.roles import Permission
from outreach.usecases.organizations import (
    TEXT_LIMITS,
    ContactState,
    ProfilePreview,
    ProfileProblem,
    ProfileRefused,
    ProfileValues,
    contact_state,
    contact_states,
    preview_profile,
    read_profile,
    save_profile,
)

_ORGANIZATION = "/organizations/{slug}"


def _field(fields: Mapping[str, Any], name: str, limit: int) -> str:
    """A field as typed, cut one past its limit: too long is then refused, not silently shortened."""
    value = fields.get(name)
    return value[: limit + 1] if isinstance(value, str) else ""


def read_values(fields: Mapping[str, Any]) -> ProfileValues:
    """The profile form as posted; every text kept as typed for the form to show again."""
    texts = {name: _field(fields, name, limit) for name, limit in TEXT_LIMITS.items()}
    return ProfileValues(
        **texts,
        monthly_report=fields.get("monthly_report") == "on",
        report_language=_field(fields, "report_language", 2) or "ja",
    )


def _language(fields: Mapping[str, Any], default: str) -> str:
    chosen = fields.get("preview_lang")
    return chosen if isinstance(chosen, str) and chosen in LANGUAGES else default


@dataclass(frozen=True)
class _Overview:
    """What the overview shows of an organization beside its profile."""

    ref: OrgRef
    kind: str
    url: str
    values: ProfileValues


def _overview(session: Session, ref: OrgRef) -> _Overview:
    organization = session.get(Organization, ref.id)
    if organization is None:
        raise NotFound(ref.slug)
    return _Overview(ref, organization.kind, organization.url, read_profile(session, ref.slug))


@dataclass(frozen=True)
class _Row:
    ref: OrgRef
    state: ContactState


class OrganizationPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return [
            ("/organizations", self.organizations, "GET", Permission.ORGANIZATION),
            (_ORGANIZATION, self.overview, "GET", Permission.ORGANIZATION),
            (f"{_ORGANIZATION}/profile", self.profile, "GET", Permission.ORGANIZATION),
            (f"{_ORGANIZATION}/profile", self.save, "POST", Permission.ORGANIZATION),
            (f"{_ORGANIZATION}/profile/preview", self.preview, "POST", Permission.ORGANIZATION),
        ]

    # Which organization, and whether this user may see it

    async def _ref(self, request: Request, allowed: Allowed) -> OrgRef | None:
        slug, user = str(request.path_params["slug"]), allowed.visit.user
        return await self.kit.guard.run(lambda session: find_organization(session, user, slug))

    def _not_found(self, request: Request, allowed: Allowed) -> Response:
        return self.kit.views.refusal(request, "not_found", user=allowed.visit.user, status=404)

    def _page(
        self, request: Request, allowed: Allowed, template: str, context: dict[str, Any], **kw: Any
    ) -> Response:
        return self.kit.views.page(request, template, context, user=allowed.visit.user, **kw)

    # The list, and an organization's overview

    async def organizations(self, request: Request, allowed: Allowed) -> Response:
        user = allowed.visit.user
        base = base_of(request.url.path)
        if user.role is StaffRole.ORG_EDITOR:
            if user.organization is None:
                return self._not_found(request, allowed)
            return RedirectResponse(f"{base}/organizations/{user.organization}", status_code=303)

        def work(session: Session) -> list[_Row]:
            states = contact_states(session)
            return [_Row(ref, states[ref.id]) for ref in organization_refs(session)]

        rows = await self.kit.guard.run(work)
        return self._page(request, allowed, "admin/organizations.html", {"rows": rows})

    async def overview(self, request: Request, allowed: Allowed) -> Response:
        ref = await self._ref(request, allowed)
        if ref is None:
            return self._not_found(request, allowed)
        try:
            shown = await self.kit.guard.run(lambda session: _overview(session, ref))
        except NotFound:
            return self._not_found(request, allowed)
        context = {
            "org": shown,
            "state": contact_state(shown.values).value,
            "done": "saved" if request.query_params.get("done") == "saved" else "",
            "is_editor": allowed.visit.user.role is StaffRole.ORG_EDITOR,
        }
        return self._page(request, allowed, "admin/organization.html", context)

    # The profile form and its preview

    async def _preview(self, ref: OrgRef, values: ProfileValues, language: str) -> ProfilePreview:
        renderer, base_url, today = (
            self.kit.renderer,
            self.kit.site.base_url,
            self.kit.clock().astimezone(JST),
        )

        def work(session: Session) -> ProfilePreview:
            return preview_profile(
                session,
                ref.slug,
                values,
                language=language,
                renderer=renderer,
                base_url=base_url,
                today=today.date(),
            )

        return await self.kit.guard.run(work)

    async def _form(
        self,
        request: Request,
        allowed: Allowed,
        ref: OrgRef,
        values: ProfileValues,
        *,
        preview_lang: str,
        problems: tuple[ProfileProblem, ...] = (),
        previewed: bool = False,
        status: int = 200,
    ) -> Response:
        context = {
            "ref": ref,
            "values": values,
            "limits": TEXT_LIMITS,
            "problems": problems,
            "errors": {problem.field: problem for problem in problems},
            "preview": await self._preview(ref, values, preview_lang),
            "preview_lang": preview_lang,
            "previewed": previewed,
        }
        return self._page(request, allowed, "admin/organization_profile.html", context, status=status)

    async def profile(self, request: Request, allowed: Allowed) -> Response:
        ref = await self._ref(request, allowed)
        if ref is None:
            return self._not_found(request, allowed)
        try:
            values = await self.kit.guard.run(lambda session: read_profile(session, ref.slug))
        except NotFound:
            return self._not_found(request, allowed)
        preview_lang = _language(request.query_params, language_of(request.url.path))
        return await self._form(request, allowed, ref, values, preview_lang=preview_lang)

    async def save(self, request: Request, allowed: Allowed) -> Response:
        ref = await self._ref(request, allowed)
        if ref is None:
            return self._not_found(request, allowed)
        assert allowed.form is not None  # a POST behind the guard
        values = read_values(allowed.form)
        preview_lang = _language(allowed.form, language_of(request.url.path))
        if allowed.form.get("action") == "preview":
            return await self._form(request, allowed, ref, values, preview_lang=preview_lang, previewed=True)
        actor, ip, now = staff_actor(allowed.visit.user.email), client_ip(request), self.kit.clock()
        try:
            await self.kit.guard.run(
                lambda session: save_profile(session, ref.slug, values, actor=actor, now=now, ip=ip)
            )
        except NotFound:
            return self._not_found(request, allowed)
        except ProfileRefused as refused:
            return await self._form(
                request,
                allowed,
                ref,
                values,
                preview_lang=preview_lang,
                problems=refused.problems,
                status=400,
            )
        url = f"{base_of(request.url.path)}/organizations/{ref.slug}?done=saved"
        return RedirectResponse(url, status_code=303)

    async def preview(self, request: Request, allowed: Allowed) -> Response:
        """The rendition with the posted values, alone: for a script to put in the form's frame (the
        console's policy lets no script of a rendition run, as the frame's sandbox does not)."""
        ref = await self._ref(request, allowed)
        if ref is None:
            return self._not_found(request, allowed)
        assert allowed.form is not None  # a POST behind the guard
        language = _language(allowed.form, language_of(request.url.path))
        shown = await self._preview(ref, read_values(allowed.form), language)
        if shown.problem:
            return self.kit.views.refusal(request, "bad_request", user=allowed.visit.user, status=400)
        return HTMLResponse(shown.html, headers={"Cache-Control": "no-store"})
