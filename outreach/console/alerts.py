"""The safety alerts in the console: what arrived from the ministry's feed and what was done with it.

`/alerts` lists the entries (newest first, filtered by state and type, paged) with their places, levels in the
official colours, the rule that decided and the issue carrying each; above them the mode (OUTREACH_ALERTS),
the rules in force and the last polls, with a warning when the last poll failed or none succeeded within the
hour. `/alerts/{id}` is one entry in full. Every staff role may read them; "poll now" (a POST, for the roles
that may send) reads the feed at once as the scheduler does (outreach.alerts.poll), audited as `alerts.poll`.
An alert issue itself is approved and sent on its issue page, like any issue.
"""

from __future__ import annotations

__all__ = ["AlertPages", "RuleRow", "rule_rows"]

import asyncio
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from outreach.alerts.errors import FeedError
from outreach.alerts.poll import PollReport, poll
from outreach.alerts.rules import CLASSES, DEFAULT_RULES, Rules
from outreach.alerts.settings import AlertSettings, load_alert_settings
from outreach.console.alerts_rows import (
    Listing,
    alert_entry,
    alert_page,
    poll_health,
    read_listing,
    recent_polls,
)
from outreach.console.guard import Allowed, client_ip
from outreach.console.kit import Kit, Routes
from outreach.console.paths import base_of, language_of
from outreach.staff import audit
from outreach.staff.audit import staff_actor
from outreach.staff.roles import Permission, allows

POLL_ACTION = "alerts.poll"
_LARGEST = 2**31 - 1  # an id the database can hold; a larger one names no entry


@dataclass(frozen=True)
class RuleRow:
    """A class of entries, what it is, and what the rules in force do with it (and by default)."""

    name: str
    label: str
    action: str
    default: str

    @property
    def changed(self) -> bool:
        return self.action != self.default


def rule_rows(rules: Rules, language: str) -> list[RuleRow]:
    """Every class, in the rules module's order, named in `language`."""
    index = 0 if language == "ja" else 1
    return [
        RuleRow(name, labels[index], rules.action(name).value, DEFAULT_RULES[name].value)
        for name, labels in CLASSES.items()
    ]


def _rule_label(rule: str, language: str) -> str:
    labels = CLASSES.get(rule)
    return labels[0 if language == "ja" else 1] if labels else rule


class AlertPages:
    def __init__(self, kit: Kit, alerts: AlertSettings | None = None) -> None:
        self.kit = kit
        self.alerts = alerts or load_alert_settings()

    def routes(self) -> Routes:
        return [
            ("/alerts", self.listing, "GET", Permission.DASHBOARD),
            ("/alerts/poll", self.poll_now, "POST", Permission.SEND),
            ("/alerts/{id:int}", self.entry, "GET", Permission.DASHBOARD),
        ]

    def _common(self, language: str) -> dict[str, Any]:
        return {"rule_label": lambda rule: _rule_label(rule, language)}

    async def listing(self, request: Request, allowed: Allowed) -> Response:
        user = allowed.visit.user
        listing = read_listing(request.query_params)
        if listing is None:
            return self.kit.views.refusal(request, "bad_request", user=user, status=400)
        context = await self._listing_context(request, listing)
        context["may_poll"] = allows(user.role, Permission.SEND)
        done = request.query_params.get("done", "")
        context["done"] = done if done in ("polled", "failed") else ""
        return self.kit.views.page(request, "admin/alerts.html", context, user=user)

    async def _listing_context(self, request: Request, listing: Listing) -> dict[str, Any]:
        language, now = language_of(request.url.path), self.kit.clock()

        def read(session: Session) -> dict[str, Any]:
            return {
                "found": alert_page(session, listing, language),
                "polls": recent_polls(session),
                "health": poll_health(session, now=now),
            }

        return {
            **await self.kit.guard.run(read),
            **self._common(language),
            "listing": listing,
            "mode": self.alerts.mode.value,
            "feed": self.alerts.feed,
            "every": int(self.alerts.poll.total_seconds() // 60),
            "rules": rule_rows(self.alerts.rules, language),
        }

    async def entry(self, request: Request, allowed: Allowed) -> Response:
        user = allowed.visit.user
        alert_id = request.path_params["id"]
        language = language_of(request.url.path)
        found = None
        if isinstance(alert_id, int) and 0 < alert_id <= _LARGEST:
            found = await self.kit.guard.run(lambda session: alert_entry(session, alert_id, language))
        if found is None:
            return self.kit.views.refusal(request, "not_found", user=user, status=404)
        context = {"entry": found, **self._common(language)}
        return self.kit.views.page(request, "admin/alert.html", context, user=user)

    async def poll_now(self, request: Request, allowed: Allowed) -> Response:
        """Read the feed now, as the scheduler's job does; back to the list, whose polls show the result (a
        feed that failed is recorded there too, and the list says so)."""
        actor, ip, now = staff_actor(allowed.visit.user.email), client_ip(request), self.kit.clock()

        def read_feed() -> PollReport:  # in a thread: the poll's database work would block the server
            return asyncio.run(poll(self.kit.guard.db, self.kit.site, self.alerts, now=now, actor=actor))

        try:
            report = await anyio.to_thread.run_sync(read_feed)
        except FeedError as error:
            detail, done = f"failed: {error.message}", "failed"
        else:
            detail, done = report.describe(), "polled"

        def record(session: Session) -> None:
            audit.record(
                session, actor=actor, action=POLL_ACTION, target="alerts", detail=detail, ip=ip, now=now
            )

        await self.kit.guard.run(record)
        return RedirectResponse(f"{base_of(request.url.path)}/alerts?done={done}", status_code=303)
