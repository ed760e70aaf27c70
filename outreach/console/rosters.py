"""An organization's roster: import, export, the searchable subscriber list, unsubscribe on request.

Every page is under /organizations/{slug}/roster and first asks outreach.console.orgscope whether this user
may see that organization: an org-editor of another one gets the same 404 as for one that does not exist.
The writes are outreach.usecases.rosters' (the CLI's `outreach subscribers import` calls the same import):
an upload is all rows or none, its problems listed with their lines; an unsubscribe is final at once.
"""

from __future__ import annotations

__all__ = ["RosterPages"]

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from outreach.console import roster_queries
from outreach.console.guard import Allowed, client_ip, takes_a_file
from outreach.console.kit import Kit, Routes
from outreach.console.orgscope import OrgRef, find_organization
from outreach.console.paths import base_of, language_of
from outreach.console.roster_import import ImportFields, counts_from, counts_of, read_import
from outreach.console.roster_problems import MAX_SHOWN, LineProblem, line_problems
from outreach.console.roster_queries import RosterFilters, SubscriberDetail
from outreach.console.views import jst
from outreach.errors import InvalidInput, NotFound, RelayUnavailable, RosterError
from outreach.guard import refuse_unsafe
from outreach.i18n import LANGUAGES
from outreach.staff.audit import staff_actor
from outreach.staff.roles import Permission
from outreach.usecases import rosters
from outreach.usecases.rosters import AlreadyUnsubscribed, Auditing, RosterImport
from subscribers.roster import ImportConsent
from subscribers.settings import load_subscription_settings
from subscribers.subscriptions import Subscriptions

T = TypeVar("T")
_ROSTER = "/organizations/{slug}/roster"
_SUBSCRIBER = f"{_ROSTER}/subscribers/{{id:int}}"
_LARGEST = 2**31 - 1  # an id the database can hold; a larger one names nobody


class RosterPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self._subscriptions: Subscriptions | None = None

    def routes(self) -> Routes:
        return [
            (_ROSTER, self.roster, "GET", Permission.ORGANIZATION),
            (_SUBSCRIBER, self.subscriber, "GET", Permission.ORGANIZATION),
            (f"{_SUBSCRIBER}/unsubscribe", self.unsubscribe, "POST", Permission.ORGANIZATION),
            (f"{_ROSTER}/import", self.import_form, "GET", Permission.ORGANIZATION),
            (f"{_ROSTER}/import", self.import_roster, "POST", Permission.ORGANIZATION),
            (f"{_ROSTER}/export", self.export, "GET", Permission.ORGANIZATION),
        ]

    @property
    def subscriptions(self) -> Subscriptions:
        """The subscriptions as the CLI makes them: confirmation mails go through the site's relay."""
        if self._subscriptions is None:
            site = self.kit.site
            self._subscriptions = Subscriptions(self.kit.guard.db, site, load_subscription_settings(site))
        return self._subscriptions

    # Shared

    async def _in_scope(
        self, request: Request, allowed: Allowed, work: Callable[[Session, OrgRef], T]
    ) -> tuple[OrgRef, T] | None:
        """The organization the path names and `work` for it, in one transaction; None when this user may
        not see it (or it does not exist)."""
        slug, user = request.path_params["slug"], allowed.visit.user

        def read(session: Session) -> tuple[OrgRef, T] | None:
            found = find_organization(session, user, slug)
            return (found, work(session, found)) if found is not None else None

        return await self.kit.guard.run(read)

    def _not_found(self, request: Request, allowed: Allowed) -> Response:
        return self.kit.views.refusal(request, "not_found", user=allowed.visit.user, status=404)

    def _page(
        self,
        request: Request,
        allowed: Allowed,
        template: str,
        organization: OrgRef,
        context: dict[str, Any],
        *,
        status: int = 200,
    ) -> Response:
        language = language_of(request.url.path)
        base = base_of(request.url.path)
        shared = {
            "organization": organization,
            "organization_name": organization.name(language),
            "roster_url": f"{base}/organizations/{organization.slug}/roster",
        }
        user = allowed.visit.user
        return self.kit.views.page(request, template, {**shared, **context}, user=user, status=status)

    def _by(self, request: Request, allowed: Allowed) -> Auditing:
        return Auditing(staff_actor(allowed.visit.user.email), client_ip(request))

    # The list

    async def roster(self, request: Request, allowed: Allowed) -> Response:
        filters = roster_queries.read_filters(request.query_params)
        asked = filters if not filters.problems else RosterFilters("", "", 1, ())
        found = await self._in_scope(
            request, allowed, lambda session, ref: roster_queries.roster_page(session, ref, asked)
        )
        if found is None:
            return self._not_found(request, allowed)
        organization, page = found
        context = {
            "filters": filters,
            "problems": filters.problems,
            "listing": page,
            "rows": [] if filters.problems else page.rows,
            "states": list(page.counts),
            "jst": jst,
        }
        status = 400 if filters.problems else 200
        return self._page(request, allowed, "admin/roster.html", organization, context, status=status)

    # One subscriber, and unsubscribing them

    def _id(self, request: Request) -> int | None:
        number = request.path_params["id"]
        return number if isinstance(number, int) and 0 < number <= _LARGEST else None

    async def _subscriber_page(
        self, request: Request, allowed: Allowed, *, problem: str = "", status: int = 200
    ) -> Response:
        subscriber_id = self._id(request)

        def read(session: Session, ref: OrgRef) -> SubscriberDetail | None:
            if subscriber_id is None:
                return None
            return roster_queries.subscriber_detail(session, ref, subscriber_id)

        found = await self._in_scope(request, allowed, read)
        if found is None or found[1] is None:
            return self._not_found(request, allowed)
        organization, detail = found
        done = request.query_params.get("done", "")
        context = {
            "subscriber": detail,
            "jst": jst,
            "problem": problem,
            "done": done == "unsubscribed" and not problem,
        }
        return self._page(request, allowed, "admin/subscriber.html", organization, context, status=status)

    async def subscriber(self, request: Request, allowed: Allowed) -> Response:
        return await self._subscriber_page(request, allowed)

    async def unsubscribe(self, request: Request, allowed: Allowed) -> Response:
        assert allowed.form is not None  # a POST behind the guard
        subscriber_id = self._id(request)
        if subscriber_id is None:
            return self._not_found(request, allowed)
        if allowed.form.get("confirm") != "yes":
            return await self._subscriber_page(request, allowed, problem="unconfirmed", status=400)
        by, now = self._by(request, allowed), self.kit.clock()

        def act(session: Session, ref: OrgRef) -> None:
            rosters.unsubscribe_on_request(session, ref.slug, subscriber_id, by=by, now=now)

        try:
            found = await self._in_scope(request, allowed, act)
        except NotFound:
            return self._not_found(request, allowed)
        except AlreadyUnsubscribed:
            return await self._subscriber_page(request, allowed, problem="already", status=409)
        if found is None:
            return self._not_found(request, allowed)
        return RedirectResponse(f"{request.url.path.removesuffix('/unsubscribe')}?done=unsubscribed", 303)

    # Import

    async def import_form(self, request: Request, allowed: Allowed) -> Response:
        found = await self._in_scope(request, allowed, lambda session, ref: None)
        if found is None:
            return self._not_found(request, allowed)
        counts = counts_from(request.query_params) if request.query_params.get("done") == "imported" else None
        fields = ImportFields(ImportConsent.CONFIRM.value, "ja", False, None, ())  # the CLI's defaults
        return self._import_page(request, allowed, found[0], fields, counts=counts)

    def _import_page(
        self,
        request: Request,
        allowed: Allowed,
        organization: OrgRef,
        fields: ImportFields,
        *,
        counts: dict[str, int] | None = None,
        checked: dict[str, int] | None = None,
        problems: list[LineProblem] | None = None,
        problem_count: int = 0,
        trouble: str = "",
        status: int = 200,
    ) -> Response:
        context = {
            "fields": fields,
            "field_problems": fields.problems,
            "consents": [consent.value for consent in ImportConsent],
            "languages": LANGUAGES,
            "counts": counts,
            "checked": checked,
            "problems": problems or [],
            "problem_count": problem_count,
            "hidden_problems": max(0, problem_count - MAX_SHOWN),
            "trouble": trouble,
        }
        template = "admin/roster_import.html"
        return self._page(request, allowed, template, organization, context, status=status)

    @takes_a_file  # the one form of the console that carries a file: the roster (up to 16 MiB)
    async def import_roster(self, request: Request, allowed: Allowed) -> Response:
        assert allowed.form is not None  # a POST behind the guard
        found = await self._in_scope(request, allowed, lambda session, ref: None)
        if found is None:
            return self._not_found(request, allowed)
        organization = found[0]
        fields = read_import(allowed.form)
        if fields.problems or fields.upload is None:
            return self._import_page(request, allowed, organization, fields, status=400)
        data = await fields.upload.read()

        def again(status: int = 200, **shown: Any) -> Response:
            return self._import_page(request, allowed, organization, fields, status=status, **shown)

        try:
            result = await self._import(request, allowed, organization, fields, data)
        except RosterError as error:
            shown = line_problems(data, error.problems)
            return again(400, problems=shown, problem_count=len(error.problems))
        except NotFound:  # the organization went meanwhile
            return self._not_found(request, allowed)
        except RelayUnavailable:  # the rows are in, pending: the same import again mails their links
            return again(503, trouble="relay")
        except InvalidInput:  # settings that must not send real mail (outreach.guard)
            return again(503, trouble="unsafe")
        if fields.dry_run:
            return again(checked=counts_of(result))
        query = urlencode({"done": "imported", **counts_of(result)})
        return RedirectResponse(f"{request.url.path}?{query}", status_code=303)

    async def _import(
        self, request: Request, allowed: Allowed, organization: OrgRef, fields: ImportFields, data: bytes
    ) -> RosterImport:
        consent = fields.consent_mode
        if consent == ImportConsent.CONFIRM and not fields.dry_run:
            refuse_unsafe(self.kit.site)  # as the CLI does: confirmation links are no mail for a local setup
        return await rosters.import_roster(
            self.subscriptions,
            data,
            organization=organization.slug,
            language=fields.language,
            consent=consent,
            dry_run=fields.dry_run,
            audited=self._by(request, allowed),
        )

    # Export

    async def export(self, request: Request, allowed: Allowed) -> Response:
        everyone = request.query_params.get("all") == "1"
        language, by = language_of(request.url.path), self._by(request, allowed)

        def write(session: Session, ref: OrgRef) -> tuple[str, int]:
            return rosters.export_csv(session, ref.slug, everyone=everyone, language=language, by=by)

        found = await self._in_scope(request, allowed, write)
        if found is None:
            return self._not_found(request, allowed)
        organization, (text, _count) = found
        name = f"roster-{organization.slug}{'-all' if everyone else ''}.csv"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)
