"""The public pages: subscribe, confirm, preferences, unsubscribe (RFC 8058 one-click too), the privacy
notice, the archive and its Atom feed."""

from __future__ import annotations

__all__ = ["Site"]

import functools
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from outreach.alerts.places import regions
from outreach.errors import NotFound, RelayUnavailable
from outreach.models import Topic
from outreach.render import TEMPLATES_DIR
from subscribers.consent import ConsentSource, Origin
from subscribers.lifecycle import NotSubscribed, StaleConfirmation, SubscriberView
from subscribers.ratelimit import RateLimits
from subscribers.subscriptions import Subscriptions
from subscribers.tokens import LARGEST_ID, ExpiredToken, InvalidToken
from subscribers.web.archive import Archive
from subscribers.web.csrf import Csrf, CsrfFailed
from subscribers.web.forms import BadForm, read_form, read_preferences, read_subscription
from subscribers.web.views import Views, language_of, prefix_of

Handler = Callable[[Request], Awaitable[Response]]
_MAX_TOKEN = 2000
_NUMBER = re.compile(r"[1-9][0-9]{0,9}")  # ASCII digits only: int() would also read "١" or "1_0"
_ONE_CLICK = ("List-Unsubscribe", "One-Click")
# Progressive enhancement of the country picker: filters its checkboxes as one types (CSP: a file, no inline).
_PLACES_SCRIPT = TEMPLATES_DIR / "web" / "places-filter.js"


@functools.cache
def _script(path: Path) -> bytes:
    return path.read_bytes()


