"""What the console needs from the web app it is mounted in, so that it never imports the audience side."""

from __future__ import annotations

__all__ = ["FormTokens"]

from typing import Protocol

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response


class FormTokens(Protocol):
    """CSRF tokens for forms (subscribers.web.csrf.Csrf is one): the composition root hands it over."""

    def issue(self, request: Request) -> tuple[str, str | None]:
        """A token for the page's forms, and a new cookie key to set when the browser had none."""
        ...

    def set_cookie(self, response: Response, key: str) -> None: ...

    def check(self, request: Request, form: FormData) -> None:
        """Raise InvalidInput unless the form carries a valid token for this browser."""
        ...
