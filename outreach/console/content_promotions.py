"""The promotions' pages: the list with each one's window and whether an issue dated today carries it, and
the form that adds one or edits one (its slug stays), through outreach.usecases.promotions, audited."""

from __future__ import annotations

__all__ = ["PromotionPages"]

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from outreach import content
from outreach.calendar import JST
from outreach.console.content_forms import (
    PROMOTION_TEXTS,
    FieldProblem,
    PromotionForm,
    merged,
    previewing,
    problem_of,
    problems_of,
    promotion_values,
    read_promotion,
    rendered,
)
from outreach.console.content_rows import promotion_rows
from outreach.console.guard import Allowed, client_ip
from outreach.console.kit import Kit, Routes
from outreach.console.paths import base_of, language_of
from outreach.errors import InvalidInput, NotFound
from outreach.staff.audit import staff_actor
from outreach.staff.roles import Permission
from outreach.usecases.content import Carrier, carriers
from outreach.usecases.promotions import (
    add_promotion,
    check_promotion,
    edit_promotion,
    promotion_carriers,
)

_PROMOTION = "/promotions/{slug}"
_BODIES = ("body_ja", "body_en")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


@dataclass(frozen=True)
class _Stored:
    form: PromotionForm
    carriers: list[Carrier]


def _stored(session: Session, slug: str) -> _Stored | None:
    try:
        promotion = content.find_promotion(session, slug)
    except NotFound:
        return None
    return _Stored(promotion_values(promotion), carriers(promotion_carriers(session, promotion)))


def _slug(request: Request) -> str | None:
    slug = request.path_params["slug"]
    return slug if isinstance(slug, str) and _SLUG.fullmatch(slug) else None


class PromotionPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        # /promotions/new before /promotions/{slug}: the first route that matches answers.
        return [
            ("/promotions", self.promotions, "GET", Permission.CONTENT),
            ("/promotions/new", self.new_promotion, "GET", Permission.CONTENT),
            ("/promotions/new", self.add_promotion, "POST", Permission.CONTENT),
            (_PROMOTION, self.promotion, "GET", Permission.CONTENT),
            (_PROMOTION, self.edit_promotion, "POST", Permission.CONTENT),
        ]

    async def promotions(self, request: Request, allowed: Allowed) -> Response:
        today = self.kit.clock().astimezone(JST).date()
        rows = await self.kit.guard.run(lambda session: promotion_rows(session, today))
        context = {
            "promotions": rows,
            "today": today,
            "done": "added" if request.query_params.get("done") == "added" else "",
        }
        return self.kit.views.page(request, "admin/promotions.html", context, user=allowed.visit.user)

    def _form_page(
        self,
        request: Request,
        allowed: Allowed,
        form: PromotionForm,
        *,
        slug: str | None,
        stored: _Stored | None = None,
        problems: list[FieldProblem] | None = None,
        preview: bool = False,
        status: int = 200,
    ) -> Response:
        shown = problems if problems is not None else []
        context: dict[str, Any] = {
            "slug": slug,
            "values": form.values,
            "problems": shown,
            "errors": {problem.field: problem for problem in shown if problem.field},
            "previews": rendered(form.values, _BODIES) if preview or stored else {},
            "previewed": preview,
            "carriers": stored.carriers if stored else [],
            "done": "edited" if request.query_params.get("done") == "edited" and not shown else "",
            "language": language_of(request.url.path),
        }
        user = allowed.visit.user
        return self.kit.views.page(request, "admin/promotion_form.html", context, user=user, status=status)

    def _acting(self, request: Request, allowed: Allowed) -> dict[str, Any]:
        return {
            "actor": staff_actor(allowed.visit.user.email),
            "now": self.kit.clock(),
            "ip": client_ip(request),
        }

    async def new_promotion(self, request: Request, allowed: Allowed) -> Response:
        return self._form_page(
            request,
            allowed,
            PromotionForm(dict.fromkeys((*PROMOTION_TEXTS, "yearly"), "") | {"position": "100"}),
            slug=None,
        )

    async def add_promotion(self, request: Request, allowed: Allowed) -> Response:
        assert allowed.form is not None  # a POST behind the guard
        read = read_promotion(allowed.form, slug=None)
        if previewing(allowed.form):
            return self._form_page(request, allowed, read, slug=None, preview=True)
        record = read.record
        problems = merged(read.problems, problems_of(check_promotion(record)) if record else [])
        if problems or record is None:
            return self._form_page(request, allowed, read, slug=None, problems=problems, status=400)
        acting = self._acting(request, allowed)
        try:
            await self.kit.guard.run(lambda session: add_promotion(session, record, **acting))
        except InvalidInput as error:
            return self._form_page(request, allowed, read, slug=None, problems=problem_of(error), status=400)
        return RedirectResponse(f"{base_of(request.url.path)}/promotions?done=added", status_code=303)

    async def promotion(self, request: Request, allowed: Allowed) -> Response:
        slug = _slug(request)
        stored = await self._stored(slug)
        if slug is None or stored is None:
            return self._not_found(request, allowed)
        return self._form_page(request, allowed, stored.form, slug=slug, stored=stored)

    async def edit_promotion(self, request: Request, allowed: Allowed) -> Response:
        slug = _slug(request)
        stored = await self._stored(slug)
        if slug is None or stored is None:
            return self._not_found(request, allowed)
        assert allowed.form is not None  # a POST behind the guard
        read = read_promotion(allowed.form, slug=slug)
        if previewing(allowed.form):
            return self._form_page(request, allowed, read, slug=slug, stored=stored, preview=True)
        record = read.record
        problems = merged(read.problems, problems_of(check_promotion(record)) if record else [])
        if problems or record is None:
            return self._form_page(
                request, allowed, read, slug=slug, stored=stored, problems=problems, status=400
            )
        fields, acting = record.fields, self._acting(request, allowed)
        try:
            await self.kit.guard.run(lambda session: edit_promotion(session, slug, fields, **acting))
        except NotFound:
            return self._not_found(request, allowed)
        except InvalidInput as error:
            return self._form_page(
                request, allowed, read, slug=slug, stored=stored, problems=problem_of(error), status=400
            )
        url = f"{base_of(request.url.path)}/promotions/{slug}?done=edited"
        return RedirectResponse(url, status_code=303)

    async def _stored(self, slug: str | None) -> _Stored | None:
        if slug is None:
            return None
        return await self.kit.guard.run(lambda session: _stored(session, slug))

    def _not_found(self, request: Request, allowed: Allowed) -> Response:
        return self.kit.views.refusal(request, "not_found", user=allowed.visit.user, status=404)