class PageError(Exception):
    """Stop and show the error page with this status and reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _client_ip(request: Request) -> str:
    # Behind a reverse proxy uvicorn puts the forwarded address here (--forwarded-allow-ips).
    return request.client.host if request.client else "unknown"


def _web(request: Request, note: str | None = None) -> Origin:
    return Origin(ConsentSource.WEB, ip=_client_ip(request), note=note)


def _token(request: Request) -> str:
    token = str(request.path_params["token"])
    if len(token) > _MAX_TOKEN:
        raise PageError(400, "bad_link")
    return token


def _issue_number(request: Request) -> int:
    """An issue number from the path; anything that cannot be one is a page that does not exist."""
    text = str(request.path_params["number"])
    if not _NUMBER.fullmatch(text) or int(text) > LARGEST_ID:
        raise PageError(404, "not_found")
    return int(text)


class Site:
    """Every page, in both languages; each handler is a method taking the request."""

    def __init__(
        self,
        subscriptions: Subscriptions,
        views: Views,
        csrf: Csrf,
        limits: RateLimits,
        archive: Archive,
    ) -> None:
        self.subscriptions = subscriptions
        self.views = views
        self.csrf = csrf
        self.limits = limits
        self.archive = archive

    def routes(self) -> list[BaseRoute]:
        pages: list[tuple[str, Handler, str]] = [
            ("/", self.subscribe_form, "GET"),
            ("/", self.subscribe, "POST"),
            ("/check-your-mail", self.check_your_mail, "GET"),
            ("/confirm/{token}", self.confirm_form, "GET"),
            ("/confirm/{token}", self.confirm, "POST"),
            ("/preferences/{token}", self.preferences_form, "GET"),
            ("/preferences/{token}", self.change_preferences, "POST"),
            ("/unsubscribe", self.unsubscribe_help, "GET"),
            ("/unsubscribe/{token}", self.unsubscribe_form, "GET"),
            ("/unsubscribe/{token}", self.one_click_unsubscribe, "POST"),
            ("/unsubscribe/{token}/confirm", self.unsubscribe, "POST"),
            ("/privacy", self.privacy, "GET"),
            ("/archive", self.archive_index, "GET"),
            ("/archive.atom", self.archive_feed, "GET"),
            ("/archive/{number}", self.archive_issue, "GET"),
        ]
        routes: list[BaseRoute] = [Route("/assets/places-filter.js", self.places_script, methods=["GET"])]
        for prefix in ("", "/en"):
            for path, handler, method in pages:
                routes.append(Route(f"{prefix}{path}", self._guarded(handler), methods=[method]))
        routes.append(Route("/en", lambda request: RedirectResponse("/en/", 308), methods=["GET"]))
        return routes

    def _guarded(self, handler: Handler) -> Handler:
        """Turn the refusals a handler raises into our error page; none of them changed anything."""

        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except PageError as error:
                return self.views.error(request, error.status, error.reason)
            except CsrfFailed:
                return self.views.error(request, 403, "csrf")
            except BadForm:
                return self.views.error(request, 400, "bad_request")
            except ExpiredToken:
                return self.views.error(request, 400, "expired_link")
            except StaleConfirmation:
                return self.views.error(request, 400, "stale_link")
            except (InvalidToken, NotFound):
                return self.views.error(request, 400, "bad_link")
            except NotSubscribed:
                return self.views.error(request, 409, "not_subscribed")
            except RelayUnavailable:
                return self.views.error(request, 503, "unavailable", headers={"Retry-After": "300"})

        return guarded

    # Subscribing

    async def _subscribe_page(
        self,
        request: Request,
        values: dict[str, str | list[str]],
        errors: dict[str, str],
        status: int,
        unknown_places: list[str] | None = None,
    ) -> HTMLResponse:
        organizations = await self.subscriptions.organizations()
        context = {
            "values": values,
            "errors": errors,
            "organizations": organizations,
            "topics": list(Topic),
            "regions": regions(),
            "unknown_places": unknown_places or [],
        }
        return self.views.page(request, "web/subscribe.html", context, status=status)

    async def subscribe_form(self, request: Request) -> Response:
        language = language_of(request.url.path)
        values: dict[str, str | list[str]] = {
            "language": language,
            "topics": [topic.value for topic in Topic],
        }
        return await self._subscribe_page(request, values, {}, 200)

    async def subscribe(self, request: Request) -> Response:
        form = await read_form(request)
        self.csrf.check(request, form)
        if not await self.limits.allow_ip(_client_ip(request)):
            raise PageError(429, "too_many")
        organizations = await self.subscriptions.organizations()
        read = read_subscription(form, organizations={choice.slug for choice in organizations})
        if read.details is None:
            return await self._subscribe_page(request, read.values, read.errors, 400, read.unknown_places)
        if not await self.limits.allow_address(read.details.email):
            raise PageError(429, "too_many")
        await self.subscriptions.request(read.details, _web(request), places=read.places)
        # The same page whether the address was new, pending or already subscribed.
        prefix = prefix_of(language_of(request.url.path))
        return RedirectResponse(f"{prefix}/check-your-mail", status_code=303)

    async def check_your_mail(self, request: Request) -> Response:
        return self.views.page(request, "web/check_mail.html")

    async def confirm_form(self, request: Request) -> Response:
        token = _token(request)
        details, _ = self.subscriptions.read_confirmation(token)
        organizations = {choice.slug: choice for choice in await self.subscriptions.organizations()}
        places = self.subscriptions.confirmation_places(token)
        context = {"details": details, "organizations": organizations, "token": token, "places": places}
        return self.views.page(request, "web/confirm.html", context)

    async def confirm(self, request: Request) -> Response:
        token = _token(request)
        form = await read_form(request)
        self.subscriptions.read_confirmation(token)  # a bad link is a bad link before it is a bad form
        self.csrf.check(request, form)
        confirmed = await self.subscriptions.confirm(token, _web(request))
        context = {
            "already": confirmed.already,
            "token": self.subscriptions.subscriber_token(confirmed.subscriber_id),
        }
        return self.views.page(request, "web/confirmed.html", context)

    # Preferences

    async def _subscriber(self, request: Request) -> tuple[str, SubscriberView]:
        token = _token(request)
        subscriber_id = self.subscriptions.subscriber_id(token)
        return token, await self.subscriptions.subscriber(subscriber_id)

    async def _preferences_page(
        self, request: Request, subscriber: SubscriberView, token: str, **context: object
    ) -> HTMLResponse:
        organizations = await self.subscriptions.organizations()
        if "places" not in context:
            context["places"] = await self.subscriptions.places(subscriber.id)
        values = {
            "subscriber": subscriber,
            "token": token,
            "organizations": organizations,
            "topics": list(Topic),
            "regions": regions(),
            "errors": {},
            "saved": False,
            "places_text": "",
            "unknown_places": [],
            **context,
        }
        status = 400 if values["errors"] else 200
        return self.views.page(request, "web/preferences.html", values, status=status)

    async def preferences_form(self, request: Request) -> Response:
        token, subscriber = await self._subscriber(request)
        saved = request.query_params.get("saved") == "1"
        return await self._preferences_page(request, subscriber, token, saved=saved)

    async def change_preferences(self, request: Request) -> Response:
        token, subscriber = await self._subscriber(request)
        form = await read_form(request)
        self.csrf.check(request, form)
        organizations = await self.subscriptions.organizations()
        read = read_preferences(form, organizations={choice.slug for choice in organizations})
        if read.preferences is None or read.errors:
            return await self._preferences_page(
                request,
                subscriber,
                token,
                errors=read.errors,
                places=read.places,
                places_text=read.places_text,
                unknown_places=read.unknown_places,
            )
        changed = await self.subscriptions.change_preferences(
            subscriber.id, read.preferences, _web(request), places=read.places
        )
        prefix = prefix_of(changed.preferences.language)
        return RedirectResponse(f"{prefix}/preferences/{token}?saved=1", status_code=303)

    # Leaving

    async def unsubscribe_help(self, request: Request) -> Response:
        return self.views.page(request, "web/unsubscribe_help.html")

    async def unsubscribe_form(self, request: Request) -> Response:
        token, subscriber = await self._subscriber(request)
        return self.views.page(request, "web/unsubscribe.html", {"subscriber": subscriber, "token": token})

    async def unsubscribe(self, request: Request) -> Response:
        """The button on the unsubscribe page (with CSRF, like every form)."""
        token = _token(request)
        subscriber_id = self.subscriptions.subscriber_id(token)
        form = await read_form(request)
        self.csrf.check(request, form)
        subscriber = await self.subscriptions.unsubscribe(subscriber_id, _web(request))
        return self.views.page(request, "web/unsubscribed.html", {"subscriber": subscriber, "token": token})

    async def one_click_unsubscribe(self, request: Request) -> Response:
        """RFC 8058: a mailbox provider POSTs `List-Unsubscribe=One-Click`: no cookie, login or CSRF token."""
        token = _token(request)
        subscriber_id = self.subscriptions.subscriber_id(token)
        form = await read_form(request)
        if _ONE_CLICK not in form.multi_items():
            raise PageError(400, "bad_request")
        subscriber = await self.subscriptions.unsubscribe(
            subscriber_id, _web(request, "one-click (RFC 8058)")
        )
        return self.views.page(request, "web/unsubscribed.html", {"subscriber": subscriber, "token": token})

    # The archive

    async def archive_index(self, request: Request) -> Response:
        entries = await run_in_threadpool(self.archive.entries, language_of(request.url.path))
        return self.views.page(request, "web/archive.html", {"entries": entries})

    async def archive_issue(self, request: Request) -> Response:
        number = _issue_number(request)
        try:
            archived = await run_in_threadpool(self.archive.issue, number, language_of(request.url.path))
        except NotFound:
            raise PageError(404, "not_found") from None
        context = {**archived.view, "greeting": archived.greeting}
        return _public(self.views.page(request, "web/archive_issue.html", context))

    async def archive_feed(self, request: Request) -> Response:
        language = language_of(request.url.path)
        base_url = self.subscriptions.settings.base_url
        atom = await run_in_threadpool(self.archive.feed, language, base_url=base_url)
        return Response(atom, media_type="application/atom+xml; charset=utf-8", headers=_PUBLIC)

    # About the site

    async def places_script(self, request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=3600"}
        return Response(_script(_PLACES_SCRIPT), media_type="text/javascript", headers=headers)

    async def privacy(self, request: Request) -> Response:
        return self.views.page(request, "web/privacy.html")


_PUBLIC = {"Cache-Control": "public, max-age=300"}


def _public(response: Response) -> Response:
    """A page the same for every reader may be cached, unless it sets a cookie (a first visit's CSRF key)."""
    if "set-cookie" not in response.headers:
        response.headers.update(_PUBLIC)
    return response
