"""The console's forms as posted: small, without files, each field cut to its limit."""

from __future__ import annotations

__all__ = ["LoginFields", "read_form", "read_login", "read_send_time"]

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import FormData
from starlette.requests import Request

from outreach.calendar import JST
from outreach.console.paths import safe_next

_MAX_FIELDS = 20
_LIMITS = {"email": 254, "password": 1024, "code": 20, "next": 500, "at": 40}
# What a browser's datetime-local field sends (seconds when a step asks for them), or the same with a space.
_SEND_TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


async def read_form(
    request: Request, *, max_fields: int = _MAX_FIELDS, max_part_size: int = 4096, max_files: int = 0
) -> FormData | None:
    """The posted form, or None for one no page of ours sends (a file, where the page takes none); Starlette
    answers 400 for one it cannot parse. A page with long texts or many fields reads it with larger limits."""
    form = await request.form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)
    files = [value for _, value in form.multi_items() if not isinstance(value, str)]
    if len(files) > max_files:
        return None
    return form


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[: _LIMITS[name]] if isinstance(value, str) else ""


@dataclass(frozen=True)
class LoginFields:
    email: str
    password: str
    code: str
    next_page: str | None


def read_login(form: FormData) -> LoginFields:
    """What the login form sent. The password is kept as typed (spaces are part of it); never shown back."""
    return LoginFields(
        email=_field(form, "email").strip(),
        password=_field(form, "password"),
        code=_field(form, "code"),
        next_page=safe_next(_field(form, "next")),
    )


def read_send_time(fields: Mapping[str, object]) -> tuple[str, datetime | None]:
    """The send time as typed (kept for the form) and as a moment in Japan time; None when it is no
    date and time."""
    given = fields.get("at")
    text = given[: _LIMITS["at"]].strip() if isinstance(given, str) else ""
    for layout in _SEND_TIME_FORMATS:
        try:
            return text, datetime.strptime(text, layout).replace(tzinfo=JST)
        except ValueError:
            continue
    return text, None
