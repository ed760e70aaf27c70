"""Reach per organization: SVG charts, figures against the network's, CSV and print; staff see them all.

`/organizations/{slug}/reach` shows the organization's last issues sent (delivered, undelivered, opt-outs,
growth, the forwarding it reported), a bar chart per issue, the trend of its delivered rate and its rates
against the network's, as charts drawn on the server (outreach.members.charts) and as tables; `?print=1`
gives the same on its own A4 page for plenary materials. `/organizations/{slug}/reach.csv` gives the figures
per issue. An org-editor sees only their own organization (another's answers 404, outreach.console.orgscope).
`/reach` is the staff's overview: every organization side by side for one issue (the latest by default);
org-editors are refused it. All read; the CSV download alone is recorded in the audit log (`reach.export`).
"""

from __future__ import annotations

__all__ = ["ReachPages"]

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from outreach.console.guard import Allowed, client_ip
from outreach.console.kit import Kit, Routes
from outreach.console.orgreach_charts import (
    IssueRow,
    Words,
    issue_rows,
    organization_charts,
    organization_rows,
    overview_chart,
    reach_csv,
)
from outreach.console.orgscope import OrgRef, find_organization, organization_refs
from outreach.console.paths import language_of
from outreach.members.reach_history import IssueReach, issue_history, issue_reach_of, sent_issues
from outreach.models import utcnow
from outreach.network import NETWORK_SLUG
from outreach.staff import audit
from outreach.staff.audit import staff_actor
from outreach.staff.roles import Permission

SHOWN_ISSUES = 12  # an organization's page charts the last twelve issues sent: a year of monthly issues
EXPORT_ACTION = "reach.export"
_ORGANIZATION = "/organizations/{slug}"
_MAX_NUMBER = 2**31 - 1


@dataclass(frozen=True)
class _Overview:
    """The staff's overview: the issues sent (newest first), the chosen one's reach, the organizations."""

    numbers: list[int]
    reach: IssueReach | None
    organizations: list[OrgRef]


def _chosen(text: str | None, numbers: list[int]) -> int | str | None:
    """The issue asked for: its number; None for the latest; "bad" for one that was not sent or no number."""
    if text is None or text == "":
        return None
    if not text.isdigit() or len(text) > 10 or int(text) not in numbers:
        return "bad"
    return int(text)


def _read_overview(session: Session, asked: str | None) -> tuple[_Overview, bool]:
    issues = sent_issues(session)
    numbers = [issue.number for issue in reversed(issues)]
    chosen = _chosen(asked, numbers)
    refused = chosen == "bad"
    wanted = numbers[0] if (chosen is None or refused) and numbers else chosen
    reach = None
    for index, issue in enumerate(issues):
        if issue.number == wanted:
            reach = issue_reach_of(session, issue, issues[index - 1] if index else None)
    return _Overview(numbers, reach, organization_refs(session)), refused


class ReachPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return [
            (f"{_ORGANIZATION}/reach", self.reach, "GET", Permission.ORGANIZATION),
            (f"{_ORGANIZATION}/reach.csv", self.reach_csv, "GET", Permission.ORGANIZATION),
            ("/reach", self.overview, "GET", Permission.DASHBOARD),
        ]

    def _words(self, language: str) -> Words:
        environment = self.kit.renderer.environment(NETWORK_SLUG, language)
        return Words(environment.get_template("admin/reach_macros.html").module, language)

    async def _history(self, request: Request, allowed: Allowed) -> tuple[OrgRef, list[IssueRow]] | None:
        """The organization the path names and its issues' rows; None when this user may not see it."""
        slug = str(request.path_params["slug"])
        user = allowed.visit.user

        def read(session: Session) -> tuple[OrgRef, list[IssueRow]] | None:
            found = find_organization(session, user, slug)
            if found is None:
                return None
            return found, issue_rows(issue_history(session, last=SHOWN_ISSUES), found.slug)

        return await self.kit.guard.run(read)

    def _not_found(self, request: Request, allowed: Allowed) -> Response:
        return self.kit.views.refusal(request, "not_found", user=allowed.visit.user, status=404)

    async def reach(self, request: Request, allowed: Allowed) -> Response:
        found = await self._history(request, allowed)
        if found is None:
            return self._not_found(request, allowed)
        organization, rows = found
        language = language_of(request.url.path)
        name = organization.name(language)
        context: dict[str, Any] = {
            "organization": organization,
            "organization_name": name,
            "rows": rows,
            "latest": rows[-1] if rows else None,
            "charts": organization_charts(rows, name, self._words(language)),
            "shown_issues": SHOWN_ISSUES,
            "printing": request.query_params.get("print") == "1",
            "generated": f"{self.kit.clock():%Y-%m-%d}",
        }
        template = "admin/reach_print.html" if context["printing"] else "admin/reach.html"
        return self.kit.views.page(request, template, context, user=allowed.visit.user)

    async def reach_csv(self, request: Request, allowed: Allowed) -> Response:
        found = await self._history(request, allowed)
        if found is None:
            return self._not_found(request, allowed)
        organization, rows = found
        body = reach_csv(rows, self._words(language_of(request.url.path)))
        actor, ip, now = staff_actor(allowed.visit.user.email), client_ip(request), utcnow()
        detail = f"CSV of {len(rows)} issue{'s' if len(rows) != 1 else ''}"

        def record(session: Session) -> None:
            audit.record(
                session,
                actor=actor,
                action=EXPORT_ACTION,
                target=f"organization {organization.slug}",
                detail=detail,
                ip=ip,
                now=now,
            )

        await self.kit.guard.run(record)
        disposition = f'attachment; filename="reach-{organization.slug}.csv"'
        return Response(
            body.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": disposition},
        )

    async def overview(self, request: Request, allowed: Allowed) -> Response:
        user = allowed.visit.user
        asked = request.query_params.get("issue")
        found, refused = await self.kit.guard.run(lambda session: _read_overview(session, asked))
        language = language_of(request.url.path)
        reach = found.reach
        rows = organization_rows(reach, found.organizations, language) if reach is not None else []
        context = {
            "numbers": found.numbers,
            "reach": reach,
            "rows": rows,
            "chart": overview_chart(rows, reach.number, self._words(language)) if reach else None,
            "asked": (asked or "")[:12],
            "refused": refused,
        }
        status = 400 if refused else 200
        return self.kit.views.page(request, "admin/reach_overview.html", context, user=user, status=status)
